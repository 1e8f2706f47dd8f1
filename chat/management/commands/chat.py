"""``manage.py chat [--thread ID] [--owner OWNER] [--model SPEC]``: a conversation in the terminal.

Each line read from standard input is a user message; the answer streams to
standard output as the model writes it. Works from a pipe
(``printf 'hello\\n' | manage.py chat``) as well as typed. Every message goes
the way a browser's does: parsed and checked by :mod:`chat.protocol` (the same
rules: a locked thread refuses, a model must be offered) and answered by the
same :class:`chat.server.ChatServer` and store, so the threads show in the
admin like any other, under the owner ``cli:<login name>`` unless ``--owner``
names another (``"user:<pk>"`` makes them a user's). ``--thread`` continues a
thread of that owner.
"""

from __future__ import annotations

import getpass
import json
import sys

from asgiref.sync import async_to_sync, sync_to_async
from chatkit.store import NotFoundError
from django.core.management.base import BaseCommand, CommandError

from chat import turns
from chat.context import RequestContext
from chat.protocol import BadRequest, check_request, parse_request
from chat.server import get_server


def _request(thread_id: str | None, text: str, model: str | None) -> bytes:
    """The JSON body a client would POST for one message (a new thread or the next turn)."""
    user_input = {
        "content": [{"type": "input_text", "text": text}],
        "attachments": [],
        "inference_options": {"model": model},
    }
    if thread_id is None:
        return json.dumps({"type": "threads.create", "params": {"input": user_input}}).encode()
    return json.dumps(
        {"type": "threads.add_user_message", "params": {"thread_id": thread_id, "input": user_input}}
    ).encode()


def _check(body: bytes, context: RequestContext):
    return check_request(parse_request(body), context)


class Command(BaseCommand):
    help = "Chat with the configured model in the terminal (lines from standard input; works from a pipe)."
    requires_system_checks = []  # a conversation, not a deployment: no check warnings on stderr

    def add_arguments(self, parser):
        parser.add_argument("--thread", help="continue this thread (one of the owner's)")
        parser.add_argument("--owner", help='the owner key of the conversation (default "cli:<login name>")')
        parser.add_argument("--model", help="a model spec offered by CHATKIT_MODELS (default CHATKIT_MODEL)")

    def handle(self, *args, thread, owner, model, **options):
        owner = owner or f"cli:{getpass.getuser()}"
        user_id = int(owner[5:]) if owner.startswith("user:") and owner[5:].isdigit() else None
        context_args = {"owner": owner[:80], "user_id": user_id}
        async_to_sync(self._converse)(thread, context_args, model)

    async def _converse(self, thread_id: str | None, context_args: dict, model: str | None) -> None:
        interactive = sys.stdin.isatty()
        while True:
            if interactive:
                self.stdout.write("you> ", ending="")
                self.stdout.flush()
            line = sys.stdin.readline()
            if not line:
                break
            text = line.strip()
            if not text:
                continue
            context = RequestContext(**context_args)  # one per message, as one per HTTP request
            try:
                checked = await sync_to_async(_check)(_request(thread_id, text, model), context)
            except BadRequest as exc:
                raise CommandError(exc.message) from None
            except NotFoundError as exc:
                raise CommandError(f"{exc} (for the owner {context.owner})") from None
            if checked.thread_refusal:
                raise CommandError(checked.thread_refusal)
            thread_id = await self._stream(checked.request, context, thread_id)
        if thread_id:
            self.stderr.write(f"thread {thread_id} (continue it with --thread {thread_id})")

    async def _stream(self, request, context: RequestContext, thread_id: str | None) -> str | None:
        """Print one answer as it streams; return the thread's id."""
        server = get_server()
        result = await server.process_request(request, context)
        # Hold the turn's claim on the thread while it streams, as the view does (chat/turns.py).
        async with turns.running(context, server.progress_write):
            return await self._print(result, thread_id)

    async def _print(self, result, thread_id: str | None) -> str | None:
        """Write the stream's answer and notes as they come; return the thread's id."""
        wrote = False
        async for frame in result:
            for chunk in frame.decode().split("\n\n"):
                if not chunk.startswith("data: "):
                    continue
                event = json.loads(chunk[6:])
                kind = event.get("type")
                if kind == "thread.created":
                    thread_id = event["thread"]["id"]
                elif kind == "thread.item.updated":
                    update = event.get("update") or {}
                    if update.get("type") == "assistant_message.content_part.text_delta":
                        self.stdout.write(update.get("delta", ""), ending="")
                        self.stdout.flush()
                        wrote = True
                elif kind == "thread.item.done" and event["item"].get("type") == "assistant_message":
                    if not wrote:  # a model that sends no deltas: the whole answer at once
                        self.stdout.write(
                            "".join(p.get("text", "") for p in event["item"].get("content", [])), ending=""
                        )
                    self.stdout.write("")
                    wrote = False
                elif kind == "thread.item.done" and event["item"].get("type") == "widget":
                    from chat.transcript import summarize

                    self.stdout.write(f"[{summarize(event['item'])}]")
                elif kind == "error":
                    self.stderr.write(f"error: {event.get('message') or event.get('code')}")
                elif kind == "progress_update":
                    self.stderr.write(f"… {event.get('text', '')}")
        return thread_id
