"""Deliveries against a real HTTP server on 127.0.0.1: the webhook signature verifies, a 500
is retried, a retried or repeated send never reaches the receiver twice, Slack gets its
message shape, and private addresses are refused unless allowed. Celery runs eagerly with the
JSON round trip; the delivery log is what leads read."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any

import pytest
from django.core import mail

from governance.channels.models import Delivery
from governance.channels.services import ChannelEvent, channel_events_publish, delivery_attempt
from governance.channels.tasks import delivery_send_task
from governance.lib.outbound import OutboundRefused, url_check

pytestmark = pytest.mark.django_db

EVENT = ChannelEvent(
    trigger="critical_finding",
    key="finding-critical:1",
    title="New critical finding: CVE-2024-3094 in churn",
    text="xz backdoor <script>",
    url="/findings/1/",
    severity="critical",
    data={"finding": 1},
)


def _verify(secret: str, request: Any) -> bool:
    """What a receiver does (the snippet of docs/channels.md)."""
    timestamp = request.headers["x-warden-timestamp"]
    expected = hmac.new(
        secret.encode(), timestamp.encode() + b"." + request.body, hashlib.sha256
    ).hexdigest()
    given = request.headers["x-warden-signature"].removeprefix("sha256=")
    return hmac.compare_digest(expected, given) and abs(time.time() - int(timestamp)) < 300


def test_a_webhook_is_signed_and_the_receiver_verifies_it(
    receiver: Any, make_channel: Any, team_alpha: Any, django_capture_on_commit_callbacks: Any
) -> None:
    channel = make_channel("webhook", receiver.url)
    with django_capture_on_commit_callbacks(execute=True):
        assert channel_events_publish(team_id=team_alpha.pk, events=[EVENT]) == 1
    (request,) = receiver.requests
    assert _verify(channel.secret, request)
    assert not _verify("another secret", request)
    body = json.loads(request.body)
    assert body["key"] == "finding-critical:1"
    assert body["trigger"] == "critical_finding"
    assert body["team"] == team_alpha.slug
    assert body["url"].endswith("/findings/1/")
    assert request.headers["x-warden-event"] == "critical_finding"
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.response_code) == ("sent", 1, 200)


def test_a_500_is_retried_and_a_retry_never_sends_twice(
    receiver: Any, make_channel: Any, team_alpha: Any, django_capture_on_commit_callbacks: Any
) -> None:
    receiver.answers = [500, 200]
    make_channel("webhook", receiver.url)
    with django_capture_on_commit_callbacks(execute=True):
        channel_events_publish(team_id=team_alpha.pk, events=[EVENT])
    assert len(receiver.requests) == 2  # the 500, then the retry that succeeded
    assert receiver.requests[0].body == receiver.requests[1].body
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.response_code) == ("sent", 2, 200)
    # the message redelivered (worker lost after sending), the event published again, the
    # task run again: nothing more reaches the receiver
    assert delivery_send_task.delay(delivery.pk).get() == "sent"
    with django_capture_on_commit_callbacks(execute=True):
        assert channel_events_publish(team_id=team_alpha.pk, events=[EVENT]) == 0
    assert delivery_attempt(delivery_id=delivery.pk).status == "sent"
    assert len(receiver.requests) == 2
    assert Delivery.objects.count() == 1


def test_a_delivery_that_keeps_failing_stops_after_the_attempts_limit(
    receiver: Any,
    make_channel: Any,
    team_alpha: Any,
    settings: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    settings.WARDEN_WEBHOOK_MAX_ATTEMPTS = 3
    receiver.answers = [503]
    make_channel("webhook", receiver.url)
    with django_capture_on_commit_callbacks(execute=True):
        channel_events_publish(team_id=team_alpha.pk, events=[EVENT])
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.response_code) == ("failed", 3, 503)
    assert delivery.last_error.startswith("HTTP 503")
    assert len(receiver.requests) == 3


def test_a_4xx_fails_at_once(
    receiver: Any, make_channel: Any, team_alpha: Any, django_capture_on_commit_callbacks: Any
) -> None:
    receiver.answers = [404]
    make_channel("webhook", receiver.url)
    with django_capture_on_commit_callbacks(execute=True):
        channel_events_publish(team_id=team_alpha.pk, events=[EVENT])
    assert Delivery.objects.get().status == "failed"
    assert len(receiver.requests) == 1


def test_slack_gets_text_and_blocks(
    receiver: Any, make_channel: Any, team_alpha: Any, django_capture_on_commit_callbacks: Any
) -> None:
    make_channel("slack", receiver.url)
    with django_capture_on_commit_callbacks(execute=True):
        channel_events_publish(team_id=team_alpha.pk, events=[EVENT])
    (request,) = receiver.requests
    body = json.loads(request.body)
    assert set(body) == {"text", "blocks"}
    assert body["text"] == EVENT.title
    types = [b["type"] for b in body["blocks"]]
    assert types == ["header", "section", "actions", "context"]
    assert body["blocks"][0]["text"] == {"type": "plain_text", "text": EVENT.title}
    # user text is escaped for mrkdwn
    assert body["blocks"][1]["text"]["text"] == "xz backdoor &lt;script&gt;"
    assert body["blocks"][2]["elements"][0]["url"].endswith("/findings/1/")
    assert "x-warden-signature" not in request.headers


def test_email_channels_reach_the_leads(
    make_channel: Any,
    team_alpha: Any,
    lead: Any,
    member: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    make_channel("email")
    with django_capture_on_commit_callbacks(execute=True):
        channel_events_publish(team_id=team_alpha.pk, events=[EVENT])
    assert [m.to for m in mail.outbox] == [[lead.email]]
    assert EVENT.title in mail.outbox[0].subject
    assert Delivery.objects.get().status == "sent"


def test_only_subscribed_enabled_channels_hear_an_event(
    receiver: Any,
    make_channel: Any,
    team_alpha: Any,
    team_beta: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    make_channel("webhook", receiver.url, name="sla-only", triggers=["sla"])
    off = make_channel("webhook", receiver.url, name="off")
    off.enabled = False
    off.save()
    make_channel("webhook", receiver.url, name="beta's", team=team_beta)
    with django_capture_on_commit_callbacks(execute=True):
        assert channel_events_publish(team_id=team_alpha.pk, events=[EVENT]) == 0
    assert receiver.requests == []


def test_private_addresses_are_refused_unless_allowed(
    receiver: Any,
    make_channel: Any,
    team_alpha: Any,
    settings: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    make_channel("webhook", receiver.url)
    settings.WARDEN_WEBHOOK_ALLOW_PRIVATE = False
    for url in (
        "http://127.0.0.1/x",
        "http://10.0.0.1/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/",
        "http://localhost/",
        "ftp://example.com/",
        "http://u:p@example.com/",
        "http://[::ffff:127.0.0.1]/",
    ):
        with pytest.raises(OutboundRefused):
            url_check(url)
    with django_capture_on_commit_callbacks(execute=True):
        channel_events_publish(team_id=team_alpha.pk, events=[EVENT])
    delivery = Delivery.objects.get()
    assert delivery.status == "failed"  # refused at send time too, without retries
    assert delivery.last_error.startswith("refused:")
    assert delivery.attempts == 1
    assert receiver.requests == []


def test_the_documented_verification_snippet_accepts_warden_and_nothing_else(
    receiver: Any, make_channel: Any, team_alpha: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from pathlib import Path

    docs = (Path(__file__).resolve().parents[2] / "docs" / "channels.md").read_text()
    snippet = docs.split("```python\n", 1)[1].split("```", 1)[0]
    namespace: dict[str, Any] = {}
    exec(compile(snippet, "docs/channels.md", "exec"), namespace)  # noqa: S102 - our own docs
    check = namespace["warden_signature_ok"]
    channel = make_channel("webhook", receiver.url)
    with django_capture_on_commit_callbacks(execute=True):
        channel_events_publish(team_id=team_alpha.pk, events=[EVENT])
    (request,) = receiver.requests
    headers = {
        "X-Warden-Timestamp": request.headers["x-warden-timestamp"],
        "X-Warden-Signature": request.headers["x-warden-signature"],
    }
    assert check(channel.secret, headers, request.body)
    assert not check(channel.secret, headers, request.body + b" ")
    assert not check("wrong", headers, request.body)
    stale = {**headers, "X-Warden-Timestamp": str(int(headers["X-Warden-Timestamp"]) - 3600)}
    assert not check(channel.secret, stale, request.body)


def test_the_sweep_hands_over_what_the_broker_never_took_and_closes_lost_sends(
    receiver: Any, make_channel: Any, team_alpha: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from governance.channels.services import deliveries_sweep

    make_channel("webhook", receiver.url)
    # published, but the on_commit hand-over never ran (the broker was down)
    channel_events_publish(team_id=team_alpha.pk, events=[EVENT])
    lost = ChannelEvent(trigger="sla", key="sla-soon:9", title="lost mid-send")
    channel_events_publish(team_id=team_alpha.pk, events=[lost])
    Delivery.objects.filter(key=lost.key).update(status="sending", attempts=1)
    assert deliveries_sweep() == {"requeued": 0, "lost": 0}  # too recent to judge
    later = timezone.now() + timedelta(minutes=20)
    with django_capture_on_commit_callbacks(execute=True):
        assert deliveries_sweep(now=later) == {"requeued": 1, "lost": 1}
    assert len(receiver.requests) == 1  # the pending one, once; the lost one never resent
    statuses = dict(Delivery.objects.values_list("key", "status"))
    assert statuses == {EVENT.key: "sent", lost.key: "failed"}
