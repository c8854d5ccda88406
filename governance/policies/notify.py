"""Who hears what about governance decisions, by e-mail (delivered by
:mod:`governance.notifications.services`). The tasks run after the deciding transaction
commits, are retried when the mail server is unreachable, and take ids only.

- an exception is requested: the team's leads, except the requester (someone must decide:
  four eyes);
- it is approved or rejected: the requester;
- it expires: the requester and the team's leads, one mail each listing every exception of
  that run that concerns them;
- the daily SLA digest: each user with assigned active findings past their due date or due
  within :data:`DUE_SOON_DAYS` days, one mail with all of them.

People no longer in the team hear nothing more about it.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from typing import Any

from celery import shared_task
from django.conf import settings
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from governance.accounts.models import Membership, Role
from governance.findings.models import ACTIVE_STATUSES, Finding
from governance.notifications.services import absolute_url, in_team, mail_send, team_leads
from governance.policies.models import RiskException

DUE_SOON_DAYS = 7
#: Most findings listed in one digest mail (the rest are counted).
DIGEST_LIMIT = 50
_RETRY = {"autoretry_for": (OSError,), "retry_backoff": 60, "max_retries": 5}


def exception_requested_notify(*, exception_id: int) -> int:
    exception = RiskException.objects.select_related("model", "team", "requested_by").get(
        pk=exception_id
    )
    context = {"exception": exception, "decide_url": absolute_url(reverse("policies:list"))}
    subject = (
        f"Exception #{exception.pk} for {exception.subject} of {exception.model.name} "
        "awaits your decision"
    )
    return mail_send(
        (lead, subject, "notifications/exception_requested.txt", context)
        for lead in team_leads(exception.team_id).exclude(pk=exception.requested_by_id)
    )


def exception_decided_notify(*, exception_id: int) -> int:
    exception = RiskException.objects.select_related("model", "requested_by", "decided_by").get(
        pk=exception_id
    )
    if not in_team(exception.requested_by, exception.team_id):
        return 0
    subject = (
        f"Exception #{exception.pk} {exception.status}: "
        f"{exception.subject} of {exception.model.name}"
    )
    context = {
        "exception": exception,
        "model_url": absolute_url(reverse("web:model", args=[exception.model_id])),
    }
    return mail_send(
        [(exception.requested_by, subject, "notifications/exception_decided.txt", context)]
    )


def exceptions_expired_notify(*, exception_ids: list[int], reopened_finding_ids: list[int]) -> int:
    exceptions = list(
        RiskException.objects.filter(pk__in=exception_ids)
        .select_related("model", "requested_by")
        .order_by("id")
    )
    reopened = set(reopened_finding_ids)
    team_ids = {e.team_id for e in exceptions}
    # (team, user) of every member of these teams, and their leads: two queries in all
    in_team = set(Membership.objects.filter(team_id__in=team_ids).values_list("team_id", "user_id"))
    leads_by_team: dict[int, list[Any]] = defaultdict(list)
    for membership in Membership.objects.filter(
        team_id__in=team_ids, role=Role.LEAD
    ).select_related("user"):
        leads_by_team[membership.team_id].append(membership.user)
    per_user: dict[Any, list[RiskException]] = defaultdict(list)
    for exception in exceptions:
        people = {u.pk: u for u in leads_by_team[exception.team_id]}
        requester = exception.requested_by
        if requester is not None and (exception.team_id, requester.pk) in in_team:
            people[requester.pk] = requester
        for user in people.values():
            per_user[user].append(exception)
    return mail_send(
        (
            user,
            f"{len(items)} exception{'s' if len(items) != 1 else ''} expired",
            "notifications/exceptions_expired.txt",
            {
                "items": [(e, e.finding_id in reopened) for e in items],
                "base_url": settings.WARDEN_BASE_URL.rstrip("/"),
            },
        )
        for user, items in per_user.items()
    )


def sla_digest_send(*, today: date) -> int:
    """One mail per assignee listing their active findings past due or due within
    :data:`DUE_SOON_DAYS` days (overdue first, then soonest due), in teams they still belong
    to."""
    horizon = today + timedelta(days=DUE_SOON_DAYS)
    findings = (
        Finding.objects.filter(
            status__in=ACTIVE_STATUSES, assignee__isnull=False, sla_due__lte=horizon
        )
        # only while the assignee is still in the finding's team: mail never leaks a team's
        # findings to someone who has left it
        .filter(team__memberships__user=F("assignee"))
        .select_related("model", "assignee")
        .order_by("assignee_id", "sla_due", "id")
    )
    per_user: dict[Any, list[Finding]] = defaultdict(list)
    for finding in findings:
        per_user[finding.assignee].append(finding)
    messages = []
    for user, items in per_user.items():
        overdue = sum(1 for f in items if f.sla_due is not None and f.sla_due < today)
        subject = (
            f"{overdue} finding{'s' if overdue != 1 else ''} past due, "
            f"{len(items) - overdue} due within {DUE_SOON_DAYS} days"
        )
        context = {
            "today": today,
            "items": items[:DIGEST_LIMIT],
            "more": max(0, len(items) - DIGEST_LIMIT),
            "base_url": settings.WARDEN_BASE_URL.rstrip("/"),
        }
        messages.append((user, subject, "notifications/sla_digest.txt", context))
    return mail_send(messages)


@shared_task(**_RETRY)
def exception_requested_notify_task(exception_id: int) -> int:
    return exception_requested_notify(exception_id=exception_id)


@shared_task(**_RETRY)
def exception_decided_notify_task(exception_id: int) -> int:
    return exception_decided_notify(exception_id=exception_id)


@shared_task(**_RETRY)
def exceptions_expired_notify_task(
    exception_ids: list[int], reopened_finding_ids: list[int]
) -> int:
    return exceptions_expired_notify(
        exception_ids=exception_ids, reopened_finding_ids=reopened_finding_ids
    )


@shared_task(**_RETRY)
def sla_digest_task() -> int:
    """Beat, daily: each assignee's findings past due or due soon."""
    return sla_digest_send(today=timezone.localdate())
