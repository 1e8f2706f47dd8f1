"""``LocalModel``: an ``agents.Model`` over the embedded llama.cpp runtime (``xllamacpp``).

Why not ``OpenAIChatCompletionsModel`` against a llama.cpp server? llama.cpp's
own tool-call parser misses the bare-JSON calls these small Qwen models emit,
so tools never run (measured by the team). Instead this model

1. converts the Agent's input and tools with the SDK's Chat Completions
   converters (``agents.models.chatcmpl_converter.Converter``);
2. runs ``xllamacpp.Server.handle_chat_completions`` (streaming) on the
   model's one worker thread (:class:`chat.llm.worker.RuntimeWorker`), one
   generation at a time, right after measuring the prompt there, the tools
   described in the chat template's ``tools`` field;
3. recognises tool calls leniently (:mod:`chat.llm.toolcalls`) and turns
   everything into ``ChatCompletionChunk`` objects, fed through the SDK's
   ``ChatCmplStreamHandler`` so the Runner receives real Responses events;
4. replaces the handler's ``__fake_id__`` item ids with unique ones.

Text streams token by token unless the answer could still be a JSON tool call
(starts with ``{``, a code fence or ``<tool_call>``), which is held until it
is decided.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import logging
import threading
import time
import uuid
from collections.abc import AsyncIterator, Collection
from contextlib import aclosing
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from agents import FunctionTool, Model, ModelResponse, ModelSettings, ModelTracing, Usage
from agents.items import TResponseInputItem, TResponseStreamEvent
from ..compat import ChatCmplConverter as Converter
from ..compat import ChatCmplStreamHandler
from ..compat import FAKE_RESPONSES_ID
from ..conf import app_settings
from openai.types.chat import ChatCompletionChunk
from openai.types.chat.chat_completion_chunk import (
    Choice,
    ChoiceDelta,
    ChoiceDeltaToolCall,
    ChoiceDeltaToolCallFunction,
)
from openai.types.completion_usage import CompletionUsage
from openai.types.responses import Response

from .guard import CUT_OFF_LENGTH, CUT_OFF_LOOP, RepetitionDetector, ScaffoldingGuard
from .prompt import ContextTooLong, current_turn, fit_messages, hidden_notes, recap_user_messages, template_messages
from .toolchoice import CALL_THRESHOLD, call_probability, call_schema, choose_tools, decision_messages, last_user_text
from .toolcalls import (
    ParsedToolCall,
    could_be_tool_call,
    find_tool_call,
    looks_like_tool_call,
    parse_tool_call,
    repair_tool_call,
)
from .weights import DEFAULT_VARIANT, ensure_weights, get_spec
from .worker import RuntimeWorker

__all__ = ["ContextTooLong", "LocalModel", "LocalModelError", "SAMPLING"]

logger = logging.getLogger(__name__)

_END = object()  # sentinel the worker thread puts last on the queue

# Sampling per variant, from the models' cards (generation_config.json of Qwen2.5 Instruct:
# top_p 0.8, top_k 20, repetition_penalty 1.1 for 0.5B and 1.05 above). Two departures, both
# measured with bench/eval.py and the same conversations sampled with 5 seeds:
# * temperature 0.2, lower than the card's 0.7: tiny models call tools more reliably cold;
# * no repetition penalty for the 0.5B (1.0): llama.cpp counts the prompt's tokens too, and a
#   memory answer must repeat the prompt. "My favourite colour is green." then "Which colour do
#   I like best?" (eval case memory-colour) was right in 2 of 5 seeds with 1.1 and 3 of 5 with
#   1.0 (the quote of the user's words in chat/llm/prompt.py does the rest: 5 of 5); answers
#   were shorter too (3 of 12 long answers reached the cap instead of 5, no more loops). Loops
#   are stopped by the RepetitionDetector (chat/llm/guard.py).
# ModelSettings (and extra_args) override these.
SAMPLING: dict[str, dict[str, float]] = {
    "qwen2.5-coder-0.5b": {"temperature": 0.2, "top_p": 0.8, "top_k": 20, "repeat_penalty": 1.0},
    "qwen2.5-coder-1.5b": {"temperature": 0.2, "top_p": 0.8, "top_k": 20, "repeat_penalty": 1.05},
    "smollm2-135m": {"temperature": 0.2, "top_p": 0.9, "top_k": 40, "repeat_penalty": 1.1},
}
# Worded so it is not echoed: "Answer the user's last message now" came back as "The user's last
# message is ...", which the guard rightly cut (an echo of a hidden note), leaving only the
# apology (eval case de-time; 6 of 8 after-tool answers kept whole with it, 8 of 8 with this).
_ANSWER_NUDGE = "Reply now in plain words, with the tool result. Do not call a tool and do not write JSON."
# While a turn offers tools, this much text is held back: a call often follows a first sentence.
_PREAMBLE_CHARS = 300
_FALLBACK = "Sorry, I couldn't write an answer to that. Could you rephrase it?"
# A prompt of n UTF-8 bytes has at most n tokens: every token of a byte-level BPE vocabulary
# (Qwen2.5's, SmolLM2's) stands for at least one byte. Two more for a BOS or a SentencePiece
# vocabulary's dummy-prefix space (another GGUF via model_path).
_TOKENS_OVER_BYTES = 2


class LocalModelError(RuntimeError):
    """llama.cpp rejected a request or failed while generating (message from llama.cpp)."""


def _pending_call_start(text: str) -> bool:
    """Whether ``text`` ends in something that may still become a call (an open ``{``, fence or tag)."""
    return any(ch in "{`<" and could_be_tool_call(text[i:]) for i, ch in enumerate(text))


def _required(request: dict[str, Any]) -> dict[str, list[str]]:
    """Each offered tool's required argument names (from its JSON schema)."""
    return {
        spec["function"]["name"]: spec["function"].get("parameters", {}).get("required", [])
        for spec in request.get("tools", ())
    }


def forced_tools(tool_choice: Any, offered: Collection[str]) -> set[str] | None:
    """The tools ``ModelSettings.tool_choice`` forces a call to (``"required"``: any offered one), else ``None``."""
    if tool_choice == "required":
        return set(offered) or None
    if isinstance(tool_choice, str) and tool_choice in offered:
        return {tool_choice}
    return None


def _last_is_tool_output(input: str | list[TResponseInputItem]) -> bool:
    if isinstance(input, str) or not input:
        return False
    last = input[-1]
    kind = last.get("type") if isinstance(last, dict) else getattr(last, "type", None)
    return kind == "function_call_output"


class LocalModel(Model):
    """An embedded GGUF model run by llama.cpp in this process.

    Args:
        variant: key of :data:`chat.llm.weights.VARIANTS` (default
            ``"qwen2.5-coder-0.5b"``).
        n_ctx: context window in tokens (prompt + answer).
        n_threads: CPU threads for decoding and prompt processing (default
            ``app_settings.CHATKIT_LOCAL_THREADS``, 2). On a machine whose cores are
            busy with other work, fewer is faster: llama.cpp's threads wait for
            each other at every layer (2 threads on 2 shared cores: 1.3 tok/s,
            1 thread: 8.7 tok/s, measured here under load).
        max_tokens: answer cap when ``ModelSettings.max_tokens`` is unset
            (default ``app_settings.CHATKIT_LOCAL_MAX_TOKENS``, 512).
        temperature: used when ``ModelSettings.temperature`` is unset (default:
            the variant's :data:`SAMPLING`).
        model_path: a GGUF to use instead of the variant's joined weights.
        narrow_tools: offer a turn only the tools its message is about
            (:func:`chat.llm.toolchoice.choose_tools`) and decide on the newest
            message alone whether it calls one (see :meth:`decide_call`);
            ``tool_choice`` other than ``"auto"`` turns this off (default
            ``app_settings.CHATKIT_LOCAL_NARROW_TOOLS``, on). ``tool_choice``
            ``"required"`` or a tool's name forces a call.

    One instance per variant per process (see :func:`chat.llm.get_model`):
    it loads lazily on first use (off the event loop), runs one generation at
    a time (others wait in line; :meth:`is_busy` tells) and aborts a
    generation as soon as its consumer stops iterating.

    Raises (from the first call): :class:`chat.llm.weights.WeightsError` if
    the weights are missing or corrupt; :class:`LocalModelError` if llama.cpp
    fails.
    """

    def __init__(
        self,
        variant: str = DEFAULT_VARIANT,
        *,
        n_ctx: int = 4096,
        n_threads: int | None = None,
        max_tokens: int | None = None,
        temperature: float | None = None,
        model_path: Path | None = None,
        narrow_tools: bool | None = None,
    ) -> None:
        self.spec = get_spec(variant)
        self.variant = variant
        self.name = f"local:{variant}"
        self.n_ctx = n_ctx
        if n_threads is None:
            n_threads = app_settings.CHATKIT_LOCAL_THREADS
        self.n_threads = n_threads
        if max_tokens is None:
            max_tokens = app_settings.CHATKIT_LOCAL_MAX_TOKENS
        self.max_tokens = max_tokens
        self.temperature = temperature
        self.model_path = model_path
        if narrow_tools is None:
            narrow_tools = app_settings.CHATKIT_LOCAL_NARROW_TOOLS
        self.narrow_tools = narrow_tools
        self.load_seconds: float | None = None
        self._server: Any = None  # xllamacpp.Server once loaded
        self._load_lock = threading.Lock()
        self._run_lock = threading.Lock()  # held while deciding or generating
        self._worker = RuntimeWorker(f"local-llm-{variant}")  # every blocking runtime call after loading
        self._connections = threading.local()  # per thread: a kept-alive HTTP connection to the runtime
        self._active = 0  # generations started and not finished (incl. waiting ones)
        self._loading = False

    # -- state -------------------------------------------------------------------------

    @property
    def supports_tools(self) -> bool:
        """Whether this variant is offered tools (SmolLM2 135M is not)."""
        return self.spec.supports_tools

    def is_loaded(self) -> bool:
        """True once the weights are in memory (cheap; no locking)."""
        return self._server is not None

    def is_busy(self) -> bool:
        """True while the model is loading or a generation runs or waits (cheap; no locking).

        A new turn started now would wait for the model first; a server can
        tell the user so (e.g. a ``progress_update``) before running the Agent.
        """
        return self._loading or self._active > 0

    # -- loading -----------------------------------------------------------------------

    def load_sync(self) -> None:
        """Load the weights into llama.cpp once (blocking, thread-safe, idempotent).

        Takes ~1.3 s and ~0.7 GB for the 0.5B model, plus the one-off weights
        join on a fresh machine (see :func:`chat.llm.weights.ensure_weights`).
        """
        if self._server is not None:
            return
        with self._load_lock:
            if self._server is not None:
                return
            self._loading = True
            try:
                import xllamacpp  # heavy native module: import on first use only

                started = time.perf_counter()
                path = self.model_path or ensure_weights(self.variant)
                params = xllamacpp.CommonParams()
                params.model.path = str(path)
                params.n_ctx = self.n_ctx
                params.n_parallel = 1  # one slot: we serialise generations ourselves
                params.cpuparams.n_threads = self.n_threads
                params.cpuparams_batch.n_threads = self.n_threads
                params.use_jinja = True  # the GGUF's own chat template, with its tools field
                params.verbosity = -1
                self._server = xllamacpp.Server(params)
                self.load_seconds = time.perf_counter() - started
                logger.info("loaded %s from %s in %.2f s", self.name, path, self.load_seconds)
            finally:
                self._loading = False

    async def load(self) -> None:
        """Async :meth:`load_sync`, run in a worker thread so the event loop stays free."""
        if self._server is None:
            await asyncio.to_thread(self.load_sync)

    # -- request building -----------------------------------------------------------

    def build_request(
        self,
        system_instructions: str | None,
        input: str | list[TResponseInputItem],
        model_settings: ModelSettings,
        tools: list,
        handoffs: list,
    ) -> tuple[dict[str, Any], set[str]]:
        """Return ``(chat completions request dict, names of the tools offered)``.

        Messages are in the chat template's own roles (:func:`chat.llm.prompt.template_messages`),
        not yet fitted to the context (:meth:`fit_request` does that with the
        runtime's tokenizer). Sampling comes from :data:`SAMPLING` unless
        ``model_settings`` (or ``self.temperature``) says otherwise;
        ``model_settings.extra_args`` go to llama.cpp verbatim (e.g. seed,
        ignore_eos). Tools are left out after a tool result (the last input
        item is a ``function_call_output``), and a system note asks for the
        answer: small models otherwise call the tool again instead of answering;
        and the history before the newest user message is left out
        (:func:`chat.llm.prompt.current_turn`). Otherwise the user's earlier
        messages are quoted before the newest (:func:`chat.llm.prompt.recap_user_messages`),
        and only the tools the newest message is about are offered
        (:func:`chat.llm.toolchoice.choose_tools`).
        """
        messages: list[dict[str, Any]] = Converter.items_to_messages(input, model=self.name)  # type: ignore[assignment]
        if system_instructions:
            messages.insert(0, {"role": "system", "content": system_instructions})
        after_tool = _last_is_tool_output(input)
        if after_tool:
            # The answer to a tool result sees only this turn: with the thread, it answered older messages.
            messages = current_turn(messages) + [{"role": "system", "content": _ANSWER_NUDGE}]
        else:
            messages = recap_user_messages(messages)  # what the user said, quoted: memory questions need it
        sampling = dict(SAMPLING.get(self.variant, {}))
        if self.temperature is not None:
            sampling["temperature"] = self.temperature
        request: dict[str, Any] = {
            "messages": template_messages(messages),
            "stream": True,
            "max_tokens": model_settings.max_tokens or self.max_tokens,
            **sampling,
        }
        if model_settings.temperature is not None:
            request["temperature"] = model_settings.temperature
        if model_settings.top_p is not None:
            request["top_p"] = model_settings.top_p
        if model_settings.frequency_penalty is not None:
            request["frequency_penalty"] = model_settings.frequency_penalty
        if model_settings.presence_penalty is not None:
            request["presence_penalty"] = model_settings.presence_penalty
        request.update(model_settings.extra_args or {})
        names: set[str] = set()
        if self.supports_tools and not after_tool:
            specs = [Converter.tool_to_openai(t) for t in tools if isinstance(t, FunctionTool)]
            specs += [Converter.convert_handoff_tool(h) for h in handoffs]
            if specs and self.narrow_tools and model_settings.tool_choice in (None, "auto"):
                specs = choose_tools(specs, last_user_text(request["messages"]))
            if specs and model_settings.tool_choice != "none":
                request["tools"] = specs
                names = {s["function"]["name"] for s in specs}
        return request, names

    # -- measuring the prompt ------------------------------------------------------------

    def _runtime_post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """POST to the runtime's own HTTP endpoints (``/apply-template``, ``/tokenize``); return the JSON answer.

        On a kept-alive connection, one per thread (``http.client`` connections
        are not thread-safe), for the few calls that measure one turn: a new
        connection per call (``urllib``) cost about twice as much. The worker
        closes it before generating (:meth:`_close_connection`). A kept
        connection the runtime has closed meanwhile is replaced once (both
        endpoints are read-only, so resending is safe).
        Raises :class:`LocalModelError` for an answer other than HTTP 200, and
        ``OSError`` if the runtime can't be reached.
        """
        data = json.dumps(body).encode()
        conn = self._connection()
        try:
            status, payload = self._post_on(conn, path, data) if conn is not None else (0, b"")
        except (http.client.HTTPException, OSError):
            conn.close()  # type: ignore[union-attr]  # closed by the runtime while idle
            status = 0
        if not status:  # no kept connection, or it was closed: a new one, once
            address = urlsplit(self._server.listening_address)
            self._connections.conn = conn = http.client.HTTPConnection(address.hostname, address.port, timeout=30)
            try:
                status, payload = self._post_on(conn, path, data)
            except BaseException:
                conn.close()
                self._connections.conn = None
                raise
        if status != 200:
            raise LocalModelError(f"{self.name}: llama.cpp {path} answered HTTP {status}: {payload[:300]!r}")
        return json.loads(payload)

    def _connection(self) -> http.client.HTTPConnection | None:
        return getattr(self._connections, "conn", None)

    def _close_connection(self) -> None:
        """Close this thread's kept runtime connection, if any.

        Done once a turn's prompt is measured (and its call decided), before it
        generates: the runtime's HTTP thread for a kept connection wakes every
        10 ms while it waits (cpp-httplib's keep-alive check), which the
        generation's own threads need no part of on 2 cores.
        """
        conn = self._connection()
        if conn is not None:
            conn.close()
            self._connections.conn = None

    @staticmethod
    def _post_on(conn: http.client.HTTPConnection, path: str, data: bytes) -> tuple[int, bytes]:
        conn.request("POST", path, data, {"Content-Type": "application/json"})
        response = conn.getresponse()
        return response.status, response.read()

    def render_prompt(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None = None) -> str:
        """The prompt text the model reads: ``messages`` and ``tools`` rendered with the GGUF's own chat template.

        Blocking (llama.cpp's ``/apply-template``); the model must be loaded.
        """
        body: dict[str, Any] = {"messages": messages}
        if tools:
            body["tools"] = tools
        return self._runtime_post("/apply-template", body)["prompt"]

    def count_tokens(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None = None) -> int:
        """Tokens of the whole prompt as the model will read it (blocking; the model must be loaded).

        Renders ``messages`` and ``tools`` with the GGUF's own chat template and
        tokenises the result with the model's tokenizer (llama.cpp's
        ``/apply-template`` and ``/tokenize``), so the count is exact.
        """
        return self._prompt_tokens(self.render_prompt(messages, tools))

    def _prompt_tokens(self, prompt: str) -> int:
        return len(self._runtime_post("/tokenize", {"content": prompt})["tokens"])

    def fit_request(self, request: dict[str, Any]) -> int:
        """Trim ``request["messages"]`` in place to fit ``n_ctx`` with room for the answer; return the prompt's size in tokens.

        Each candidate prompt is rendered with the chat template; it is
        tokenised only if its UTF-8 bytes (plus :data:`_TOKENS_OVER_BYTES`)
        exceed the budget, since a prompt has at most that many tokens: so the
        returned size is that bound when it alone proves the prompt fits
        (most turns: one runtime call instead of two), and the exact count
        otherwise. Blocking; the model must be loaded.

        Raises :class:`chat.llm.prompt.ContextTooLong` if the newest message alone does not fit.
        """
        budget = self.n_ctx - request["max_tokens"]
        tools = request.get("tools")

        def measure(messages: list[dict[str, Any]]) -> int:
            prompt = self.render_prompt(messages, tools)
            bound = len(prompt.encode()) + _TOKENS_OVER_BYTES
            return bound if bound <= budget else self._prompt_tokens(prompt)

        messages, tokens = fit_messages(request["messages"], measure, budget, n_ctx=self.n_ctx)
        request["messages"] = messages
        return tokens

    # -- deciding whether the turn calls a tool ----------------------------------------

    def _complete(self, body: dict[str, Any], abort: threading.Event | None = None) -> list[dict[str, Any]]:
        """Run one raw-prompt completion (llama.cpp's ``/completion``); return its chunk dicts (blocking)."""
        chunks: list[dict[str, Any]] = []

        def on_chunk(chunk: dict[str, Any]) -> bool:
            chunks.append(chunk)
            return abort is not None and abort.is_set()

        self._server.handle_completions(body, on_chunk)
        for chunk in chunks:
            if "choices" not in chunk:
                err = chunk.get("error", chunk)
                message = err.get("message", err) if isinstance(err, dict) else err
                raise LocalModelError(f"{self.name}: llama.cpp error: {message}")
        return chunks

    def decide_call(
        self, request: dict[str, Any], forced: Collection[str] | None = None, abort: threading.Event | None = None
    ) -> ParsedToolCall | None:
        """Whether this turn calls one of ``request["tools"]``, and the call (blocking; the model must be loaded).

        Rule (:mod:`chat.llm.toolchoice`, "Deciding"): the system prompt, the
        offered tools and the newest user message alone are rendered with the
        chat template; the turn calls a tool when the first token's probability
        of starting a call is at least :data:`~chat.llm.toolchoice.CALL_THRESHOLD`
        (always, when ``forced`` names the tools to choose from). The call is
        then written after ``<tool_call>`` under :func:`~chat.llm.toolchoice.call_schema`,
        so it is well-formed and names an offered tool. Returns ``None`` for no
        call (or a call cut off at ``max_tokens`` that
        :func:`~chat.llm.toolcalls.repair_tool_call` can't rescue). Runs one
        generation at a time with :meth:`_generate`.
        """
        specs = [s for s in request.get("tools", ()) if not forced or s["function"]["name"] in forced]
        if not specs:
            return None
        with self._run_lock:
            prompt = self._runtime_post(
                "/apply-template", {"messages": decision_messages(request["messages"]), "tools": request["tools"]}
            )["prompt"]
            if not forced:
                first = self._complete({"prompt": prompt, "n_probs": 20, "max_tokens": 1, "temperature": 0})
                logprobs = (first[-1]["choices"][0].get("logprobs") or {}).get("content") or [{}]
                p = call_probability(logprobs[0].get("top_logprobs", ()))
                logger.info("%s: call probability %.3f (threshold %.2f)", self.name, p, CALL_THRESHOLD)
                if p < CALL_THRESHOLD:
                    return None
            sampling = {k: request[k] for k in ("temperature", "top_p", "top_k", "repeat_penalty") if k in request}
            body = {
                "prompt": prompt + "<tool_call>\n",
                "json_schema": call_schema(specs),
                "max_tokens": request["max_tokens"],
                "stream": True,
                **sampling,
            }
            text = "".join(c["choices"][0].get("text") or "" for c in self._complete(body, abort))
        names = [s["function"]["name"] for s in specs]
        call = parse_tool_call(text, names) or repair_tool_call(text, names, _required(request))
        if call is None:
            logger.info("%s: the forced call did not finish: %r", self.name, text[:200])
        return call

    def _fit_and_decide(
        self, request: dict[str, Any], forced: Collection[str] | None, abort: threading.Event
    ) -> ParsedToolCall | None:
        """:meth:`fit_request` then :meth:`decide_call`, as one call on the worker thread."""
        try:
            logger.debug("%s: prompt of at most %d tokens", self.name, self.fit_request(request))
            return self.decide_call(request, forced, abort)
        finally:
            self._close_connection()

    async def _call_chunks(self, call: ParsedToolCall) -> AsyncIterator[ChatCompletionChunk]:
        """A decided call as the chunks of an answer that is that one call."""
        cid = f"chatcmpl-{uuid.uuid4().hex}"
        yield self._call_chunk(cid, call)
        yield self._chunk(cid, ChoiceDelta(), "tool_calls")

    # -- generation --------------------------------------------------------------------

    def _generate(self, request: dict[str, Any], put: Any, abort: threading.Event, fit: bool = False) -> None:
        """Worker thread job: run one streaming completion, pushing chunk dicts via ``put``.

        ``fit``: the prompt must fit the context with room for the answer. A
        request whose JSON is within that budget in bytes is first sent as it
        is, llama.cpp measuring it (:meth:`_generate_measured`); otherwise, or
        if that finds it too long, :meth:`fit_request` trims it first.
        """
        try:
            with self._run_lock:
                if abort.is_set():
                    return
                if fit:
                    if self._generate_measured(request, put, abort):
                        return
                    try:
                        logger.debug("%s: prompt of at most %d tokens", self.name, self.fit_request(request))
                    finally:
                        self._close_connection()

                def on_chunk(chunk: dict[str, Any]) -> bool:
                    if abort.is_set():
                        return True  # True tells xllamacpp to stop streaming
                    put(chunk)
                    return False

                self._server.handle_chat_completions(request, on_chunk)
        except BaseException as exc:  # surfaced to the consumer, which re-raises
            put(exc)
        finally:
            put(_END)

    def _generate_measured(self, request: dict[str, Any], put: Any, abort: threading.Event) -> bool:
        """Generate ``request`` unfitted if llama.cpp's own count of its prompt fits; return False if it must be fitted.

        Saves the one ``/apply-template`` call (a new runtime connection, about
        1.7 ms of a 20 ms time to first token on 2 cores) that :meth:`fit_request`
        needs for every turn. With ``return_progress``, llama.cpp's first chunk
        carries the prompt's exact size in tokens (``prompt_progress.total``)
        about 1 ms in, before any of it is processed; over the budget
        (``n_ctx - max_tokens``), the attempt stops there, nothing was put, and
        the caller fits the request as before. Tried only when the request's
        messages and tools are at most the budget in UTF-8 bytes: their
        template then almost surely is in tokens, so the stopped attempt (at
        most one prompt batch of llama.cpp's time) is rare. Blocking; on the
        worker thread, under ``_run_lock``.
        """
        budget = self.n_ctx - request["max_tokens"]
        if len(json.dumps([request["messages"], request.get("tools")]).encode()) > budget:
            return False
        too_long = False

        def on_chunk(chunk: dict[str, Any]) -> bool:
            nonlocal too_long
            progress = chunk.get("prompt_progress")
            error = chunk.get("error")
            if progress is not None:  # not for the consumer: the answer's own chunks follow
                too_long = too_long or progress.get("total", 0) > budget
            elif isinstance(error, dict) and error.get("type") == "exceed_context_size_error":
                too_long = True
            elif not abort.is_set():
                put(chunk)
            return too_long or abort.is_set()  # True tells xllamacpp to stop streaming

        self._server.handle_chat_completions({**request, "return_progress": True}, on_chunk)
        if not too_long:
            logger.debug("%s: prompt measured by llama.cpp within %d tokens", self.name, budget)
        return not too_long

    async def _raw_chunks(
        self, request: dict[str, Any], abort: threading.Event, *, fit: bool = False
    ) -> AsyncIterator[dict[str, Any]]:
        """Yield llama.cpp's streamed chunk dicts; setting ``abort`` stops the worker.

        ``fit``: the request is fitted to the context first (:meth:`fit_request`,
        on the worker thread, in the same job: no extra hop), so
        :class:`~chat.llm.prompt.ContextTooLong` comes from here, before any chunk.
        """
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[Any] = asyncio.Queue()

        def put(item: Any) -> None:
            try:
                loop.call_soon_threadsafe(queue.put_nowait, item)
            except RuntimeError:  # loop closed: nobody is listening any more
                abort.set()

        self._worker.submit(self._generate, request, put, abort, fit)
        finished = False
        try:
            while (item := await queue.get()) is not _END:
                if isinstance(item, ContextTooLong):
                    raise item
                if isinstance(item, BaseException):
                    raise LocalModelError(f"{self.name}: {item}") from item
                if "choices" not in item:
                    err = item.get("error", item)
                    message = err.get("message", err) if isinstance(err, dict) else err
                    raise LocalModelError(f"{self.name}: llama.cpp error: {message}")
                yield item
            finished = True
        finally:
            if not finished:
                abort.set()  # the consumer left early: stop the worker at the next token

    def _text_chunk(self, cid: str, text: str) -> ChatCompletionChunk:
        return ChatCompletionChunk(
            id=cid,
            object="chat.completion.chunk",
            created=int(time.time()),
            model=self.name,
            choices=[Choice(index=0, delta=ChoiceDelta(content=text), finish_reason=None)],
        )

    def _chunk(self, cid: str, delta: ChoiceDelta, finish: str | None = None, usage: Any = None) -> ChatCompletionChunk:
        return ChatCompletionChunk(
            id=cid,
            object="chat.completion.chunk",
            created=int(time.time()),
            model=self.name,
            choices=[Choice(index=0, delta=delta, finish_reason=finish)],
            usage=usage,
        )

    def _call_chunk(self, cid: str, call: Any) -> ChatCompletionChunk:
        return self._chunk(
            cid,
            ChoiceDelta(
                tool_calls=[
                    ChoiceDeltaToolCall(
                        index=0,
                        id=f"call_{uuid.uuid4().hex[:24]}",
                        type="function",
                        function=ChoiceDeltaToolCallFunction(name=call.name, arguments=call.arguments),
                    )
                ]
            ),
        )

    async def _chunks(
        self,
        request: dict[str, Any],
        tool_names: Collection[str],
        abort: threading.Event,
        *,
        retry: bool = True,
        fit: bool = False,
    ) -> AsyncIterator[ChatCompletionChunk]:
        """Turn llama.cpp's text stream into ChatCompletionChunks: tool calls recognised, text guarded.

        * Text is held back only while it could still be a tool call (the whole
          answer one call object) and, once streaming, while it could be
          scaffolding (:class:`chat.llm.guard.ScaffoldingGuard`).
        * A loop (:class:`chat.llm.guard.RepetitionDetector`) or the token cap
          ends the answer with a visible "cut off" note.
        * A call that can't be used (malformed, cut off, to an undeclared tool)
          and an answer that was all scaffolding are asked again once, for text
          only; a second failure gives a short apology, never raw JSON.

        ``fit``: fit the request to the context first (see :meth:`_raw_chunks`).
        """
        cid = f"chatcmpl-{uuid.uuid4().hex}"
        deciding = bool(tool_names)
        held = ""
        guard = ScaffoldingGuard(hidden_notes(request["messages"]), tool_names)
        guard_fitted = not fit  # with ``fit``, the messages are fitted on the worker before the first chunk
        detector = RepetitionDetector()
        answer = ""  # everything the model wrote as text, guarded or not
        finish: str | None = None
        usage: CompletionUsage | None = None
        call = None
        cut: str | None = None  # "loop" | "scaffolding"
        native_call = False
        async for raw in self._raw_chunks(request, abort, fit=fit):
            if not guard_fitted:  # the hidden notes of the prompt as fitted (old turns dropped)
                guard, guard_fitted = ScaffoldingGuard(hidden_notes(request["messages"]), tool_names), True
            if raw.get("usage"):
                usage = CompletionUsage.model_validate(raw["usage"])
            for choice in raw["choices"]:
                finish = choice.get("finish_reason") or finish
                delta = choice.get("delta") or {}
                if delta.get("tool_calls"):
                    # llama.cpp did recognise a call (``<tool_call>`` tags): pass it on.
                    native_call = True
                    calls = [ChoiceDeltaToolCall.model_validate(c) for c in delta["tool_calls"]]
                    yield self._chunk(cid, ChoiceDelta(tool_calls=calls))
                piece = delta.get("content")
                if not piece or cut:
                    continue
                if deciding:
                    held += piece
                    if detector.looping(held):
                        cut = "loop"  # a call that repeats itself (e.g. the same options) won't end well
                        continue
                    if could_be_tool_call(held):
                        continue
                    found = find_tool_call(held, tool_names)
                    if found is not None:
                        call, cut = found[1], "call"  # the sentence before a call is no answer
                        continue
                    if len(held) < _PREAMBLE_CHARS or (_pending_call_start(held) and len(held) < 4 * _PREAMBLE_CHARS):
                        continue  # a call may still follow a first sentence
                    deciding, piece, held = False, held, ""
                answer += piece
                result = guard.feed(piece)
                if result.text:
                    yield self._text_chunk(cid, result.text)
                if result.call is not None:
                    call, cut = result.call, "scaffolding"
                elif result.stop:
                    cut = "scaffolding"
                elif detector.looping(answer):
                    cut = "loop"
            if cut:
                break  # leaving the loop stops llama.cpp at the next token
        if held.strip() and call is None:
            found = find_tool_call(held, tool_names)
            call = found[1] if found else parse_tool_call(held, tool_names)
            if call is None and could_be_tool_call(held):
                call = repair_tool_call(held, tool_names, _required(request))
            if call is None:
                if retry and (looks_like_tool_call(held) or could_be_tool_call(held)):
                    # No usable call and no answer for a person: ask again, for text only.
                    logger.info("%s wrote an unusable tool call; asking again for text", self.name)
                    async with aclosing(self._retry_for_text(request, abort)) as retried:
                        async for chunk in retried:
                            yield chunk
                    return
                result = guard.feed(held)
                if result.text:
                    yield self._text_chunk(cid, result.text)
        if call is None and not cut:
            tail = guard.flush()
            if tail:
                yield self._text_chunk(cid, tail)
        if call is not None:
            finish = "tool_calls"
            yield self._call_chunk(cid, call)
        elif not guard.released.strip() and not native_call:
            if retry:
                logger.info("%s answered with scaffolding only; asking again for text", self.name)
                async with aclosing(self._retry_for_text(request, abort)) as retried:
                    async for chunk in retried:
                        yield chunk
                return
            yield self._text_chunk(cid, _FALLBACK)
        elif cut == "loop":
            yield self._text_chunk(cid, CUT_OFF_LOOP)
        elif finish == "length":
            yield self._text_chunk(cid, CUT_OFF_LENGTH)
        if finish == "length" or cut:
            finish = "stop" if call is None else finish
        yield self._chunk(cid, ChoiceDelta(), finish or "stop", usage)

    async def _retry_for_text(
        self, request: dict[str, Any], abort: threading.Event
    ) -> AsyncIterator[ChatCompletionChunk]:
        """The same request once more without tools, with a note asking for a plain answer.

        ``abort`` (set when the first attempt was cut short) is not reused: the
        retry has its own, set when it ends or its consumer leaves.
        """
        plain = {key: value for key, value in request.items() if key != "tools"}
        messages = list(plain["messages"])
        if not (messages and messages[-1].get("content") == _ANSWER_NUDGE):
            messages.append({"role": "system", "content": _ANSWER_NUDGE})
        plain["messages"] = messages
        own_abort = threading.Event()
        try:
            async with aclosing(self._chunks(plain, (), own_abort, retry=False)) as chunks:
                async for chunk in chunks:
                    yield chunk
        finally:
            own_abort.set()

    @staticmethod
    def _fix_ids(event: Any, ids: dict[int, str]) -> Any:
        """Replace the stream handler's ``__fake_id__`` item ids with unique ones, per output index."""

        def id_for(index: int, kind: str) -> str:
            if index not in ids:
                prefix = "fc" if kind == "function_call" else "msg"
                ids[index] = f"{prefix}_{uuid.uuid4().hex}"
            return ids[index]

        if getattr(event, "item_id", None) == FAKE_RESPONSES_ID:
            event.item_id = id_for(event.output_index, "message")
        item = getattr(event, "item", None)
        if item is not None and getattr(item, "id", None) == FAKE_RESPONSES_ID:
            item.id = id_for(event.output_index, item.type)
        response = getattr(event, "response", None)
        if response is not None:
            for index, out in enumerate(response.output):
                if getattr(out, "id", None) == FAKE_RESPONSES_ID:
                    out.id = id_for(index, out.type)
        return event

    # -- Model API -----------------------------------------------------------------

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
        """Stream one answer as Responses events (created … deltas … completed).

        The answer is either text or one function call. When the turn offers
        tools (and ``narrow_tools`` is on, or ``tool_choice`` forces a call),
        :meth:`decide_call` decides first; no call means a text answer without
        tools, streamed as it comes. Waits for an earlier generation to finish first. Closing/cancelling the iterator stops
        llama.cpp at the next token. ``output_schema`` is not enforced.
        """
        self._active += 1
        try:
            await self.load()
            request, tool_names = self.build_request(system_instructions, input, model_settings, tools, handoffs)
            # The prompt is fitted to the context (measured with the runtime's tokenizer; too long a
            # message is refused before it runs) on the worker thread, in the same job as what follows.
            abort = threading.Event()
            call = None
            fitted = False
            forced = forced_tools(model_settings.tool_choice, tool_names)
            deciding = self.narrow_tools and model_settings.tool_choice in (None, "auto")
            if tool_names and (forced or deciding):
                # Decided on the newest message, then forced: history can't talk the model out of it.
                try:
                    call = await self._worker.run(self._fit_and_decide, request, forced, abort)
                except BaseException:
                    abort.set()  # cancelled while deciding: stop writing the call at the next token
                    raise
                fitted = True
                if call is None:
                    request.pop("tools", None)
                    tool_names = set()
            response = Response(
                id=f"resp_{uuid.uuid4().hex}",
                object="response",
                created_at=time.time(),
                model=self.name,
                output=[],
                tool_choice="auto",
                tools=[],
                parallel_tool_calls=False,
                temperature=request["temperature"],
            )
            ids: dict[int, str] = {}
            if call is not None:
                chunks = self._call_chunks(call)
            else:
                chunks = self._chunks(request, tool_names, abort, fit=not fitted)
            events = ChatCmplStreamHandler.handle_stream(response, chunks, model=self.name)  # type: ignore[arg-type]
            try:
                async for event in events:
                    yield self._fix_ids(event, ids)
            finally:
                abort.set()  # the consumer left or we finished: stop llama.cpp at the next token
                await events.aclose()
                await chunks.aclose()
        finally:
            self._active -= 1

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
        """Run :meth:`stream_response` to the end and return its final output and usage."""
        final: Response | None = None
        async for event in self.stream_response(
            system_instructions, input, model_settings, tools, output_schema, handoffs, tracing
        ):
            if event.type == "response.completed":
                final = event.response
        if final is None:
            raise LocalModelError(f"{self.name}: the stream ended without response.completed")
        usage = Usage(requests=1)
        if final.usage is not None:
            usage = Usage(
                requests=1,
                input_tokens=final.usage.input_tokens,
                output_tokens=final.usage.output_tokens,
                total_tokens=final.usage.total_tokens,
            )
        return ModelResponse(output=list(final.output), usage=usage, response_id=final.id)
