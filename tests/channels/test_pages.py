"""The channels page: leads of the team manage channels and read the delivery log; members
who are not leads get 403, other teams 404 (tests/test_isolation.py covers every route)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from governance.channels.models import Channel, Delivery
from governance.channels.services import ChannelEvent, channel_events_publish

pytestmark = pytest.mark.django_db


def test_a_lead_adds_a_webhook_channel_and_sends_a_test(
    client_of: Any, lead: Any, receiver: Any, django_capture_on_commit_callbacks: Any
) -> None:
    client = client_of(lead)
    response = client.post(
        "/teams/alpha/channels/",
        {"name": "pager", "kind": "webhook", "url": receiver.url,
         "triggers": ["critical_finding", "runtime_alert"], "mode": "immediate"},
    )  # fmt: skip
    assert response.status_code == 302
    channel = Channel.objects.get(name="pager")
    assert channel.triggers == ["critical_finding", "runtime_alert"]
    assert len(channel.secret) >= 40
    page = client.get(f"/teams/alpha/channels/{channel.pk}/")
    assert channel.secret in page.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(f"/teams/alpha/channels/{channel.pk}/test/").status_code == 302
    (request,) = receiver.requests
    assert json.loads(request.body)["trigger"] == "test"
    log = client.get(f"/teams/alpha/channels/{channel.pk}/").content.decode()
    assert "Test message from Warden to pager" in log
    assert "Sent" in log


def test_bad_channels_are_refused_with_the_reason(client_of: Any, lead: Any) -> None:
    client = client_of(lead)
    base = {"name": "x", "triggers": ["sla"], "mode": "immediate"}
    no_url = client.post("/teams/alpha/channels/", {**base, "kind": "slack"})
    assert no_url.status_code == 400
    assert "this channel needs a URL" in no_url.content.decode()
    bad = client.post(
        "/teams/alpha/channels/", {**base, "kind": "webhook", "url": "ftp://example.com/"}
    )
    assert bad.status_code == 400
    assert not Channel.objects.exists()


def test_the_delivery_log_shows_failures_to_the_lead(
    client_of: Any, lead: Any, receiver: Any, make_channel: Any, team_alpha: Any,
    django_capture_on_commit_callbacks: Any, django_assert_max_num_queries: Any,
) -> None:  # fmt: skip
    receiver.answers = [404]
    channel = make_channel("webhook", receiver.url, name="broken")
    events = [ChannelEvent(trigger="sla", key=f"sla-soon:{i}", title=f"due {i}") for i in range(30)]
    with django_capture_on_commit_callbacks(execute=True):
        channel_events_publish(team_id=team_alpha.pk, events=events)
    assert Delivery.objects.filter(status="failed").count() == 30
    client = client_of(lead)
    client.get("/teams/alpha/channels/")  # session and team caches warm
    with django_assert_max_num_queries(8):
        listing = client.get("/teams/alpha/channels/").content.decode()
    assert "<td>30</td>" in listing  # the failed count
    with django_assert_max_num_queries(8):
        detail = client.get(f"/teams/alpha/channels/{channel.pk}/").content.decode()
    assert detail.count("HTTP 404") == 30
    assert detail.count('data-delivery="sla-soon:') == 30


def test_members_who_are_not_leads_are_refused(
    client_of: Any, member: Any, viewer: Any, make_channel: Any
) -> None:
    channel = make_channel("email", name="leads")
    for user in (member, viewer):
        client = client_of(user)
        assert client.get("/teams/alpha/channels/").status_code == 403
        assert client.get(f"/teams/alpha/channels/{channel.pk}/").status_code == 403
        assert client.post(f"/teams/alpha/channels/{channel.pk}/delete/").status_code == 403
    assert Channel.objects.filter(pk=channel.pk).exists()


def test_a_lead_edits_and_removes_a_channel(client_of: Any, lead: Any, make_channel: Any) -> None:
    channel = make_channel("email", name="leads", triggers=["sla"])
    client = client_of(lead)
    response = client.post(
        f"/teams/alpha/channels/{channel.pk}/",
        {"triggers": ["sla", "gate_failed"], "mode": "digest"},
    )
    assert response.status_code == 302
    channel.refresh_from_db()
    assert (channel.triggers, channel.mode, channel.enabled) == (
        ["gate_failed", "sla"],
        "digest",
        False,
    )
    assert client.post(f"/teams/alpha/channels/{channel.pk}/delete/").status_code == 302
    assert not Channel.objects.exists()
