"""A real Celery worker on Redis delivers: the webhook's 500 is retried by the worker with
its backoff, and the receiver gets the event exactly twice (the failure, then the success)."""

from __future__ import annotations

import os
import signal
import subprocess
from typing import Any

import pytest
from django.db import connection

from governance.channels.models import Delivery
from governance.channels.services import ChannelEvent, channel_events_publish
from tests.conftest import REDIS_URL
from tests.ingest.test_async_import import _reset_producers, _wait, _worker


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_delivers_and_retries_after_a_500(
    receiver: Any, make_channel: Any, team_alpha: Any
) -> None:
    import redis

    from governance.celery import app

    s = connection.settings_dict
    db_url = f"postgres://{s['USER']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"
    redis.Redis.from_url(REDIS_URL).flushdb()
    receiver.answers = [500, 200]
    make_channel("webhook", receiver.url)
    app.conf.update(task_always_eager=False, broker_url=REDIS_URL)
    _reset_producers(app)
    worker = _worker("celery", db_url)
    try:
        event = ChannelEvent(trigger="sla", key="sla-soon:1", title="due soon")
        channel_events_publish(team_id=team_alpha.pk, events=[event])  # autocommit: sent now
        _wait(lambda: Delivery.objects.filter(status="sent").exists(), 60, "the worker's delivery")
        delivery = Delivery.objects.get()
        assert (delivery.attempts, delivery.response_code) == (2, 200)
        assert len(receiver.requests) == 2
        # the same event again: no second delivery, nothing more sent
        channel_events_publish(team_id=team_alpha.pk, events=[event])
        assert Delivery.objects.count() == 1
        assert len(receiver.requests) == 2
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
        app.conf.update(task_always_eager=True, broker_url=None)
        _reset_producers(app)
