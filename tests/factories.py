"""Builders for ChatKit SDK objects used across the tests."""

from __future__ import annotations

import itertools
from datetime import datetime

from chatkit.types import (
    AssistantMessageContent,
    AssistantMessageItem,
    ClientToolCallItem,
    FileAttachment,
    InferenceOptions,
    ThreadMetadata,
    UserMessageItem,
    UserMessageTextContent,
    WorkflowItem,
    Workflow,
)

from chat.context import RequestContext
from chat.store import new_id

_owner_numbers = itertools.count(1)


def make_context(owner: str | None = None) -> RequestContext:
    """A fresh request context for a new anonymous owner (or the one named)."""
    return RequestContext(owner=owner or f"anon:test-{next(_owner_numbers)}")


def make_thread(title: str | None = None, created_at: datetime | None = None) -> ThreadMetadata:
    return ThreadMetadata(id=new_id("thread"), title=title, created_at=created_at or datetime.now())


def user_message(thread_id: str, text: str, created_at: datetime | None = None) -> UserMessageItem:
    return UserMessageItem(
        id=new_id("message"),
        thread_id=thread_id,
        created_at=created_at or datetime.now(),
        content=[UserMessageTextContent(text=text)],
        inference_options=InferenceOptions(),
    )


def assistant_message(thread_id: str, text: str, created_at: datetime | None = None) -> AssistantMessageItem:
    return AssistantMessageItem(
        id=new_id("message"),
        thread_id=thread_id,
        created_at=created_at or datetime.now(),
        content=[AssistantMessageContent(text=text)],
    )


def client_tool_call(thread_id: str, name: str = "switch_theme") -> ClientToolCallItem:
    return ClientToolCallItem(
        id=new_id("tool_call"),
        thread_id=thread_id,
        created_at=datetime.now(),
        call_id=new_id("call"),
        name=name,
        arguments={"theme": "dark"},
    )


def workflow(thread_id: str) -> WorkflowItem:
    return WorkflowItem(
        id=new_id("workflow"),
        thread_id=thread_id,
        created_at=datetime.now(),
        workflow=Workflow(type="custom", tasks=[]),
    )


def file_attachment(thread_id: str | None = None) -> FileAttachment:
    return FileAttachment(id=new_id("attachment"), name="notes.txt", mime_type="text/plain", thread_id=thread_id)
