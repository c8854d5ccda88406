"""Read-only admin: channels change through the team's channels page (the service checks
URLs and triggers); the admin never bypasses it. Secrets are not shown."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from governance.channels.models import Channel, Delivery


class _ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Channel)
class ChannelAdmin(_ReadOnly):
    list_display = ("name", "team", "kind", "mode", "enabled")
    list_filter = ("kind", "mode", "enabled")
    exclude = ("secret",)


@admin.register(Delivery)
class DeliveryAdmin(_ReadOnly):
    list_display = ("key", "channel", "trigger", "status", "attempts", "response_code")
    list_filter = ("status", "trigger")
