"""Channels: publishing events to a team's channels and delivering them, exactly once each.

The apps that know what happened (findings imported, a gate, an alert rule, an SLA clock, an
exception) call :func:`channel_events_publish` inside their own transaction. It writes one
:class:`~governance.channels.models.Delivery` per subscribed channel (the key is unique per
channel, so publishing the same event again is a no-op) and hands immediate ones to
``delivery_send_task`` once the transaction commits; digest channels collect them for the
daily digest.

Sending is idempotent: :func:`delivery_attempt` claims a delivery with a compare-and-set on its
status (``pending``/``retrying`` to ``sending``), so a task that runs twice (a redelivered
message, a retry racing the original) sends at most once; only the claimant sends. A failure
that may pass (network, timeout, HTTP 429 or 5xx) goes back to ``retrying`` and the task
retries with exponential backoff; other answers (4xx, a refused URL) fail at once.
"""

from __future__ import annotations

import secrets
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from governance.accounts.models import Team
from governance.channels.messages import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    signature,
    slack_body,
    webhook_body,
)
from governance.channels.models import DIGEST_TRIGGER, TEST_TRIGGER, Channel, Delivery, Trigger
from governance.lib.api_errors import ApplicationError
from governance.lib.outbound import OutboundRefused, post_json, url_check
from governance.notifications.services import absolute_url, mail_send, team_leads

#: Most events listed in one digest message (the rest are counted).
DIGEST_LIMIT = 100
_HOUR = timedelta(hours=1)


@dataclass(frozen=True)
class ChannelEvent:
    """Something a team may want to hear about. ``key`` names it once and for all
    (``finding-critical:42``); ``url`` is a path in Warden (made absolute here)."""

    trigger: str
    key: str
    title: str
    text: str = ""
    url: str = ""
    severity: str = ""
    data: dict[str, Any] = field(default_factory=dict)

    def payload(self) -> dict[str, Any]:
        return {
            "title": self.title[:500],
            "text": self.text[:3000],
            "url": absolute_url(self.url) if self.url else "",
            "severity": self.severity,
            "data": self.data,
        }


# -- channel management (leads) -----------------------------------------------------------------


def _validated(*, kind: str, url: str, triggers: list[str], mode: str) -> list[str]:
    if kind not in Channel.Kind.values:
        raise ApplicationError("unknown channel kind", detail={"kind": [kind]})
    if mode not in Channel.Mode.values:
        raise ApplicationError("unknown delivery mode", detail={"mode": [mode]})
    unknown = sorted(set(triggers) - set(Trigger.values))
    if unknown:
        raise ApplicationError("unknown triggers", detail={"triggers": unknown})
    if kind == Channel.Kind.EMAIL:
        if url:
            raise ApplicationError("an e-mail channel has no URL", detail={"url": [url]})
    else:
        if not url:
            raise ApplicationError("this channel needs a URL", detail={"url": ["required"]})
        try:
            url_check(url, resolve=False)
        except OutboundRefused as exc:
            raise ApplicationError("this URL cannot be used", detail={"url": [str(exc)]}) from exc
    return [t for t in Trigger.values if t in set(triggers)]


def channel_create(
    *,
    team: Team,
    name: str,
    kind: str,
    url: str = "",
    triggers: list[str],
    mode: str = Channel.Mode.IMMEDIATE,
    created_by: Any = None,
) -> Channel:
    ordered = _validated(kind=kind, url=url, triggers=triggers, mode=mode)
    try:
        with transaction.atomic():
            return Channel.objects.create(
                team=team,
                name=name,
                kind=kind,
                url=url,
                secret=secrets.token_urlsafe(32) if kind == Channel.Kind.WEBHOOK else "",
                triggers=ordered,
                mode=mode,
                created_by=created_by if getattr(created_by, "pk", None) else None,
            )
    except IntegrityError as exc:
        raise ApplicationError(
            "a channel of that name exists", detail={"name": ["already used in this team"]}
        ) from exc


def channel_update(
    *, channel: Channel, triggers: list[str], mode: str, enabled: bool, url: str | None = None
) -> Channel:
    url = channel.url if url is None else url
    channel.triggers = _validated(kind=channel.kind, url=url, triggers=triggers, mode=mode)
    channel.url, channel.mode, channel.enabled = url, mode, enabled
    channel.save(update_fields=["triggers", "url", "mode", "enabled"])
    return channel


def channel_delete(*, channel: Channel) -> None:
    channel.delete()


def channel_test_send(*, channel: Channel) -> Delivery:
    """The "send test" button: one delivery now, whatever the channel's triggers and mode."""
    event = ChannelEvent(
        trigger=TEST_TRIGGER,
        key=f"test:{timezone.now().isoformat()}:{secrets.token_hex(4)}",
        title=f"Test message from Warden to {channel.name}",
        text="If you can read this, the channel works.",
    )
    with transaction.atomic():
        delivery = Delivery.objects.create(
            channel=channel, key=event.key, trigger=TEST_TRIGGER, payload=event.payload()
        )
        _send_on_commit([delivery.pk])
    return delivery


# -- publishing ---------------------------------------------------------------------------------


def _send_on_commit(delivery_ids: list[int]) -> None:
    if not delivery_ids:
        return

    def send() -> None:
        from governance.channels.tasks import delivery_send_task
        from governance.lib.queue import enqueue

        for pk in delivery_ids:
            enqueue(delivery_send_task, pk)

    transaction.on_commit(send)


def channels_listening(*, team_id: int, triggers: set[str] | None = None) -> list[Channel]:
    """The team's enabled channels subscribed to any of ``triggers`` (all when None): one
    query, so a caller can skip building events nobody hears."""
    return [
        c
        for c in Channel.objects.filter(team_id=team_id, enabled=True)
        if triggers is None or set(c.triggers) & triggers
    ]


def channel_events_publish(
    *, team_id: int, events: list[ChannelEvent], channels: list[Channel] | None = None
) -> int:
    """Record ``events`` for every enabled channel of the team subscribed to their trigger
    (``channels``: from :func:`channels_listening`, if the caller has them); an event
    already recorded for a channel (same key) is skipped. Immediate deliveries are sent
    after the caller's transaction commits. Returns how many deliveries were new."""
    if not events:
        return 0
    triggers = {e.trigger for e in events}
    if channels is None:
        channels = channels_listening(team_id=team_id, triggers=triggers)
    channels = [c for c in channels if set(c.triggers) & triggers]
    if not channels:
        return 0
    with transaction.atomic():
        keys = {e.key for e in events}
        seen = set(
            Delivery.objects.filter(channel__in=channels, key__in=keys).values_list(
                "channel_id", "key"
            )
        )
        rows = [
            Delivery(
                channel=c,
                key=e.key[:200],
                trigger=e.trigger,
                payload=e.payload(),
                status=Delivery.Status.DIGEST
                if c.mode == Channel.Mode.DIGEST
                else Delivery.Status.PENDING,
            )
            for c in channels
            for e in events
            if e.trigger in c.triggers and (c.pk, e.key[:200]) not in seen
        ]
        # a concurrent publisher of the same event loses the race quietly (unique key)
        Delivery.objects.bulk_create(rows, ignore_conflicts=True)
        immediate = [r.key for r in rows if r.status == Delivery.Status.PENDING]
        if immediate:
            _send_on_commit(
                list(
                    Delivery.objects.filter(
                        channel__in=channels, key__in=immediate, status=Delivery.Status.PENDING
                    ).values_list("pk", flat=True)
                )
            )
    return len(rows)


# -- delivering ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Attempt:
    """What one run of the send task did: ``retry_in`` seconds when it should run again."""

    status: str
    retry_in: int | None = None


def _backoff(attempts: int) -> int:
    return int(min(settings.WARDEN_WEBHOOK_RETRY_BASE_SECONDS * 2 ** (attempts - 1), 3600))


def _send(delivery: Delivery) -> tuple[int | None, str, bool]:
    """Send one delivery: (response code, error or "", whether a retry may help)."""
    channel = delivery.channel
    payload = delivery.payload
    if channel.kind == Channel.Kind.EMAIL:
        context = {"payload": payload, "team": channel.team, "channel": channel}
        try:
            sent = mail_send(
                (lead, payload.get("title", "Warden"), "channels/email.txt", context)
                for lead in team_leads(channel.team_id)
            )
        except OSError as exc:
            return None, f"mail server: {exc}", True
        return None, "" if sent else "no lead of the team has an e-mail address", False
    if channel.kind == Channel.Kind.SLACK:
        body = slack_body(trigger=delivery.trigger, team=channel.team.slug, payload=payload)
        headers: dict[str, str] = {}
    else:
        body = webhook_body(
            key=delivery.key, trigger=delivery.trigger, team=channel.team.slug, payload=payload
        )
        timestamp = str(int(time.time()))
        headers = {
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: signature(channel.secret, timestamp, body),
            "X-Warden-Event": delivery.trigger,
            "X-Warden-Delivery": delivery.key,
        }
    try:
        code, text = post_json(
            channel.url, body, headers, timeout=settings.WARDEN_WEBHOOK_TIMEOUT_SECONDS
        )
    except OutboundRefused as exc:
        return None, f"refused: {exc}", False
    except OSError as exc:
        return None, f"{type(exc).__name__}: {exc}"[:2000], True
    if 200 <= code < 300:
        return code, "", False
    return code, f"HTTP {code}: {text}"[:2000], code == 429 or code >= 500


def delivery_attempt(*, delivery_id: int) -> Attempt:
    """Try to send one delivery once. Claims it first (``pending``/``retrying`` to
    ``sending`` in one conditional UPDATE): whoever loses the claim, or finds it sent or
    failed, sends nothing."""
    claimed = Delivery.objects.filter(
        pk=delivery_id, status__in=(Delivery.Status.PENDING, Delivery.Status.RETRYING)
    ).update(status=Delivery.Status.SENDING, attempts=F("attempts") + 1, updated_at=timezone.now())
    delivery = (
        Delivery.objects.select_related("channel", "channel__team").filter(pk=delivery_id).first()
    )
    if delivery is None:
        return Attempt("gone")
    if not claimed:
        return Attempt(delivery.status)
    code, error, transient = _send(delivery)
    delivery.response_code = code
    delivery.last_error = error
    retry_in = None
    if not error:
        delivery.status = Delivery.Status.SENT
        delivery.sent_at = timezone.now()
    elif transient and delivery.attempts < settings.WARDEN_WEBHOOK_MAX_ATTEMPTS:
        delivery.status = Delivery.Status.RETRYING
        retry_in = _backoff(delivery.attempts)
    else:
        delivery.status = Delivery.Status.FAILED
    delivery.save(update_fields=["status", "response_code", "last_error", "sent_at", "updated_at"])
    return Attempt(delivery.status, retry_in)


# -- digests ------------------------------------------------------------------------------------


def channel_digests_build(*, today: date) -> list[int]:
    """One digest delivery per digest channel with events waiting (key ``digest:<date>``);
    the events it lists become ``digested``. Returns the digests' ids (sent on commit)."""
    created: list[int] = []
    with transaction.atomic():
        waiting = (
            Delivery.objects.select_for_update()
            .filter(status=Delivery.Status.DIGEST, channel__enabled=True)
            .order_by("channel_id", "created_at", "id")
        )
        per_channel: dict[int, list[Delivery]] = defaultdict(list)
        for delivery in waiting:
            per_channel[delivery.channel_id].append(delivery)
        for channel_id, items in per_channel.items():
            counts: dict[str, int] = defaultdict(int)
            for item in items:
                counts[item.trigger] += 1
            summary = ", ".join(f"{n} {Trigger(t).label.lower()}" for t, n in counts.items())
            digest, new = Delivery.objects.get_or_create(
                channel_id=channel_id,
                key=f"digest:{today.isoformat()}",
                defaults={
                    "trigger": DIGEST_TRIGGER,
                    "payload": {
                        "title": f"Warden daily digest: {len(items)} "
                        f"event{'s' if len(items) != 1 else ''}",
                        "text": summary,
                        "url": absolute_url("/"),
                        "severity": "",
                        "data": {"counts": dict(counts), "more": max(0, len(items) - DIGEST_LIMIT)},
                        "items": [
                            {"key": i.key, "trigger": i.trigger, **i.payload}
                            for i in items[:DIGEST_LIMIT]
                        ],
                    },
                },
            )
            if not new:
                continue  # today's digest is out; what came since waits for tomorrow's
            Delivery.objects.filter(pk__in=[i.pk for i in items]).update(
                status=Delivery.Status.DIGESTED, digest=digest
            )
            created.append(digest.pk)
        _send_on_commit(created)
    return created


# -- the sweep ----------------------------------------------------------------------------------

#: A delivery ``pending`` this long was never handed to a worker (the broker was down).
PENDING_GRACE = timedelta(minutes=5)
#: A delivery ``sending`` this long lost its worker mid-send.
SENDING_GRACE = timedelta(minutes=15)


def deliveries_sweep(*, now: datetime | None = None) -> dict[str, int]:
    """Hand deliveries that never reached a worker (or whose retry was lost) to one again,
    and close the ones whose worker died while sending: failed, never resent, since the
    receiver may have had it (at most once)."""
    now = now or timezone.now()
    lost = Delivery.objects.filter(
        status=Delivery.Status.SENDING, updated_at__lt=now - SENDING_GRACE
    ).update(
        status=Delivery.Status.FAILED,
        last_error="the worker was lost while sending; not resent (it may have arrived)",
        updated_at=now,
    )
    # a retry waits at most an hour (the backoff's cap)
    waiting = list(
        Delivery.objects.filter(
            Q(status=Delivery.Status.PENDING, updated_at__lt=now - PENDING_GRACE)
            | Q(status=Delivery.Status.RETRYING, updated_at__lt=now - PENDING_GRACE - _HOUR)
        ).values_list("pk", flat=True)[:1000]
    )
    from governance.channels.tasks import delivery_send_task
    from governance.lib.queue import enqueue

    for pk in waiting:
        enqueue(delivery_send_task, pk)
    return {"requeued": len(waiting), "lost": lost}
