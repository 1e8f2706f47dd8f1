"""Where LocalModel's time to first token goes: perf_counter probes along one cached-prompt answer.

Loads the model once, then alternates ``direct`` (``handle_chat_completions``
on the same server object) and ``ours`` (``LocalModel.stream_response``) with
the prompt and sampling of :mod:`bench.llm_bench`, and prints for each probe
the median (and min-max) milliseconds since ``stream_response`` was called.
The probes wrap methods from outside (nothing in ``chat.llm`` is changed):

* ``build_request`` / ``fit_request`` / ``count_tokens`` (start and end),
* ``_generate`` (the worker thread starts), ``handle_chat_completions`` called,
  its first callback with content (llama.cpp's own first token),
* the first raw chunk on the event loop, the first ChatCompletionChunk,
  each Responses event up to the first ``response.output_text.delta``.

Run: ``.venv/bin/python -m bench.llm_profile [--rounds N] [--max-tokens N] [--threads N]``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
from typing import Any

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chatproject.settings")
os.environ.setdefault("DEBUG", "0")
os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-not-for-production-0123456789")

import django  # noqa: E402

django.setup()

from agents import ModelSettings, ModelTracing  # noqa: E402

import chat.llm.local as local  # noqa: E402
from bench.llm_bench import PROMPT, _direct  # noqa: E402
from chat.server import complete_sdk_models  # noqa: E402

marks: dict[str, float] = {}


def mark(name: str) -> None:
    marks.setdefault(name, time.perf_counter())


class _ServerProbe:
    """Delegates to the real xllamacpp.Server, marking the chat completion's call and first content."""

    def __init__(self, real: Any) -> None:
        self._real = real

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)

    def handle_chat_completions(self, request: dict, on_chunk: Any) -> Any:
        mark("hcc called")

        def probe(chunk: dict) -> bool:
            if any((c.get("delta") or {}).get("content") for c in chunk.get("choices", ())):
                mark("llama.cpp first content (worker thread)")
            return on_chunk(chunk)

        return self._real.handle_chat_completions(request, probe)


def _wrap(cls: Any, name: str, before: str, after: str | None = None) -> None:
    original = getattr(cls, name)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        mark(before)
        try:
            return original(*args, **kwargs)
        finally:
            if after:
                mark(after)

    setattr(cls, name, wrapper)


def _wrap_agen(cls: Any, name: str, first: str) -> None:
    original = getattr(cls, name)

    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        async for item in original(*args, **kwargs):
            mark(first)
            yield item

    setattr(cls, name, wrapper)


def install_probes(model: local.LocalModel) -> None:
    model._server = _ServerProbe(model._server)
    M = local.LocalModel
    _wrap(M, "build_request", "build_request start", "build_request end")
    _wrap(M, "fit_request", "fit_request start (thread)", "fit_request end (thread)")
    _wrap(M, "_runtime_post", "first _runtime_post start")
    _wrap(M, "decide_call", "decide_call start (thread)", "decide_call end (thread)")
    _wrap(M, "_generate", "_generate start (worker thread)")
    _wrap_agen(M, "_raw_chunks", "first raw chunk on loop")
    _wrap_agen(M, "_chunks", "first ChatCompletionChunk")
    handler = local.ChatCmplStreamHandler

    class Handler(handler):  # type: ignore[misc, valid-type]
        @classmethod
        async def handle_stream(cls, *args: Any, **kwargs: Any) -> Any:
            mark("handle_stream entered")
            async for event in handler.handle_stream(*args, **kwargs):
                mark(f"handler yields {event.type}")
                yield event

    local.ChatCmplStreamHandler = Handler


async def ours(model: local.LocalModel, settings: ModelSettings) -> dict[str, float]:
    marks.clear()
    started = time.perf_counter()
    async for event in model.stream_response(None, PROMPT, settings, [], None, [], ModelTracing.DISABLED):
        if event.type == "response.output_text.delta":
            mark("consumer gets first delta")
    return {k: (v - started) * 1000 for k, v in marks.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--max-tokens", type=int, default=8)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--gap", type=float, default=0.0, help="seconds of idle before each measured answer")
    args = parser.parse_args()
    complete_sdk_models()
    model = local.LocalModel(n_threads=args.threads, n_ctx=4096)
    model.load_sync()
    settings = ModelSettings(max_tokens=args.max_tokens, temperature=0.0, extra_args={"seed": 1, "ignore_eos": True})
    request, _ = model.build_request(None, PROMPT, settings, [], [])
    request["stream_options"] = {"include_usage": True}
    _direct(model, request)  # fills the prompt cache
    install_probes(model)
    runs: list[dict[str, float]] = []
    direct: list[float] = []
    with asyncio.Runner() as runner:
        runner.run(ours(model, settings))  # warm-up: first to_thread, first events
        for _ in range(args.rounds):
            time.sleep(args.gap)
            direct.append(_direct(model, request)["ttft_s"] * 1000)
            time.sleep(args.gap)
            runs.append(runner.run(ours(model, settings)))
    names = sorted({k for r in runs for k in r}, key=lambda k: statistics.median(r.get(k, 0) for r in runs))
    print(f"load average {os.getloadavg()}, rounds {args.rounds}, n_threads {args.threads}")
    print(f"{'direct: first content':48s} {statistics.median(direct):7.2f} ms  ({min(direct):.2f}-{max(direct):.2f})")
    for name in names:
        values = [r[name] for r in runs if name in r]
        print(f"{name:48s} {statistics.median(values):7.2f} ms  ({min(values):.2f}-{max(values):.2f})")


if __name__ == "__main__":
    main()
