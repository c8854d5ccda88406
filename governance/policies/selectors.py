"""Reads of policies, exceptions and SLA clocks, always scoped to the caller's teams.

Organization defaults (``team`` null) govern every team's models, so every signed-in user can
read them; only superusers may change them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404

from governance.accounts.models import Membership, Role
from governance.accounts.selectors import has_role, team_ids_for
from governance.findings.models import ACTIVE_STATUSES, Finding
from governance.findings.selectors import with_active_versions
from governance.inventory.models import MLModel
from governance.policies.models import PolicyEvent, RiskException, RiskPolicy
from governance.policies.schema import RISK_TIERS, STAGES, policy_document_normalize


@dataclass(frozen=True)
class EffectivePolicy:
    """The policy a model is governed by (a stored one, or the built-in default)."""

    policy_id: int | None
    name: str
    revision: int
    document: dict[str, Any]

    @property
    def label(self) -> str:
        return f"{self.name} r{self.revision}" if self.policy_id else self.name

    @property
    def sla_days(self) -> dict[str, int | None]:
        days: dict[str, int | None] = self.document["sla"]["days"]
        return days


#: Governs a model when no stored policy applies: no open critical or high finding, at least
#: one dependency or model-file scan of the version (no evidence is not a pass), and the
#: default remediation SLAs.
BUILTIN_DEFAULT = EffectivePolicy(
    policy_id=None,
    name="built-in default",
    revision=0,
    document=policy_document_normalize(
        {
            "schema": "warden.policy/v1",
            "name": "built-in default",
            "description": "Applies when no team policy or organization default matches.",
            "thresholds": [
                {"id": "no-open-critical", "severities": ["critical"], "max_open": 0},
                {"id": "no-open-high", "severities": ["high"], "max_open": 0},
            ],
            "evidence": [{"id": "some-evidence", "categories": ["dependency", "model_file"]}],
        }
    ),
)


def _breadth(risk_tiers: list[str], stages: list[str]) -> int:
    """How many (tier, stage) pairs a policy covers: fewer is more specific."""
    return (len(risk_tiers) or len(RISK_TIERS)) * (len(stages) or len(STAGES))


def policy_resolve(
    candidates: list[dict[str, Any]], *, team_id: int, risk_tier: str, stage: str
) -> dict[str, Any] | None:
    """The one policy governing a model among ``candidates`` (dicts with id, team_id,
    risk_tiers, stages): a team policy beats an organization default, then the one covering
    fewer (tier, stage) pairs, then the oldest. None when none applies."""
    matching = [
        c for c in candidates
        if c["team_id"] in (team_id, None)
        and (not c["risk_tiers"] or risk_tier in c["risk_tiers"])
        and (not c["stages"] or stage in c["stages"])
    ]  # fmt: skip
    if not matching:
        return None
    return min(
        matching,
        key=lambda c: (c["team_id"] is None, _breadth(c["risk_tiers"], c["stages"]), c["id"]),
    )


def _live_policies() -> QuerySet[RiskPolicy]:
    return RiskPolicy.objects.filter(archived_at__isnull=True)


def policy_candidates(team_ids: list[int] | None) -> list[dict[str, Any]]:
    """Live policies that may govern models of ``team_ids`` (None: every team), with their
    documents. One query."""
    qs = _live_policies()
    if team_ids is not None:
        qs = qs.filter(Q(team_id__in=team_ids) | Q(team__isnull=True))
    fields = ("id", "team_id", "name", "risk_tiers", "stages", "revision", "document")
    return [dict(row) for row in qs.values(*fields)]


def policy_effective_for(model: MLModel) -> EffectivePolicy:
    """The policy governing ``model`` (one query)."""
    found = policy_resolve(
        policy_candidates([model.team_id]),
        team_id=model.team_id,
        risk_tier=model.risk_tier,
        stage=model.stage,
    )
    if found is None:
        return BUILTIN_DEFAULT
    return EffectivePolicy(found["id"], found["name"], found["revision"], found["document"])


# --- policies --------------------------------------------------------------------------------


def policies_visible_to(user: Any) -> QuerySet[RiskPolicy]:
    """Live policies of the user's teams, and the organization defaults."""
    if not user.is_authenticated or not user.is_active:
        return RiskPolicy.objects.none()
    return (
        _live_policies()
        .filter(Q(team_id__in=team_ids_for(user)) | Q(team__isnull=True))
        .select_related("team")
    )


def policy_get_for_user(user: Any, pk: int | str) -> RiskPolicy:
    """The policy, or 404 for a missing, archived or other team's policy alike."""
    if not str(pk).isdigit():
        raise Http404("policy not found")
    found = policies_visible_to(user).filter(pk=int(pk)).first()
    if found is None:
        raise Http404("policy not found")
    return found


def policy_can_edit(user: Any, team_id: int | None) -> bool:
    """Leads edit their team's policies; superusers edit organization defaults. API tokens
    are never leads."""
    if team_id is None:
        return bool(getattr(user, "is_superuser", False)) and bool(getattr(user, "pk", None))
    return has_role(user, team_id, "lead")


def policy_revisions(policy: RiskPolicy) -> QuerySet[Any]:
    return policy.revisions.select_related("author").order_by("-number")


def policy_events_visible_to(user: Any) -> QuerySet[PolicyEvent]:
    return PolicyEvent.objects.filter(
        Q(team_id__in=team_ids_for(user)) | Q(team__isnull=True)
    ).select_related("actor", "policy", "exception")


# --- exceptions ------------------------------------------------------------------------------


def exceptions_visible_to(user: Any) -> QuerySet[RiskException]:
    return RiskException.objects.filter(team_id__in=team_ids_for(user)).select_related(
        "team", "model", "finding", "policy", "requested_by", "decided_by"
    )


def exception_get_for_user(user: Any, pk: int | str) -> RiskException:
    """The exception, or 404 for missing and not-yours alike."""
    if not str(pk).isdigit():
        raise Http404("exception not found")
    found = exceptions_visible_to(user).filter(pk=int(pk)).first()
    if found is None:
        raise Http404("exception not found")
    return found


def exceptions_awaiting_decision(user: Any) -> QuerySet[RiskException]:
    return (
        exceptions_visible_to(user)
        .filter(status=RiskException.Status.REQUESTED)
        .order_by("requested_at", "id")
    )


def exceptions_listed(user: Any, *, state: str) -> QuerySet[RiskException]:
    """The user's exceptions in one state: ``pending`` (requested), ``active`` (approved,
    not yet expired), ``expired``, ``rejected``; soonest to end first where it matters."""
    qs = exceptions_visible_to(user)
    if state == "pending":
        return qs.filter(status=RiskException.Status.REQUESTED).order_by("requested_at", "id")
    if state == "active":
        return qs.filter(status=RiskException.Status.APPROVED).order_by("expires_at", "id")
    if state == "expired":
        return qs.filter(status=RiskException.Status.EXPIRED).order_by("-ended_at", "-id")
    return qs.filter(status=RiskException.Status.REJECTED).order_by("-decided_at", "-id")


def exception_deciders(exceptions: list[RiskException]) -> dict[int, list[str]]:
    """For each exception, who may decide it: the leads of its team other than the person
    who requested it (four eyes). One query for the whole list."""
    team_ids = {e.team_id for e in exceptions}
    leads: dict[int, list[tuple[int, str]]] = {}
    rows = (
        Membership.objects.filter(team_id__in=team_ids, role=Role.LEAD)
        .select_related("user")
        .order_by("user__username")
    )
    for m in rows:
        leads.setdefault(m.team_id, []).append((m.user_id, m.user.get_username()))
    return {
        e.pk: [name for uid, name in leads.get(e.team_id, []) if uid != e.requested_by_id]
        for e in exceptions
    }


# --- SLA -------------------------------------------------------------------------------------

SLA_STATES = ("overdue", "due_soon")


def findings_sla_clocks(
    findings: QuerySet[Finding], *, state: str = "", today: date, within_days: int = 7
) -> QuerySet[Finding]:
    """Active findings of ``findings`` (scoped by the caller) whose remediation clock needs
    attention. ``overdue``: due date passed; ``due_soon``: due today or within
    ``within_days``; no state: both."""
    qs = with_active_versions(
        findings.filter(status__in=ACTIVE_STATUSES, sla_due__isnull=False).select_related(
            "model", "team", "version", "assignee"
        )
    )
    soon = today + timedelta(days=within_days)
    if state == "overdue":
        return qs.filter(sla_due__lt=today)
    if state == "due_soon":
        return qs.filter(sla_due__gte=today, sla_due__lte=soon)
    return qs.filter(sla_due__lte=soon)
