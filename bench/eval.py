"""``make eval``: does the embedded model hold a real conversation? Scored cases through ``/chatkit``.

Each variant runs in its own real server process (``uvicorn chatproject.asgi``,
a fresh migrated SQLite DB, ``CHATKIT_MODEL=local[:variant]``), and every case
is played as the browser would play it: ``threads.create`` /
``threads.add_user_message`` streamed over HTTP, a quick-reply click as
``threads.custom_action``, a client tool answered with
``threads.add_client_tool_output``, a stop as a closed connection mid-answer.
Each case is a fresh anonymous owner (its own cookie jar).

Scores per case (all from what the protocol shows, nothing from inside the server):

* ``tool``: the tools that ran in the scored turn are exactly the expected ones
  (progress updates of ``current_time`` / ``search_conversation``, a widget item
  for ``show_quick_replies``, a client tool call item for ``switch_theme``), or none;
* ``leak``: no answer of the case shows scaffolding (tool-call JSON or tags,
  tool-result notes, the SDK's hidden cancel note, chat-template tokens);
* ``loop``: no answer repeats itself (a line or an 8-word run three times) and
  none reached the output cap (the visible "cut off" marker, or as long as the cap);
* ``fact``: the scored answer (or error) matches the expected pattern;
* time to first text and to the end of the scored turn.

Run: ``make eval`` or ``python -m bench.eval [--variant local ...] [--max-tokens N] [--only NAME]``.
Writes ``bench/results/eval-<label>.json`` and ``.md`` and prints the table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import signal
import statistics
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, UTC
from pathlib import Path
from typing import Any

import httpx

from bench.servers import Server

RESULTS = Path(__file__).resolve().parent / "results"
CSRF = "e" * 32
CUT_OFF_MARKER = "cut off"

# What must never reach a person: the model's own scaffolding and notes it was given.
SCAFFOLDING = re.compile(
    r"<\|?/?(tool_call|tool_response|im_start|im_end|tools)\|?>"
    r"|\[tool [a-z_]+"
    r"|\breturned: "
    r"|HiddenContext|Hidden context"
    r"|cancell?ed the stream|Stop responding to the prior request"
    r"|wait for their choice|options are shown to the user"
    r"|\"name\"\s*:\s*\"[a-z_]+\"\s*,\s*\"(arguments|parameters)\""
    r"|graphical UI widget",
    re.IGNORECASE,
)


# --- the cases ------------------------------------------------------------------------------


@dataclass
class Case:
    """One conversation. ``steps`` are played in order; the last ``say``/``click`` is scored.

    Step forms: ``("say", text)``, ``("stop", text)`` (close the stream after a few
    deltas), ``("click",)`` (the first quick-reply button shown, else a plain
    ``chat.reply`` action with the fallback text ``click_text``).
    """

    name: str
    category: str
    steps: list[tuple]
    tool: str | None = None  # the tool the scored turn must run (None: no tool)
    fact: str | None = None  # regex the scored answer must match (case-insensitive)
    expect_error: bool = False  # the scored turn must end in an error event, not an answer
    click_text: str = "Lisbon"


def _say(*texts: str) -> list[tuple]:
    return [("say", t) for t in texts]


WEEKDAY = "{weekday}"  # filled in at run time (the server's UTC day)
LONG_NOTE = " ".join(
    f"Line {i}: the warehouse in Aveiro counted {i * 7} boxes of blue tiles today." for i in range(1, 60)
)
# Within CHATKIT_MAX_MESSAGE_CHARS (20,000: longer is refused by the request check) but, at about
# 4,200 tokens, past the embedded model's 4,096-token context: the model's own refusal is scored.
HUGE = "Please read all of this. " + ("The quick brown fox jumps over the lazy dog. " * 420)

CASES: list[Case] = [
    # single-turn chat
    Case("capital", "chat", _say("What is the capital of France?"), fact=r"Paris"),
    Case("explain-concept", "chat", _say("Explain a concept"), fact=r"\w{3,}"),
    Case("arithmetic", "chat", _say("What is 12 times 12?"), fact=r"144"),
    Case("haiku", "chat", _say("Write a haiku about the sea."), fact=r"\w{3,}"),
    Case("python-tips", "chat", _say("Give me three short tips for learning Python."), fact=r"python|practi|code"),
    Case("what-is-timezone", "chat", _say("What is a time zone? One sentence."), fact=r"time"),
    Case("dark-mode-meaning", "chat", _say("In one sentence, what is dark mode in an app?"), fact=r"dark"),
    # multi-turn memory
    Case("memory-name", "memory", _say("Hi! My name is Ana.", "What is my name?"), fact=r"\bAna\b"),
    Case(
        "memory-colour", "memory", _say("My favourite colour is green.", "Which colour do I like best?"), fact=r"green"
    ),
    Case("memory-city", "memory", _say("I live in Porto.", "Which city do I live in?"), fact=r"Porto"),
    Case("memory-dog", "memory", _say("My dog is called Rex.", "What is my dog's name?"), fact=r"\bRex\b"),
    Case("memory-age", "memory", _say("I am 34 years old.", "How old am I?"), fact=r"\b34\b"),
    Case(
        "memory-three-turns",
        "memory",
        _say("I'm planning a trip to Japan.", "I want to go in April.", "Which country and month did I mention?"),
        fact=r"Japan.*April|April.*Japan",
    ),
    # current_time: several wordings, fresh threads and threads with history
    Case("time-now", "tool:current_time", _say("What time is it?"), tool="current_time", fact=r"\d{1,2}:\d{2}"),
    Case(
        "time-tokyo",
        "tool:current_time",
        _say("What's the time in Tokyo right now?"),
        tool="current_time",
        fact=r"\d{1,2}:\d{2}",
    ),
    Case(
        "time-paris",
        "tool:current_time",
        _say("Tell me the current time in Europe/Paris."),
        tool="current_time",
        fact=r"\d{1,2}:\d{2}",
    ),
    Case("time-date", "tool:current_time", _say("What is today's date?"), tool="current_time", fact=r"20\d\d|\d{1,2}"),
    Case(
        "time-weekday-history",
        "tool:current_time",
        _say("Hello, how are you?", "What day of the week is it today?"),
        tool="current_time",
        fact=WEEKDAY,
    ),
    Case(
        "time-again",
        "tool:current_time",
        _say("What time is it in London?", "And what time is it now?"),
        tool="current_time",
        fact=r"\d{1,2}:\d{2}",
    ),
    # search_conversation
    Case(
        "search-lisbon",
        "tool:search_conversation",
        _say("I'm thinking of visiting Lisbon in May.", "Search this conversation for Lisbon."),
        tool="search_conversation",
        fact=r"Lisbon",
    ),
    Case(
        "search-find-rome",
        "tool:search_conversation",
        _say("My sister lives in Rome.", "Find where I mentioned Rome in our chat."),
        tool="search_conversation",
        fact=r"Rome",
    ),
    Case(
        "search-budget",
        "tool:search_conversation",
        _say("My budget for the trip is 900 euros.", "Look up 'budget' in this conversation."),
        tool="search_conversation",
        fact=r"900",
    ),
    Case(
        "search-fresh",
        "tool:search_conversation",
        _say("Search our conversation for the word Berlin."),
        tool="search_conversation",
    ),
    Case(
        "search-earlier",
        "tool:search_conversation",
        _say(
            "The meeting code is 4417.", "What is the capital of Italy?", "Search the conversation for 'meeting code'."
        ),
        tool="search_conversation",
        fact=r"4417",
    ),
    # show_quick_replies
    Case(
        "quick-trip",
        "tool:show_quick_replies",
        _say("Show me quick reply buttons to choose a trip destination."),
        tool="show_quick_replies",
    ),
    Case(
        "quick-plan",
        "tool:show_quick_replies",
        _say("Give me some quick reply options for planning a trip."),
        tool="show_quick_replies",
    ),
    Case(
        "quick-pizza",
        "tool:show_quick_replies",
        _say("Ask me to pick a pizza topping, with buttons."),
        tool="show_quick_replies",
    ),
    Case(
        "quick-drink",
        "tool:show_quick_replies",
        _say("Let me choose between tea and coffee with quick replies."),
        tool="show_quick_replies",
    ),
    Case(
        "quick-history",
        "tool:show_quick_replies",
        _say("I want to cook dinner tonight.", "Show me quick replies to pick a cuisine."),
        tool="show_quick_replies",
    ),
    # switch_theme (a client tool: the eval answers it as the browser would)
    Case("theme-dark", "tool:switch_theme", _say("Switch to dark mode."), tool="switch_theme"),
    Case("theme-light", "tool:switch_theme", _say("Please use the light theme."), tool="switch_theme"),
    Case("theme-turn-on", "tool:switch_theme", _say("Turn on the dark theme."), tool="switch_theme"),
    Case(
        "theme-history",
        "tool:switch_theme",
        _say("What is the capital of Spain?", "Switch to dark mode."),
        tool="switch_theme",
    ),
    Case(
        "theme-history-light",
        "tool:switch_theme",
        _say("Tell me a fun fact about cats.", "Change the theme to light, please."),
        tool="switch_theme",
    ),
    # a widget click, then a question
    Case(
        "click-then-ask",
        "widget",
        [
            ("say", "Show me quick reply buttons to choose a trip destination."),
            ("click",),
            ("say", "Which destination did I pick?"),
        ],
        fact="{clicked}",
    ),
    Case(
        "click-answer",
        "widget",
        [("say", "Ask me to pick a season with quick reply buttons."), ("click",)],
        fact=r"\w{3,}",
        click_text="Summer",
    ),
    # stop, then continue
    Case(
        "stop-then-ask",
        "stop",
        [("stop", "Write a long story about a dragon and a knight."), ("say", "What is 2 + 2?")],
        fact=r"\b4\b|four",
    ),
    Case(
        "stop-then-memory",
        "stop",
        [("say", "My name is Bruno."), ("stop", "Tell me a long story about the sea."), ("say", "What is my name?")],
        fact=r"Bruno",
    ),
    # long messages
    Case("long-fits", "long", _say(LONG_NOTE + "\n\nIn which town is the warehouse?"), fact=r"Aveiro"),
    Case("long-too-long", "long", _say(HUGE), expect_error=True, fact=r"\blimit\b|too long"),
    # non-English
    Case("fr-greeting", "non-english", _say("Bonjour ! Comment vas-tu ?"), fact=r"\w{3,}"),
    Case("es-capital", "non-english", _say("¿Cuál es la capital de España?"), fact=r"Madrid"),
    Case("pt-capital", "non-english", _say("Qual é a capital de Portugal?"), fact=r"Lisboa|Lisbon"),
    Case("de-time", "non-english", _say("Wie spät ist es gerade?"), tool="current_time", fact=r"\d{1,2}:\d{2}"),
    Case("zh-hello", "non-english", _say("你好，请用一句话介绍你自己。"), fact=r"\S{2,}"),
]


# --- playing a case ---------------------------------------------------------------------------


@dataclass
class Turn:
    """What one streamed request showed."""

    kind: str
    text: str = ""
    tools: list[str] = field(default_factory=list)
    error: str | None = None
    ttft: float | None = None  # seconds to the first text delta
    seconds: float = 0.0
    widget: dict | None = None  # the widget item shown, if any


def _tools_in(events: list[dict]) -> list[str]:
    tools = []
    for e in events:
        if e["type"] == "progress_update":
            if e.get("text", "").startswith("Checking the time"):
                tools.append("current_time")
            elif e.get("text", "").startswith("Searching this conversation"):
                tools.append("search_conversation")
        elif e["type"] == "thread.item.done":
            kind = e["item"]["type"]
            if kind == "widget":
                tools.append("show_quick_replies")
            elif kind == "client_tool_call":
                tools.append(e["item"]["name"])
    return tools


class Player:
    """Plays cases against one server over HTTP, as a browser would."""

    def __init__(self, url: str, timeout: float):
        self.url = url
        self.timeout = timeout

    def _client(self) -> httpx.Client:
        client = httpx.Client(base_url=self.url, timeout=self.timeout, headers={"X-CSRFToken": CSRF})
        client.cookies.set("csrftoken", CSRF)
        return client

    def _stream(
        self, client: httpx.Client, kind: str, params: dict, stop_after: int | None = None
    ) -> tuple[Turn, list[dict]]:
        turn = Turn(kind=kind)
        events: list[dict] = []
        body = json.dumps({"type": kind, "params": params})
        started = time.perf_counter()
        deltas = 0
        with client.stream("POST", "/chatkit", content=body, headers={"Content-Type": "application/json"}) as response:
            if response.status_code != 200:
                response.read()
                turn.error = f"HTTP {response.status_code}: {response.text[:200]}"
                turn.seconds = time.perf_counter() - started
                return turn, events
            for line in response.iter_lines():
                if not line.startswith("data: "):
                    continue
                event = json.loads(line[6:])
                events.append(event)
                if event["type"] == "thread.item.updated" and event["update"]["type"].endswith("text_delta"):
                    deltas += 1
                    if turn.ttft is None:
                        turn.ttft = time.perf_counter() - started
                    if stop_after is not None and deltas >= stop_after:
                        break  # leaving the block closes the connection: the user pressed stop
                elif event["type"] == "error":
                    turn.error = event.get("message") or "error"
        turn.seconds = time.perf_counter() - started
        texts = [
            "".join(p.get("text", "") for p in e["item"]["content"])
            for e in events
            if e["type"] == "thread.item.done" and e["item"]["type"] == "assistant_message"
        ]
        turn.text = "\n".join(texts)
        turn.tools = _tools_in(events)
        widgets = [e["item"] for e in events if e["type"] == "thread.item.done" and e["item"]["type"] == "widget"]
        turn.widget = widgets[-1] if widgets else None
        return turn, events

    def play(self, case: Case) -> list[Turn]:
        turns: list[Turn] = []
        thread_id: str | None = None
        widget: dict | None = None
        with self._client() as client:
            for step in case.steps:
                if step[0] in ("say", "stop"):
                    content = {
                        "content": [{"type": "input_text", "text": step[1]}],
                        "attachments": [],
                        "inference_options": {},
                    }
                    stop_after = 3 if step[0] == "stop" else None
                    if thread_id is None:
                        turn, events = self._stream(client, "threads.create", {"input": content}, stop_after)
                        created = [e for e in events if e["type"] == "thread.created"]
                        thread_id = created[0]["thread"]["id"] if created else None
                    else:
                        turn, events = self._stream(
                            client, "threads.add_user_message", {"thread_id": thread_id, "input": content}, stop_after
                        )
                    if step[0] == "stop":
                        time.sleep(1.5)  # the server saves the partial answer and its cancel note
                else:  # click
                    action: dict[str, Any] = {"type": "chat.reply", "payload": {"text": case.click_text}}
                    params: dict[str, Any] = {"thread_id": thread_id, "action": action}
                    buttons = _buttons(widget) if widget else []
                    if buttons:
                        action["payload"] = buttons[0]
                        params["item_id"] = widget["id"]
                    turn, events = self._stream(client, "threads.custom_action", params)
                    turn.kind = "click:" + str(action["payload"].get("text"))
                if turn.widget:
                    widget = turn.widget
                turns.append(turn)
                # A client tool call: the page runs it and sends its output back, as the browser does.
                if "switch_theme" in turn.tools and thread_id:
                    follow, _ = self._stream(
                        client, "threads.add_client_tool_output", {"thread_id": thread_id, "result": {"ok": True}}
                    )
                    turn.text = "\n".join(t for t in (turn.text, follow.text) if t)
                    turn.error = turn.error or follow.error
                    turn.seconds += follow.seconds
                if thread_id is None:
                    break
        return turns


def _buttons(widget: dict) -> list[dict]:
    """The ``chat.reply`` payloads of a widget's buttons, in order."""
    found: list[dict] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            action = node.get("onClickAction")
            if isinstance(action, dict) and action.get("type") == "chat.reply":
                found.append(action.get("payload") or {})
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(widget.get("widget"))
    return found


# --- scoring -----------------------------------------------------------------------------------


def repeats(text: str) -> bool:
    """The eval's own loop check: a non-trivial line, or any 8-word run, three times or more."""
    lines = [ln.strip() for ln in text.splitlines() if len(ln.strip()) > 12]
    if lines and max(lines.count(ln) for ln in set(lines)) >= 3:
        return True
    words = re.findall(r"\w+", text.lower())
    seen: dict[tuple, int] = {}
    for i in range(len(words) - 7):
        key = tuple(words[i : i + 8])
        seen[key] = seen.get(key, 0) + 1
        if seen[key] >= 3:
            return True
    return False


def capped(text: str, max_tokens: int) -> bool:
    """Whether an answer ran to the output cap: the visible marker, or ~as long as the cap."""
    return "reached the length limit" in text[-80:] or len(text) >= 3.6 * max_tokens


def looped(text: str) -> bool:
    """A loop: the eval's own check, or the product's own loop stop (its "repeating itself" note)."""
    return repeats(text) or "started repeating itself" in text[-80:]


def score(
    case: Case, answers: list[dict], ttft: float | None, seconds: float, max_tokens: int, weekday: str
) -> dict[str, Any]:
    """Score one played case from its answers (``{"kind", "text", "tools", "error"}`` per step)."""
    last = answers[-1]
    texts = [a["text"] for a in answers]
    clicked = [a["kind"].split(":", 1)[1] for a in answers if a["kind"].startswith("click:")]
    context = {"weekday": weekday, "clicked": re.escape(clicked[0]) if clicked else "(?!)"}
    fact_re = case.fact
    for key, value in context.items():
        fact_re = fact_re and fact_re.replace("{" + key + "}", value)
    target = (last["error"] or "") if case.expect_error else last["text"]
    result = {
        "name": case.name,
        "category": case.category,
        "expected_tool": case.tool,
        "tools": last["tools"],
        "tool_ok": last["tools"] == ([case.tool] if case.tool else []),
        "leak_ok": not any(SCAFFOLDING.search(t) for t in texts),
        "loop_ok": not any(looped(t) for t in texts),
        "capped": any(capped(t, max_tokens) for t in texts),
        "loop_to_cap": any(looped(t) and capped(t, max_tokens) for t in texts),
        "fact_ok": (bool(re.search(fact_re, target, re.IGNORECASE | re.DOTALL)) if fact_re else True)
        and (bool(last["error"]) == case.expect_error),
        "ttft": ttft,
        "seconds": round(seconds, 2),
        "error": last["error"],
        "answers": answers,
    }
    result["pass"] = all(result[k] for k in ("tool_ok", "leak_ok", "loop_ok", "fact_ok"))
    return result


def summarise(rows: list[dict]) -> dict[str, Any]:
    def rate(sel: list[dict], key: str) -> str:
        return f"{sum(r[key] for r in sel)}/{len(sel)}" if sel else "—"

    tool_cases = [r for r in rows if r["expected_tool"]]
    no_tool = [r for r in rows if not r["expected_tool"]]
    memory = [r for r in rows if r["category"] == "memory" or r["name"] == "stop-then-memory"]
    ttfts = [r["ttft"] for r in rows if r["ttft"] is not None]
    return {
        "cases": len(rows),
        "passed": rate(rows, "pass"),
        "right tool (tool cases)": rate(tool_cases, "tool_ok"),
        "no tool when none asked": rate(no_tool, "tool_ok"),
        "leaked scaffolding": sum(not r["leak_ok"] for r in rows),
        "loops (any)": sum(not r["loop_ok"] for r in rows),
        "loops that reached the cap": sum(r.get("loop_to_cap", False) for r in rows),
        "answers that reached the cap": sum(r["capped"] for r in rows),
        "multi-turn memory": rate(memory, "fact_ok"),
        "expected fact": rate(rows, "fact_ok"),
        "TTFT p50 (s)": round(statistics.median(ttfts), 2) if ttfts else None,
        "turn p50 (s)": round(statistics.median(r["seconds"] for r in rows), 2),
        "turn max (s)": round(max(r["seconds"] for r in rows), 2),
    }


def markdown(label: str, variant: str, rows: list[dict], summary: dict, meta: dict) -> str:
    out = [
        f"### `{variant}` ({label})",
        "",
        f"{meta['command']} — {meta['when']}, {meta['machine']}, max {meta['max_tokens']} tokens per answer, {meta.get('threads', 2)} model thread(s), {_load(meta)}{meta['total_seconds']:.0f} s in all.",
        "",
    ]
    out += ["| metric | value |", "|---|---|"] + [f"| {k} | {v} |" for k, v in summary.items()] + [""]
    out += [
        "| case | category | tool (expected → ran) | leak | loop | fact | TTFT s | turn s | pass |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    mark = {True: "ok", False: "**FAIL**"}
    for r in rows:
        ran = ",".join(r["tools"]) or "—"
        ttft = f"{r['ttft']:.1f}" if r["ttft"] is not None else "—"
        out.append(
            f"| {r['name']} | {r['category']} | {r['expected_tool'] or '—'} → {ran} | {mark[r['leak_ok']]} | "
            f"{mark[r['loop_ok']]} | {mark[r['fact_ok']]} | {ttft} | {r['seconds']:.1f} | {mark[r['pass']]} |"
        )
    return "\n".join(out) + "\n"


def _load(meta: dict) -> str:
    load = meta.get("load_average")
    return f"load average at the end {', '.join(f'{x:.1f}' for x in load)}, " if load else ""


def installed_variants() -> list[str]:
    """``local`` plus ``local:<variant>`` for every other tool-capable variant whose weights are installed."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chatproject.settings")
    import django

    django.setup()
    from chat.llm.weights import DEFAULT_VARIANT, VARIANTS, WeightsError, find_parts

    found = ["local"]
    for name, spec in VARIANTS.items():
        if name == DEFAULT_VARIANT or not spec.supports_tools:
            continue
        try:
            find_parts(spec)
        except WeightsError:
            continue
        found.append(f"local:{name}")
    return found


def run_variant(
    variant: str, cases: list[Case], max_tokens: int, label: str, timeout: float, threads: int
) -> tuple[list[dict], dict]:
    server = Server(
        name=variant,
        kind="django-uvicorn",
        extra_env={
            "CHATKIT_MODEL": variant,
            "CHATKIT_LOCAL_MAX_TOKENS": str(max_tokens),
            "CHATKIT_LOCAL_THREADS": str(threads),
            "CHATKIT_MODEL_TIMEOUT": str(timeout),
            "LOG_LEVEL": "INFO",
        },
    ).start()
    started = time.perf_counter()
    rows: list[dict] = []
    try:
        player = Player(f"http://127.0.0.1:{server.port}", timeout=timeout + 30)
        player.play(Case("warm-up", "warm-up", _say("Say OK.")))  # loads the weights, unscored
        for case in cases:
            try:
                turns = player.play(case)
            except Exception as exc:  # a broken case is a failed case, not a broken eval
                turns = [Turn(kind="crash", error=f"{type(exc).__name__}: {exc}")]
            answers = [{"kind": t.kind, "text": t.text, "tools": t.tools, "error": t.error} for t in turns]
            weekday = datetime.now(UTC).strftime("%A")
            row = score(case, answers, turns[-1].ttft, turns[-1].seconds, max_tokens, weekday)
            rows.append(row)
            flag = "PASS" if row["pass"] else "fail"
            print(
                f"  {flag} {case.name:22} tools={row['tools']} {row['seconds']:.1f}s  {turns[-1].text[:90]!r}",
                flush=True,
            )
    finally:
        server.stop()
    meta = {
        "variant": variant,
        "label": label,
        "max_tokens": max_tokens,
        "threads": threads,
        "load_average": os.getloadavg(),
        "when": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{os.cpu_count()} cores, Python {platform.python_version()}",
        "total_seconds": time.perf_counter() - started,
        "command": "`" + " ".join(["python -m bench.eval", *sys.argv[1:]]) + "`",
    }
    return rows, meta


def main() -> None:
    # A terminated eval still stops its server (the finally blocks run on SystemExit).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--variant", action="append", help="a CHATKIT_MODEL spec (default: every installed local variant)"
    )
    parser.add_argument("--max-tokens", type=int, default=256, help="answer cap per model call (default 256)")
    parser.add_argument("--label", default="latest", help="results go to bench/results/eval-<label>-<variant>.*")
    parser.add_argument("--only", action="append", help="run only the named cases")
    parser.add_argument("--rescore", type=Path, nargs="+", help="score saved results JSON again (no model run)")
    parser.add_argument("--timeout", type=float, default=180.0)
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="the model's CPU threads (default 1: on 2 shared cores, 2 threads collapse under others' load)",
    )
    args = parser.parse_args()
    cases = [c for c in CASES if not args.only or c.name in args.only]
    RESULTS.mkdir(exist_ok=True)
    if args.rescore:
        for path in args.rescore:
            rescore(path)
        return
    for variant in args.variant or installed_variants():
        print(f"== {variant}: {len(cases)} cases", flush=True)
        rows, meta = run_variant(variant, cases, args.max_tokens, args.label, args.timeout, args.threads)
        summary = summarise(rows)
        stem = RESULTS / f"eval-{args.label}-{variant.replace(':', '-')}"
        stem.with_suffix(".json").write_text(
            json.dumps({"meta": meta, "summary": summary, "cases": rows}, indent=2, ensure_ascii=False)
        )
        table = markdown(args.label, variant, rows, summary, meta)
        stem.with_suffix(".md").write_text(table)
        print(table, flush=True)


def rescore(path: Path) -> None:
    """Score a saved run again with the current rules; rewrite its JSON and Markdown."""
    saved = json.loads(path.read_text())
    meta = saved["meta"]
    by_name = {c.name: c for c in CASES}
    weekday = datetime.strptime(meta["when"], "%Y-%m-%d %H:%M UTC").strftime("%A")
    rows = [
        score(by_name[r["name"]], r["answers"], r["ttft"], r["seconds"], meta["max_tokens"], weekday)
        for r in saved["cases"]
        if r["name"] in by_name
    ]
    summary = summarise(rows)
    path.write_text(json.dumps({"meta": meta, "summary": summary, "cases": rows}, indent=2, ensure_ascii=False))
    table = markdown(meta["label"], meta["variant"], rows, summary, meta)
    path.with_suffix(".md").write_text(table)
    print(table)


if __name__ == "__main__":
    main()
