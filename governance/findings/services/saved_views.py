"""A person's saved findings views."""

from __future__ import annotations

from typing import Any

from governance.findings.filters import list_query_clean
from governance.findings.models import SavedView
from governance.lib.api_errors import ApplicationError
from governance.lib.names import name_problem

MAX_VIEWS = 50


def saved_view_save(*, user: Any, name: str, query: str) -> SavedView:
    """Save (or replace) the view ``name`` of ``user``: the list's filter as a query string."""
    if not getattr(user, "pk", None):
        raise ApplicationError("only a signed-in person saves views", status_code=403)
    name = name.strip()
    if not name:
        raise ApplicationError("a saved view needs a name")
    if len(name) > 100:
        raise ApplicationError("a saved view's name has at most 100 characters")
    problem = name_problem(name, what="view names")
    if problem:
        raise ApplicationError(problem)
    views = SavedView.objects.filter(user_id=user.pk)
    if not views.filter(name=name).exists() and views.count() >= MAX_VIEWS:
        raise ApplicationError(f"you have {MAX_VIEWS} saved views; delete one first")
    view, _ = SavedView.objects.update_or_create(
        user_id=user.pk, name=name, defaults={"query": list_query_clean(query)}
    )
    return view


def saved_view_remove(*, view: SavedView) -> None:
    view.delete()
