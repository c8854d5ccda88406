"""The channels page of a team: its leads add channels, pick triggers, send a test, and
read the delivery log. Another team's channel is a 404; a member who is not a lead, 403."""

from __future__ import annotations

from collections.abc import Callable

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from governance.accounts.models import Team
from governance.accounts.selectors import has_role, team_get_for_user
from governance.channels.models import Channel, Trigger
from governance.channels.selectors import channel_deliveries, channels_of_team
from governance.channels.services import (
    channel_create,
    channel_delete,
    channel_test_send,
    channel_update,
)
from governance.lib.api_errors import ApplicationError


class ChannelForm(forms.Form):
    name = forms.CharField(max_length=100)
    kind = forms.ChoiceField(choices=Channel.Kind.choices)
    url = forms.URLField(
        max_length=1000,
        required=False,
        assume_scheme="https",
        help_text="Slack: the incoming-webhook URL; webhook: your endpoint; e-mail: empty",
    )
    triggers = forms.MultipleChoiceField(
        choices=Trigger.choices, widget=forms.CheckboxSelectMultiple, required=False
    )
    mode = forms.ChoiceField(choices=Channel.Mode.choices, initial=Channel.Mode.IMMEDIATE)


class ChannelEditForm(forms.Form):
    url = forms.URLField(max_length=1000, required=False, assume_scheme="https")
    triggers = forms.MultipleChoiceField(
        choices=Trigger.choices, widget=forms.CheckboxSelectMultiple, required=False
    )
    mode = forms.ChoiceField(choices=Channel.Mode.choices)
    enabled = forms.BooleanField(required=False)


def _team_for_lead(request: HttpRequest, slug: str) -> Team:
    team = team_get_for_user(request.user, slug)  # 404 when not the user's team
    if not has_role(request.user, team.pk, "lead"):
        raise PermissionDenied("only a team lead manages channels")
    return team


def _channel(request: HttpRequest, slug: str, channel_id: int) -> Channel:
    team = _team_for_lead(request, slug)
    return get_object_or_404(Channel.objects.select_related("team"), pk=channel_id, team=team)


def _apply(form: forms.Form, call: Callable[[], object]) -> bool:
    try:
        call()
    except ApplicationError as exc:
        for name, errors in exc.detail.items():
            for error in errors:
                form.add_error(name if name in form.fields else None, f"{exc.message}: {error}")
        return False
    return True


def channel_list(request: HttpRequest, slug: str) -> HttpResponse:
    team = _team_for_lead(request, slug)
    form = ChannelForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if _apply(
            form,
            lambda: channel_create(
                team=team,
                name=data["name"],
                kind=data["kind"],
                url=data["url"],
                triggers=data["triggers"],
                mode=data["mode"],
                created_by=request.user,
            ),
        ):
            messages.success(request, f"Channel {data['name']} added.")
            return redirect("channels:list", slug=team.slug)
    return render(
        request,
        "channels/list.html",
        {"team": team, "form": form, "channels": channels_of_team(team)},
        status=400 if form.errors else 200,
    )


def channel_detail(request: HttpRequest, slug: str, channel_id: int) -> HttpResponse:
    channel = _channel(request, slug, channel_id)
    initial = {
        "url": channel.url,
        "triggers": channel.triggers,
        "mode": channel.mode,
        "enabled": channel.enabled,
    }
    form = ChannelEditForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if _apply(
            form,
            lambda: channel_update(
                channel=channel,
                triggers=data["triggers"],
                mode=data["mode"],
                enabled=data["enabled"],
                url=data["url"] if channel.kind != "email" else "",
            ),
        ):
            messages.success(request, "Channel saved.")
            return redirect("channels:detail", slug=slug, channel_id=channel.pk)
    return render(
        request,
        "channels/detail.html",
        {
            "team": channel.team,
            "channel": channel,
            "form": form,
            "deliveries": channel_deliveries(channel),
        },
        status=400 if form.errors else 200,
    )


@require_POST
def channel_remove(request: HttpRequest, slug: str, channel_id: int) -> HttpResponse:
    channel = _channel(request, slug, channel_id)
    channel_delete(channel=channel)
    messages.success(request, f"Channel {channel.name} removed.")
    return redirect("channels:list", slug=slug)


@require_POST
def channel_test(request: HttpRequest, slug: str, channel_id: int) -> HttpResponse:
    channel = _channel(request, slug, channel_id)
    delivery = channel_test_send(channel=channel)
    messages.info(request, f"Test message queued ({delivery.key}).")
    return redirect("channels:detail", slug=slug, channel_id=channel.pk)
