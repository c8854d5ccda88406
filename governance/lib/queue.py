"""Handing work to Celery without ever failing the request that asked for it."""

from __future__ import annotations

import logging
from typing import Any

from kombu.exceptions import OperationalError as BrokerError

logger = logging.getLogger(__name__)


def enqueue(task: Any, *args: Any) -> bool:
    """``task.delay(*args)``; with the broker down, log and return False. Callers keep what
    the task needs in the database (a queued run, an unevaluated deployment), and a beat
    sweep hands it over once the broker is back. Returns whether the broker took it."""
    try:
        task.delay(*args)
    except (BrokerError, ConnectionError, OSError) as exc:
        logger.warning("broker unavailable; %s%r waits for its sweep: %s", task.name, args, exc)
        return False
    return True
