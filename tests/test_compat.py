"""The private APIs in chat/compat.py: pinned versions, and each attribute still there."""

from __future__ import annotations

import inspect

from channels.layers import InMemoryChannelLayer
from chatkit.server import ChatKitServer
from django.db.models.sql import InsertQuery
from django.utils.deprecation import MiddlewareMixin

from chat import checks, compat


def test_installed_versions_are_the_pinned_ones():
    drift = compat.pin_mismatches()
    assert drift == [], (
        "chat/compat.py was checked against other versions: "
        + "; ".join(drift)
        + ". Re-read every private API it wraps, then update compat.PINNED."
    )
    assert checks.check_compat_pins() == []


def test_the_private_apis_still_have_the_shapes_we_call():
    where = "chat/compat.py relies on this private API"
    assert {"on_conflict", "update_fields", "unique_fields"} <= set(inspect.signature(InsertQuery).parameters), where
    assert list(inspect.signature(InsertQuery.insert_values).parameters) == ["self", "fields", "objs", "raw"], where
    assert hasattr(MiddlewareMixin, "__acall__") and "async_mode" in inspect.getsource(MiddlewareMixin.__call__), where
    assert list(inspect.signature(ChatKitServer._process_streaming).parameters) == ["self", "request", "context"], where
    assert list(inspect.signature(ChatKitServer._process_non_streaming).parameters) == ["self", "request", "context"], (
        where
    )
    assert list(inspect.signature(ChatKitServer._build_user_message_item).parameters) == [
        "self",
        "input",
        "thread",
        "context",
    ], where
    assert hasattr(compat.ChatCmplConverter, "items_to_messages"), where
    assert hasattr(compat.ChatCmplStreamHandler, "handle_stream"), where
    assert compat.FAKE_RESPONSES_ID == "__fake_id__", where
    layer = InMemoryChannelLayer()
    assert layer.groups == {} and compat.nobody_in_group(layer, "chatkit.thread.x"), where


def test_a_drifted_version_is_reported(monkeypatch):
    monkeypatch.setitem(compat.PINNED, "openai-chatkit", "9.9.9")
    drift = compat.pin_mismatches()
    assert drift and "chat/compat.py is checked against 9.9.9" in drift[0]
    assert [m.id for m in checks.check_compat_pins()] == ["chat.W006"]
