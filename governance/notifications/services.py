"""Delivery: how Warden tells people. It knows users and teams, nothing of findings or
policies; the apps that decide who hears what (``policies.notify``) build the messages and
call :func:`mail_send` from tasks that run after their change commits, so a mail server that
is down never undoes or blocks a decision.

Users without an e-mail address, or inactive, are skipped.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMessage, get_connection
from django.db.models import QuerySet
from django.template.loader import render_to_string

from governance.accounts.models import Membership, Role


def absolute_url(path: str) -> str:
    """``path`` as a link people can follow (``WARDEN_BASE_URL`` + path)."""
    return settings.WARDEN_BASE_URL.rstrip("/") + path


def team_leads(team_id: int) -> QuerySet[Any]:
    return get_user_model().objects.filter(
        memberships__team_id=team_id, memberships__role=Role.LEAD
    )


def in_team(user: Any, team_id: int) -> bool:
    """Whether ``user`` still belongs to the team: mail about a team reaches only its people."""
    return user is not None and Membership.objects.filter(user=user, team_id=team_id).exists()


def mail_send(messages: Iterable[tuple[Any, str, str, dict[str, Any]]]) -> int:
    """Send ``(user, subject, template, context)`` mails over one connection; returns how
    many were sent (users without an address or inactive are skipped)."""
    mails = []
    for user, subject, template, context in messages:
        if not user.is_active or not user.email:
            continue
        body = render_to_string(template, {**context, "user": user})
        # names in a subject come from users and reports: one line, or the header is refused
        subject = " ".join(f"[Warden] {subject}".split())
        mails.append(EmailMessage(subject, body, to=[user.email]))
    if not mails:
        return 0
    return get_connection().send_messages(mails) or 0
