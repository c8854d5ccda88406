"""Reads of the channels app, always for one team."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet

from governance.accounts.models import Team
from governance.channels.models import Channel, Delivery

#: Deliveries shown on a channel's page (the newest).
DELIVERY_LOG_LIMIT = 100


def channels_of_team(team: Team) -> QuerySet[Channel]:
    return Channel.objects.filter(team=team).annotate(
        failed=Count("deliveries", filter=Q(deliveries__status=Delivery.Status.FAILED)),
        sent=Count("deliveries", filter=Q(deliveries__status=Delivery.Status.SENT)),
    )


def channel_deliveries(channel: Channel, limit: int = DELIVERY_LOG_LIMIT) -> list[Delivery]:
    return list(channel.deliveries.order_by("-created_at", "-id")[:limit])
