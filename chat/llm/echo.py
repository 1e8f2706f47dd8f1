"""A deterministic offline model that echoes the latest user message word by word.

Used by tests, demos and benchmarks: no weights, no network, predictable
output. It speaks the real Responses streaming protocol (the event sequence
the OpenAI Responses API emits for one text message), so
``agents.Runner.run_streamed`` and chatkit's ``stream_agent_response`` treat
it exactly like a hosted model.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from functools import partial
from collections.abc import AsyncIterator, Iterable, Mapping
from typing import Any

from agents import Model, ModelResponse, ModelSettings, ModelTracing, Usage
from agents.items import TResponseInputItem, TResponseStreamEvent
from ..conf import app_settings
from pydantic import BaseModel as PydanticBaseModel
from openai.types.responses import (
    Response,
    ResponseCompletedEvent,
    ResponseIncompleteEvent,
    ResponseContentPartAddedEvent,
    ResponseContentPartDoneEvent,
    ResponseCreatedEvent,
    ResponseOutputItemAddedEvent,
    ResponseOutputItemDoneEvent,
    ResponseOutputMessage,
    ResponseOutputText,
    ResponseTextDeltaEvent,
    ResponseTextDoneEvent,
)
from openai.types.responses.response import IncompleteDetails

__all__ = ["EchoModel", "latest_user_text"]


def _text_of(content: Any) -> str:
    """Plain text of a message ``content``: a string or a list of input/output text parts."""
    if isinstance(content, str):
        return content
    texts: list[str] = []
    for part in content or ():
        get = part.get if isinstance(part, Mapping) else lambda k, p=part: getattr(p, k, None)
        if get("type") in ("input_text", "output_text", "text"):
            texts.append(get("text") or "")
    return " ".join(texts)


def latest_user_text(input: str | Iterable[TResponseInputItem]) -> str:
    """Return the text of the newest ``role == "user"`` message in ``input`` ('' if none).

    ``input`` is what the Runner hands a ``Model``: a bare string or a list of
    Responses input items (dicts, or pydantic models when replayed).
    """
    if isinstance(input, str):
        return input
    for item in reversed(list(input)):
        get = item.get if isinstance(item, Mapping) else lambda k, i=item: getattr(i, k, None)
        if get("role") == "user":
            return _text_of(get("content"))
    return ""


class EchoModel(Model):
    """Streams back the words of the latest user message, one delta per word.

    The final text is ``" ".join(text.split())``: the input with whitespace
    normalised. Each word after the first carries its leading space in the
    delta, so concatenated deltas equal the final text.

    Args:
        delay: seconds to sleep before each word (default
            ``app_settings.CHATKIT_ECHO_DELAY``); 0 streams as fast as the consumer reads.
        name: reported as ``Response.model``.

    Event sequence (one message, mirroring the Responses API):
    ``response.created``, ``response.output_item.added``,
    ``response.content_part.added``, ``response.output_text.delta`` x N,
    ``response.output_text.done``, ``response.content_part.done``,
    ``response.output_item.done``, ``response.completed`` (with the message
    in ``response.output``). With ``model_settings.max_tokens`` below the word
    count it stops there and ends with ``response.incomplete`` (reason
    ``max_output_tokens``), as the Responses API does. Ids are ``resp_<hex>`` / ``msg_<hex>``, fresh per call.
    Tools are ignored: it never calls one.
    """

    def __init__(self, delay: float | None = None, name: str = "echo") -> None:
        self.delay = app_settings.CHATKIT_ECHO_DELAY if delay is None else float(delay)
        self.name = name

    # -- helpers -----------------------------------------------------------------

    def _message(self, msg_id: str, text: str, status: str) -> ResponseOutputMessage:
        return ResponseOutputMessage(
            id=msg_id,
            type="message",
            role="assistant",
            status=status,  # type: ignore[arg-type]
            content=[ResponseOutputText(type="output_text", text=text, annotations=[])],
        )

    def _response(self, resp_id: str, output: list, status: str) -> Response:
        return Response(
            id=resp_id,
            object="response",
            created_at=time.time(),
            model=self.name,
            output=output,
            status=status,  # type: ignore[arg-type]
            tool_choice="auto",
            tools=[],
            parallel_tool_calls=False,
        )

    @staticmethod
    def _usage(words: int) -> Usage:
        return Usage(requests=1, input_tokens=words, output_tokens=words, total_tokens=2 * words)

    # -- Model API -----------------------------------------------------------------

    async def get_response(
        self,
        system_instructions: str | None,
        input: str | list[TResponseInputItem],
        model_settings: ModelSettings,
        tools: list,
        output_schema: Any,
        handoffs: list,
        tracing: ModelTracing,
        *,
        previous_response_id: str | None = None,
        conversation_id: str | None = None,
        prompt: Any = None,
        **_: Any,
    ) -> ModelResponse:
        """Return the whole echo at once (no delay) as a one-message ``ModelResponse``."""
        words = latest_user_text(input).split()[: model_settings.max_tokens or None]
        message = self._message(f"msg_{uuid.uuid4().hex}", " ".join(words), "completed")
        return ModelResponse(output=[message], usage=self._usage(len(words)), response_id=f"resp_{uuid.uuid4().hex}")

    async def stream_response(
        self,
        system_instructions: str | None,
        input: str | list[TResponseInputItem],
        model_settings: ModelSettings,
        tools: list,
        output_schema: Any,
        handoffs: list,
        tracing: ModelTracing,
        *,
        previous_response_id: str | None = None,
        conversation_id: str | None = None,
        prompt: Any = None,
        **_: Any,
    ) -> AsyncIterator[TResponseStreamEvent]:
        """Yield the Responses event sequence described on the class; see there."""
        words = latest_user_text(input).split()
        cap = model_settings.max_tokens if model_settings is not None else None  # one word is one token here
        cut = bool(cap) and len(words) > cap
        words = words[:cap] if cut else words
        text = " ".join(words)
        resp_id, msg_id = f"resp_{uuid.uuid4().hex}", f"msg_{uuid.uuid4().hex}"
        delay = self.delay
        seq = 0

        yield ResponseCreatedEvent(
            type="response.created",
            sequence_number=seq,
            response=self._response(resp_id, [], "in_progress"),
        )
        seq += 1
        yield ResponseOutputItemAddedEvent(
            type="response.output_item.added",
            sequence_number=seq,
            output_index=0,
            item=ResponseOutputMessage(id=msg_id, type="message", role="assistant", status="in_progress", content=[]),
        )
        seq += 1
        yield ResponseContentPartAddedEvent(
            type="response.content_part.added",
            sequence_number=seq,
            item_id=msg_id,
            output_index=0,
            content_index=0,
            part=ResponseOutputText(type="output_text", text="", annotations=[]),
        )
        seq += 1
        # The hot loop: pydantic's own model_construct skips validation (every
        # field is set here with a value of the right type). The openai SDK's
        # override of it walks the type hints of every field instead, which
        # cost ~80 us a word: more than the rest of the echo.
        construct = partial(PydanticBaseModel.model_construct.__func__, ResponseTextDeltaEvent)
        for i, word in enumerate(words):
            if delay:
                await asyncio.sleep(delay)
            yield construct(
                type="response.output_text.delta",
                sequence_number=seq,
                item_id=msg_id,
                output_index=0,
                content_index=0,
                delta=word if i == 0 else " " + word,
                logprobs=[],
            )
            seq += 1
        yield ResponseTextDoneEvent(
            type="response.output_text.done",
            sequence_number=seq,
            item_id=msg_id,
            output_index=0,
            content_index=0,
            text=text,
            logprobs=[],
        )
        seq += 1
        final_part = ResponseOutputText(type="output_text", text=text, annotations=[])
        yield ResponseContentPartDoneEvent(
            type="response.content_part.done",
            sequence_number=seq,
            item_id=msg_id,
            output_index=0,
            content_index=0,
            part=final_part,
        )
        seq += 1
        message = self._message(msg_id, text, "incomplete" if cut else "completed")
        yield ResponseOutputItemDoneEvent(
            type="response.output_item.done", sequence_number=seq, output_index=0, item=message
        )
        seq += 1
        if cut:  # as the Responses API ends an answer at max_output_tokens
            final = self._response(resp_id, [message], "incomplete")
            final.incomplete_details = IncompleteDetails(reason="max_output_tokens")
            yield ResponseIncompleteEvent(type="response.incomplete", sequence_number=seq, response=final)
            return
        final = self._response(resp_id, [message], "completed")
        yield ResponseCompletedEvent(type="response.completed", sequence_number=seq, response=final)
