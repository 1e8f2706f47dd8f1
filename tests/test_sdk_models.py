"""The SDKs' pydantic models are complete once a server exists (chat.server.complete_sdk_models).

An incomplete model retries its rebuild on every instantiation, which made
each streamed event cost ~40 us instead of ~3. Not timed: the flag pydantic
keeps says whether the retry would happen.
"""

from __future__ import annotations

import sys

from chatkit.types import ThreadItemDoneEvent, ThreadItemUpdatedEvent
from openai.types.responses import Response, ResponseCreatedEvent, ResponseTextDeltaEvent
from pydantic import BaseModel

from chat.server import complete_sdk_models, get_server


def incomplete(prefixes=("chatkit", "openai.types")) -> list[str]:
    return [
        f"{name}.{value.__qualname__}"
        for name, module in list(sys.modules.items())
        if module is not None and name.startswith(prefixes)
        for value in list(vars(module).values())
        if isinstance(value, type)
        and issubclass(value, BaseModel)
        and value.__module__ == name
        and not value.__pydantic_complete__
    ]


def test_every_streamed_event_model_is_complete_once_the_server_is_built():
    get_server()
    for model in (ThreadItemUpdatedEvent, ThreadItemDoneEvent, Response, ResponseCreatedEvent, ResponseTextDeltaEvent):
        assert model.__pydantic_complete__, model
    assert incomplete() == []
    assert complete_sdk_models() == 0  # once per process
