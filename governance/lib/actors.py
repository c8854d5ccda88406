"""Who did it, for audit rows: a signed-in person, or a label for tokens and the system."""

from __future__ import annotations

from typing import Any


def actor_fields(actor: Any, field: str = "actor") -> dict[str, Any]:
    """``{field: user or None, f"{field}_label": name}`` for an audit row: a real user is
    linked; a token or the system is named ("token:ci", "system")."""
    real = actor if getattr(actor, "pk", None) else None
    label = str(getattr(actor, "username", "") or "system")[:150]
    return {field: real, f"{field}_label": label}
