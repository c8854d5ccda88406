"""Who hears about what, by e-mail: exception requests reach the other leads, decisions
the requester, expiries both; the daily digest each assignee. Through the real services,
Celery (eager, JSON round trip) and Django's mail outbox."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from governance.findings.models import Finding
from governance.policies.notify import sla_digest_send
from governance.policies.services import exceptions_expire
from tests.conftest import _user

pytestmark = pytest.mark.django_db


@pytest.fixture
def finding(team_alpha: Any, team_beta: Any, seed_findings: Any, outsider: Any) -> Finding:
    seed_findings(team_alpha, "churn", [("CVE-1", "critical")])
    seed_findings(team_beta, "secret", [("CVE-9", "critical")])
    return Finding.objects.get(team=team_alpha)


def _request(client: Any, finding: Finding) -> Any:
    return client.post(
        "/api/v1/exceptions/",
        {"finding": finding.pk, "days": 30, "justification": "WAF rule blocks the vector"},
        content_type="application/json",
    )


def _decide(client: Any, exception_id: int, verb: str = "approve", reason: str = "") -> Any:
    return client.post(
        f"/api/v1/exceptions/{exception_id}/{verb}/",
        {"reason": reason} if reason else {},
        content_type="application/json",
    )


def test_a_request_mails_every_other_lead_of_the_team(
    client_of: Any,
    lead: Any,
    member: Any,
    viewer: Any,
    finding: Finding,
    team_alpha: Any,
    settings: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    settings.WARDEN_BASE_URL = "https://warden.example.com/"
    second = _user("second-lead", team_alpha, "lead")
    silent = _user("no-mail-lead", team_alpha, "lead")
    silent.email = ""
    silent.save()
    with django_capture_on_commit_callbacks(execute=True):
        response = _request(client_of(lead), finding)  # a lead asks: only the other lead hears
    assert response.status_code == 201, response.content
    assert [m.to for m in mail.outbox] == [[second.email]]
    sent = mail.outbox[0]
    exception_id = response.json()["id"]
    assert sent.subject == (
        f"[Warden] Exception #{exception_id} for finding #{finding.pk} of churn "
        "awaits your decision"
    )
    assert "WAF rule blocks the vector" in sent.body
    assert "https://warden.example.com/policies/" in sent.body
    mail.outbox.clear()
    # members, viewers and the other team's lead are never asked to decide
    with django_capture_on_commit_callbacks(execute=True):
        _decide(client_of(second), exception_id, "reject", "no")
        _request(client_of(member), finding)
    recipients = sorted(address for m in mail.outbox for address in m.to)
    assert recipients == sorted([lead.email, lead.email, second.email])


def test_the_requester_hears_the_decision(
    client_of: Any,
    lead: Any,
    member: Any,
    finding: Finding,
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        exception_id = _request(client_of(member), finding).json()["id"]
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = _decide(client_of(lead), exception_id, reason="until the upgrade ships")
    assert response.status_code == 200, response.content
    [sent] = mail.outbox
    assert sent.to == [member.email]
    assert sent.subject.startswith(f"[Warden] Exception #{exception_id} approved")
    assert "until the upgrade ships" in sent.body
    assert "The risk is accepted until" in sent.body


def test_an_expiry_mails_the_requester_and_the_leads_once_each(
    client_of: Any,
    lead: Any,
    member: Any,
    finding: Finding,
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        exception_id = _request(client_of(member), finding).json()["id"]
        _decide(client_of(lead), exception_id)
    mail.outbox.clear()
    with (
        time_machine.travel(timezone.now() + timedelta(days=31)),
        django_capture_on_commit_callbacks(execute=True),
    ):
        exceptions_expire()
    assert sorted(m.to[0] for m in mail.outbox) == sorted([lead.email, member.email])
    body = mail.outbox[0].body
    assert f"#{exception_id}: finding #{finding.pk} of churn" in body
    assert "its finding is open again" in body
    assert Finding.objects.get(pk=finding.pk).status == "open"


def test_the_daily_digest_lists_each_assignees_findings_past_due_or_due_soon(
    member: Any, teammate: Any, team_alpha: Any, seed_findings: Any, outsider: Any
) -> None:
    today = timezone.localdate()
    seed_findings(team_alpha, "churn", [("OLD", "high"), ("SOON", "medium"), ("LATER", "low"),
                                        ("DONE", "high")])  # fmt: skip
    due = {"OLD": -3, "SOON": 2, "LATER": 30, "DONE": -1}
    for rule, days in due.items():
        Finding.objects.filter(rule_id=rule).update(
            assignee=member, sla_due=today + timedelta(days=days)
        )
    Finding.objects.filter(rule_id="DONE").update(status="resolved")
    assert sla_digest_send(today=today) == 1  # teammate has nothing: no mail
    [sent] = mail.outbox
    assert sent.to == [member.email]
    assert sent.subject == "[Warden] 1 finding past due, 1 due within 7 days"
    assert sent.body.index("finding OLD") < sent.body.index("finding SOON")  # overdue first
    assert "(past due)" in sent.body
    assert "finding LATER" not in sent.body
    assert "finding DONE" not in sent.body


def test_beat_sends_the_digest_daily(member: Any, team_alpha: Any, seed_findings: Any) -> None:
    from governance.celery import app
    from governance.policies.notify import sla_digest_task

    schedule = {e["task"]: e["schedule"] for e in app.conf.beat_schedule.values()}
    assert "governance.policies.notify.sla_digest_task" in schedule
    seed_findings(team_alpha, "churn", [("OLD", "high")])
    Finding.objects.update(assignee=member, sla_due=timezone.localdate() - timedelta(days=1))
    assert sla_digest_task.delay().get() == 1  # eager here: through JSON, like a worker
    assert mail.outbox[0].to == [member.email]


def test_the_digest_stops_when_the_assignee_leaves_the_team(
    member: Any, team_alpha: Any, seed_findings: Any
) -> None:
    from governance.accounts.models import Membership

    seed_findings(team_alpha, "churn", [("OLD", "high")])
    Finding.objects.update(assignee=member, sla_due=timezone.localdate() - timedelta(days=1))
    Membership.objects.filter(user=member, team=team_alpha).delete()
    assert sla_digest_send(today=timezone.localdate()) == 0
    assert mail.outbox == []


def test_a_requester_who_left_the_team_hears_nothing_more(
    client_of: Any,
    lead: Any,
    member: Any,
    finding: Finding,
    team_alpha: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    from governance.accounts.models import Membership

    with django_capture_on_commit_callbacks(execute=True):
        exception_id = _request(client_of(member), finding).json()["id"]
    Membership.objects.filter(user=member, team=team_alpha).delete()
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        _decide(client_of(lead), exception_id)
    assert mail.outbox == []
    with (
        time_machine.travel(timezone.now() + timedelta(days=31)),
        django_capture_on_commit_callbacks(execute=True),
    ):
        exceptions_expire()
    assert [m.to for m in mail.outbox] == [[lead.email]]  # the lead still hears of the expiry
