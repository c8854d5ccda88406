from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.receiver import Receiver


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver().start()
    yield server
    server.stop()


@pytest.fixture
def make_channel(team_alpha: Any) -> Any:
    from governance.channels.models import Trigger
    from governance.channels.services import channel_create

    def make(kind: str = "webhook", url: str = "", **kwargs: Any) -> Any:
        kwargs.setdefault("triggers", list(Trigger.values))
        kwargs.setdefault("name", f"{kind}-{url[-12:]}")
        return channel_create(team=kwargs.pop("team", team_alpha), kind=kind, url=url, **kwargs)

    return make
