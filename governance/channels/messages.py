"""What goes over the wire: the Slack message, the signed webhook body, the e-mail.

A webhook's receiver checks ``X-Warden-Signature: sha256=<hex>``, the HMAC-SHA256 with the
channel's secret over ``f"{X-Warden-Timestamp}.{body}"`` (see docs/channels.md), and refuses
a timestamp too far from its clock (a replayed request).
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

import orjson

SIGNATURE_HEADER = "X-Warden-Signature"
TIMESTAMP_HEADER = "X-Warden-Timestamp"


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """``sha256=<hex>`` of HMAC-SHA256(secret, ``timestamp.body``)."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def webhook_body(*, key: str, trigger: str, team: str, payload: dict[str, Any]) -> bytes:
    return orjson.dumps(
        {
            "schema": "warden.event/v1",
            "key": key,
            "trigger": trigger,
            "team": team,
            "title": payload.get("title", ""),
            "text": payload.get("text", ""),
            "url": payload.get("url", ""),
            "severity": payload.get("severity", ""),
            "data": payload.get("data", {}),
            "items": payload.get("items", []),
        }
    )


def _mrkdwn_escape(text: str) -> str:
    """Slack's three control characters (names come from users and reports)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_body(*, trigger: str, team: str, payload: dict[str, Any]) -> bytes:
    """An incoming-webhook message: ``text`` (the notification's fallback) and ``blocks``."""
    title = payload.get("title", "")
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": title[:150] or "Warden"}},
    ]
    text = payload.get("text", "")
    if text:
        blocks.append(
            {"type": "section", "text": {"type": "mrkdwn", "text": _mrkdwn_escape(text)[:3000]}}
        )
    items = payload.get("items", [])
    if items:
        lines = "\n".join(f"- {_mrkdwn_escape(i.get('title', ''))}" for i in items[:40])
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": lines[:3000]}})
    url = payload.get("url", "")
    if url:
        blocks.append(
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "text": {"type": "plain_text", "text": "Open in Warden"},
                        "url": url,
                    },
                ],
            }
        )
    context = f"Warden · {team} · {trigger}" + (
        f" · {payload['severity']}" if payload.get("severity") else ""
    )
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": context}]})
    return orjson.dumps({"text": _mrkdwn_escape(title), "blocks": blocks})
