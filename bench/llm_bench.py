"""How fast is the embedded model, and what does LocalModel add on top of llama.cpp?

``measure()`` loads a fresh :class:`chat.llm.local.LocalModel`, then runs the
same prompt with the same sampling (greedy, fixed seed, ``ignore_eos`` so both
paths decode exactly ``max_tokens`` tokens) twice per round:

* ``direct``: ``xllamacpp.Server.handle_chat_completions`` with a streaming
  callback, on the model's own server object;
* ``local_model``: ``LocalModel.stream_response`` (prompt measuring, thread
  hop, chunk conversion, ``ChatCmplStreamHandler``, Responses events).

Time to first token is the first content delta in both: the callback's first
chunk with ``content``, and the first ``response.output_text.delta`` event.
Each timed answer follows a finished answer to the same prompt (so both find
the prompt in llama.cpp's cache), the two paths take turns going first in a
round (neither always runs right behind the other), and ``stream_response``
runs on one event loop for all rounds, as in a server process.

Run: ``.venv/bin/python -m bench.llm_bench [--variant V] [--max-tokens N] [--rounds R]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import time
from typing import Any

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chatproject.settings")
# As `make bench` runs it (bench/servers.py BASE_ENV): production settings, which need a key.
os.environ.setdefault("DEBUG", "0")
os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-not-for-production-0123456789")
os.environ.setdefault("LOG_LEVEL", "WARNING")

import django  # noqa: E402

django.setup()

from agents import ModelSettings, ModelTracing  # noqa: E402

from chat.llm.local import LocalModel  # noqa: E402
from chat.server import complete_sdk_models  # noqa: E402

PROMPT = "Write a short story about a lighthouse keeper and a cat."
# First-token-only answers per path per round, on top of the full ones: on this loaded 2-core
# machine one TTFT swings from 35 to 1000 ms, so two samples (rounds=2) decided the ratio by luck.
# Even idle, llama.cpp's first token is bimodal for both paths (~18 or ~36 ms: a decode step more,
# in runs of it), so 12 samples per path (5 before) still gave 1.07-1.55x for the same code; 26
# per path (rounds=2) gave 1.05-1.11x in three runs (2026-12-02).
TTFT_SAMPLES = 12


def _rss_mb() -> float:
    """Resident set size of this process in MiB (from /proc, so no psutil needed)."""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _direct(model: LocalModel, request: dict[str, Any]) -> dict[str, float]:
    """One streamed completion straight through xllamacpp; times in seconds."""
    started = time.perf_counter()
    first: list[float] = []
    pieces = [0]
    usage: dict[str, Any] = {}

    def on_chunk(chunk: dict[str, Any]) -> bool:
        for choice in chunk.get("choices", ()):
            if (choice.get("delta") or {}).get("content"):
                if not first:
                    first.append(time.perf_counter())
                pieces[0] += 1
        usage.update(chunk.get("usage") or {})
        return False

    model._server.handle_chat_completions(request, on_chunk)
    return _stats(started, first[0] if first else None, time.perf_counter(), usage, pieces[0])


def _direct_first(model: LocalModel, request: dict[str, Any]) -> float:
    """Seconds to the first content chunk straight through xllamacpp; the answer is stopped there."""
    started = time.perf_counter()
    first: list[float] = []

    def on_chunk(chunk: dict[str, Any]) -> bool:
        if any((choice.get("delta") or {}).get("content") for choice in chunk.get("choices", ())):
            first.append(time.perf_counter())
        return bool(first)  # True stops the generation

    model._server.handle_chat_completions(request, on_chunk)
    return first[0] - started


async def _via_model_first(model: LocalModel, settings: ModelSettings) -> float:
    """Seconds to the first ``response.output_text.delta`` through LocalModel; the stream is closed there."""
    started = time.perf_counter()
    first = None
    stream = model.stream_response(None, PROMPT, settings, [], None, [], ModelTracing.DISABLED)
    try:
        async for event in stream:
            if event.type == "response.output_text.delta":
                first = time.perf_counter()
                break
    finally:
        await stream.aclose()
    # Untimed: the closed answer stops at its next token; the next sample finds the runtime idle.
    while model.is_busy() or model._run_lock.locked():
        await asyncio.sleep(0.001)
    assert first is not None
    return first - started


async def _via_model(model: LocalModel, settings: ModelSettings) -> dict[str, float]:
    """One streamed answer through LocalModel.stream_response; times in seconds."""
    started = time.perf_counter()
    first: float | None = None
    deltas = 0
    usage: dict[str, Any] = {}
    async for event in model.stream_response(None, PROMPT, settings, [], None, [], ModelTracing.DISABLED):
        if event.type == "response.output_text.delta":
            first = first or time.perf_counter()
            deltas += 1
        elif event.type == "response.completed" and event.response.usage:
            usage = {"completion_tokens": event.response.usage.output_tokens}
    return _stats(started, first, time.perf_counter(), usage, deltas)


def _stats(started: float, first: float | None, done: float, usage: dict, pieces: int) -> dict:
    tokens = usage.get("completion_tokens") or pieces
    first = first or done
    return {
        "ttft_s": first - started,
        "total_s": done - started,
        "tokens": tokens,
        "deltas": pieces,
        # Decode rate after the first token (the first token pays for the prompt).
        "tokens_per_s": (tokens - 1) / (done - first) if tokens > 1 and done > first else 0.0,
    }


def _median(runs: list[dict[str, float]]) -> dict[str, float]:
    return {k: round(statistics.median(r[k] for r in runs), 4) for k in runs[0]}


def measure(
    variant: str = "qwen2.5-coder-0.5b",
    *,
    max_tokens: int = 64,
    rounds: int = 3,
    n_threads: int = 2,
    n_ctx: int = 4096,
) -> dict[str, Any]:
    """Measure load time, RSS, time to first token and decode rate; return a JSON-able dict.

    Keys: ``variant``, ``load_s`` (weights join check + llama.cpp load),
    ``rss_before_mb``/``rss_after_load_mb`` (MiB), ``cold_ttft_s`` (first
    answer, prompt not cached), ``direct`` and
    ``local_model`` (medians over ``rounds`` of ``total_s``,
    ``tokens``, ``deltas``, ``tokens_per_s``, and ``ttft_s``, the median of
    ``ttft_n`` samples: the full answers' and :data:`TTFT_SAMPLES` first-token-only
    answers per round; prompt cached), ``load_average``
    (the machine's, since other work skews the numbers) and ``overhead_pct`` (how much
    lower LocalModel's tokens/s is than direct's). Blocking; takes about
    ``rounds * 2 * max_tokens / 25`` seconds on this 2-core machine.
    """
    # As a server process does when it starts (ChatServer()): the Responses event models, complete.
    complete_sdk_models()
    rss_before = _rss_mb()
    model = LocalModel(variant, n_threads=n_threads, n_ctx=n_ctx)
    started = time.perf_counter()
    model.load_sync()
    load_s = time.perf_counter() - started
    rss_after = _rss_mb()

    settings = ModelSettings(max_tokens=max_tokens, temperature=0.0, extra_args={"seed": 1, "ignore_eos": True})
    request, _ = model.build_request(None, PROMPT, settings, [], [])
    request["stream_options"] = {"include_usage": True}

    direct, via = [], []
    ttft_direct: list[float] = []
    ttft_via: list[float] = []
    # Warm-up: its TTFT includes prompt processing (nothing cached yet); it then
    # fills llama.cpp's prompt cache for both paths alike.
    cold = _direct(model, request)
    with asyncio.Runner() as runner:
        # One untimed answer through LocalModel too: a process's first answer pays one-off costs.
        runner.run(_via_model(model, settings))
        for i in range(rounds):
            if i % 2:
                via.append(runner.run(_via_model(model, settings)))
                direct.append(_direct(model, request))
            else:
                direct.append(_direct(model, request))
                via.append(runner.run(_via_model(model, settings)))
            for j in range(TTFT_SAMPLES):
                if (i + j) % 2:
                    ttft_via.append(runner.run(_via_model_first(model, settings)))
                    ttft_direct.append(_direct_first(model, request))
                else:
                    ttft_direct.append(_direct_first(model, request))
                    ttft_via.append(runner.run(_via_model_first(model, settings)))
    d, v = _median(direct), _median(via)
    for medians, runs, firsts in ((d, direct, ttft_direct), (v, via, ttft_via)):
        samples = [r["ttft_s"] for r in runs] + firsts
        medians["ttft_s"] = round(statistics.median(samples), 4)
        medians["ttft_n"] = len(samples)
        medians["ttft_range_s"] = [round(min(samples), 4), round(max(samples), 4)]
    return {
        "variant": variant,
        "max_tokens": max_tokens,
        "rounds": rounds,
        "n_threads": n_threads,
        "load_s": round(load_s, 3),
        "rss_before_mb": round(rss_before, 1),
        "rss_after_load_mb": round(rss_after, 1),
        "cold_ttft_s": round(cold["ttft_s"], 4),
        "direct": d,
        "local_model": v,
        "overhead_pct": round(100 * (1 - v["tokens_per_s"] / d["tokens_per_s"]), 1) if d["tokens_per_s"] else None,
        "load_average": os.getloadavg(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variant", default="qwen2.5-coder-0.5b")
    parser.add_argument("--max-tokens", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    result = measure(args.variant, max_tokens=args.max_tokens, rounds=args.rounds, n_threads=args.threads)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
