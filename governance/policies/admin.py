"""Read-only admin: policies change through the policies page, the API or ``manage.py
policies`` (services that write a revision and an audit event); the admin never bypasses them."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from governance.policies.models import PolicyEvent, RiskException, RiskPolicy, RiskPolicyRevision


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(RiskPolicy)
class RiskPolicyAdmin(ReadOnlyAdmin):
    list_display = ["name", "team", "risk_tiers", "stages", "revision", "updated_at", "archived_at"]
    list_filter = ["team"]
    search_fields = ["name", "description"]
    list_select_related = ["team"]


@admin.register(RiskPolicyRevision)
class RiskPolicyRevisionAdmin(ReadOnlyAdmin):
    list_display = ["policy", "number", "action", "author_label", "created_at"]
    list_select_related = ["policy"]


@admin.register(RiskException)
class RiskExceptionAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "team",
        "model",
        "finding",
        "rule",
        "status",
        "expires_at",
        "requested_by",
        "decided_by",
    ]
    list_filter = ["status", "team"]
    list_select_related = ["team", "model", "requested_by", "decided_by"]


@admin.register(PolicyEvent)
class PolicyEventAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "kind", "team", "actor_label", "message"]
    list_filter = ["kind", "team"]
    list_select_related = ["team"]
