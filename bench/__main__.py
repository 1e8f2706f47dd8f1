"""``python -m bench [--quick]``: the whole benchmark, one table of ratios.

Every figure comes from this one run on this machine; contenders are
interleaved round by round so drift hits all alike. Writes
``bench/results/latest.json`` (raw), ``latest.md`` (the table) and
``latest.png`` (chart), and prints the table.

Contenders (all on ``chat.server.ChatServer`` with the echo model):

* floor: ``server.process(...)`` consumed in-process, in-memory store, no HTTP;
* FastAPI + uvicorn, in-memory store (the ChatKit samples' architecture): the baseline;
* FastAPI + uvicorn, aiosqlite JSON-row store (the SDK tests' shape);
* Django + daphne (as ``runserver`` serves it) and Django + uvicorn (production), on SQLite.

Floor and FastAPI run twice: with the SDK's stock ``ChatKitServer.process``
("as shipped": a ``TypeAdapter(ChatKitReq)`` per request) and with
``ChatServer.process`` ("fixed": one adapter per process, as ours does).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, UTC
from pathlib import Path

from bench.history import measure_latency
from bench.servers import ROOT, Server, env_with, migrated_copy
from bench.streams import run_streams
from bench.workload import Config, http_turns, pct

RESULTS = Path(__file__).resolve().parent / "results"

# (key, label, server kind, stock)
HTTP_CONTENDERS = [
    ("fastapi_mem_stock", "FastAPI+uvicorn mem (stock)", "fastapi-memory", True),
    ("fastapi_mem", "FastAPI+uvicorn mem", "fastapi-memory", False),
    ("fastapi_sqlite_stock", "FastAPI+uvicorn SQLite (stock)", "fastapi-sqlite", True),
    ("fastapi_sqlite", "FastAPI+uvicorn SQLite", "fastapi-sqlite", False),
    ("django_daphne", "Django+daphne SQLite (ours)", "django-daphne", False),
    ("django_uvicorn", "Django+uvicorn SQLite (ours)", "django-uvicorn", False),
]
FLOOR = [("floor_stock", "floor in-process (stock)"), ("floor", "floor in-process")]
COLUMNS = [FLOOR[0], FLOOR[1]] + [(k, label) for k, label, _, _ in HTTP_CONTENDERS]
BASELINE = "fastapi_mem"
OURS = "django_uvicorn"


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def django_app() -> str:
    """``chatproject.asgi:application`` once ``chat.llm`` selects the echo model by name."""
    probe = subprocess.run(
        [sys.executable, "-c", "import bench.apps as a; print(a.has_model_registry())"],
        cwd=ROOT,
        env=env_with(),
        capture_output=True,
        text=True,
    )
    return "chatproject.asgi:application" if probe.stdout.strip().endswith("True") else "bench.apps:django_application"


# --- figures 1 and 2 ----------------------------------------------------------


def run_floor(cfg: Config, order: list[str], db: str) -> dict:
    raw = dict(cfg.__dict__, order=order)
    p = subprocess.run(
        [sys.executable, "-m", "bench.floor", json.dumps(raw)],
        cwd=ROOT,
        env=env_with(DATABASE_URL=f"sqlite:///{db}"),
        capture_output=True,
        text=True,
        timeout=600,
    )
    if p.returncode != 0:
        raise RuntimeError(f"floor failed: {p.stderr[-2000:]}")
    return json.loads(p.stdout.strip().splitlines()[-1])


async def figures_1_2(cfg: Config, rounds: int, app: str) -> dict:
    servers: dict[str, Server] = {}
    null = Server("null", "null").start()
    floor_db = os.path.join(null.tmp.name, "floor.sqlite3")  # ChatServer reads widget templates from it
    migrated_copy(floor_db)
    try:
        for key, label, kind, stock in HTTP_CONTENDERS:
            servers[key] = Server(label, kind, stock=stock, app=app).start(wait=False)
        for s in servers.values():
            s.wait_ready()
        log(f"servers up: {', '.join(f'{k}:{s.port}' for k, s in servers.items())}")
        acc: dict[str, list[dict]] = {k: [] for k, _ in COLUMNS}
        acc["null"] = []
        keys = list(servers) + ["floor", "null"]
        for r in range(rounds):
            # Rotate the order each round so no contender always runs first or last.
            order = keys[r % len(keys) :] + keys[: r % len(keys)]
            for key in order:
                t0 = time.perf_counter()
                if key == "floor":
                    out = run_floor(cfg, ["stock", "fixed"] if r % 2 == 0 else ["fixed", "stock"], floor_db)
                    acc["floor_stock"].append(out["stock"])
                    acc["floor"].append(out["fixed"])
                elif key == "null":
                    acc["null"].append(await http_turns("127.0.0.1", null.port, cfg))
                else:
                    acc[key].append(await http_turns("127.0.0.1", servers[key].port, cfg))
                log(f"round {r + 1}/{rounds} {key}: {time.perf_counter() - t0:.1f}s")
    finally:
        null.stop()
        for s in servers.values():
            s.stop()
    return {key: merge(runs) for key, runs in acc.items()}


def merge(runs: list[dict]) -> dict:
    lat = [x for r in runs for x in r["latency"]]
    ttfe = [x for r in runs for x in r["ttfe"]]
    return {
        "latency_p50": pct(lat, 50),
        "latency_p99": pct(lat, 99),
        "ttfe_p50": pct(ttfe, 50),
        "ttfe_p99": pct(ttfe, 99),
        "event_cost": statistics.median(r["event_cost"] for r in runs),
        "throughput": statistics.median(r["throughput"] for r in runs),
        "throughput_rounds": [r["throughput"] for r in runs],
        "frames_per_turn": statistics.median(r["frames_per_turn"] for r in runs),
        "errors": sum(r["errors"] for r in runs),
        "samples": len(lat),
    }


# --- figure 3 -------------------------------------------------------------------


async def figure_3(n: int, n_words: int, delay: float, ramp: float, app: str) -> dict:
    out = {}
    for key, label, kind, stock in HTTP_CONTENDERS:
        if stock:
            continue
        server = Server(label, kind, app=app, delay=delay).start()
        try:
            t0 = time.perf_counter()
            out[key] = await run_streams(server, n, n_words, delay, ramp)
            log(
                f"streams {key}: {time.perf_counter() - t0:.1f}s, lag p99 {out[key]['lag_p99'] * 1000:.0f} ms, "
                f"errors {out[key]['errors']}"
            )
        except Exception as exc:  # a contender that breaks down is a result, not a crash
            out[key] = {"failed": repr(exc), "log": server.log_tail()}
            log(f"streams {key} failed: {exc!r}")
        finally:
            server.stop()
    return out


# --- figure 4 -------------------------------------------------------------------


async def figure_4(sizes: list[int], n: int, app: str) -> dict:
    tmp = tempfile.TemporaryDirectory(prefix="bench-history-")
    try:
        db = os.path.join(tmp.name, "history.sqlite3")
        migrated_copy(db)
        t0 = time.perf_counter()
        p = subprocess.run(
            [sys.executable, "-m", "bench.history", db, ",".join(map(str, sizes))],
            cwd=ROOT,
            env=env_with(DATABASE_URL=f"sqlite:///{db}"),
            capture_output=True,
            text=True,
            timeout=900,
        )
        if p.returncode != 0:
            raise RuntimeError(f"history seeding failed: {p.stderr[-2000:]}")
        seeded = json.loads(p.stdout.strip().splitlines()[-1])
        log(f"history seeded in {time.perf_counter() - t0:.1f}s")
        server = Server("history", "django-uvicorn", app=app).start(db_path=db)
        try:
            latency = await measure_latency(server.port, seeded["session"], seeded["threads"], n)
        finally:
            server.stop()
        return {"sizes": sizes, "seed_seconds": seeded["seed_seconds"], "queries": seeded["queries"], **latency}
    finally:
        tmp.cleanup()


# --- figure 5 -------------------------------------------------------------------


def figure_5(quick: bool) -> dict:
    if not (RESULTS.parent / "llm_bench.py").exists():
        return {"pending": "bench/llm_bench.py is not there yet"}
    code = (
        "import json, sys; from bench.llm_bench import measure; "
        f"r = measure(max_tokens={16 if quick else 32}, rounds={1 if quick else 2}); "
        "sys.stdout.write('\\n' + json.dumps(r) + '\\n')"
    )
    try:
        p = subprocess.run(
            [sys.executable, "-c", code], cwd=ROOT, env=env_with(), capture_output=True, text=True, timeout=480
        )
    except subprocess.TimeoutExpired:
        return {"pending": "llm_bench.measure took over 480 s"}
    if p.returncode != 0:
        return {"pending": "llm_bench.measure failed", "stderr": p.stderr[-1500:]}
    return json.loads(p.stdout.strip().splitlines()[-1])


# --- the table ------------------------------------------------------------------


def ratio(a: float | None, b: float | None) -> float | None:
    if a is None or b is None or not b or a != a or b != b:
        return None
    return a / b


def fmt_ratio(x: float | None) -> str:
    return "—" if x is None else f"{x:.2f}×"


def build_table(res: dict) -> tuple[list[str], list[list[str]], list[str]]:
    t = res["turns"]
    base = t[BASELINE]
    header = ["Figure", "Metric"] + [label for _, label in COLUMNS] + ["Target (ours = Django+uvicorn)", "Verdict"]
    rows: list[list[str]] = []
    notes: list[str] = []

    def verdict(ok: bool | None, daphne_ok: bool | None = None) -> str:
        if ok is None:
            return "n/a"
        v = "PASS" if ok else "FALL SHORT"
        if daphne_ok is not None:
            v += f" (daphne: {'PASS' if daphne_ok else 'FALL SHORT'})"
        return v

    def ratio_row(fig, metric, field, unit_scale, unit, target_text, check):
        cells = []
        for key, _ in COLUMNS:
            r = ratio(t[key][field], base[field])
            cell = fmt_ratio(r)
            if key == BASELINE:
                cell = f"1.00× ({base[field] * unit_scale:.{1 if unit_scale > 1 else 0}f} {unit})"
            cells.append(cell)
        ours, daphne = check(t[OURS]), check(t["django_daphne"])
        rows.append([fig, metric] + cells + [target_text, verdict(ours, daphne)])

    ratio_row(
        "1",
        "turn latency p50, c=1 (50-word echo)",
        "latency_p50",
        1000,
        "ms",
        "≤ 1.25× baseline (FastAPI mem, fixed)",
        lambda x: x["latency_p50"] <= 1.25 * base["latency_p50"],
    )
    ratio_row("1", "turn latency p99, c=1", "latency_p99", 1000, "ms", "—", lambda x: None)
    ratio_row(
        "1",
        "throughput, c=16 (turns/s)",
        "throughput",
        1,
        "turns/s",
        "≥ 0.80× baseline",
        lambda x: x["throughput"] >= 0.80 * base["throughput"],
    )
    ratio_row("2", "time to first event p50", "ttfe_p50", 1000, "ms", "—", lambda x: None)
    ratio_row("2", "cost per streamed event", "event_cost", 1000, "ms", "—", lambda x: None)
    rows[-1][-1] = rows[-2][-1] = rows[-4][-1] = "—"

    s = res["streams"]
    n_streams = next((v["streams"] for v in s.values() if "streams" in v), 0)

    def stream_cells(fn):
        return ["—", "—"] + [
            "—" if key not in s else ("failed" if "failed" in s[key] else fn(s[key]))
            for key, _, _, _ in HTTP_CONTENDERS
        ]

    def s_ok(key, fn):
        return None if key not in s or "failed" in s[key] else fn(s[key])

    base_lag = s.get(BASELINE, {}).get("lag_p99")
    lag_ok = lambda x: base_lag is not None and x["lag_p99"] <= base_lag and x["errors"] == 0  # noqa: E731
    rows.append(
        ["3", f"{n_streams} open streams: event lag p99 (ms)"]
        + stream_cells(lambda x: f"{x['lag_p99'] * 1000:.0f}")
        + ["≤ the baseline's, no errors", verdict(s_ok(OURS, lag_ok), s_ok("django_daphne", lag_ok))]
    )
    rows.append(
        ["3", "  lag p99 while all streams are open (ms)"]
        + stream_cells(
            lambda x: (
                "—" if x.get("lag_p99_all_open") != x.get("lag_p99_all_open") else f"{x['lag_p99_all_open'] * 1000:.0f}"
            )
        )
        + ["—", "—"]
    )
    rows.append(
        ["3", "  memory per open stream (KiB)"]
        + stream_cells(lambda x: f"{x['mem_per_stream'] / 1024:.0f}")
        + ["—", "—"]
    )
    rows.append(
        ["3", "  errors / streams completed"]
        + stream_cells(lambda x: f"{x['errors']} / {x['completed']}")
        + [
            "0 errors",
            verdict(s_ok(OURS, lambda x: x["errors"] == 0), s_ok("django_daphne", lambda x: x["errors"] == 0)),
        ]
    )
    rows.append(
        ["3", "  time to first event p99 under load (s)"] + stream_cells(lambda x: f"{x['ttfe_p99']:.2f}") + ["—", "—"]
    )
    rows.append(["3", "  server threads at peak"] + stream_cells(lambda x: f"{x['threads_peak']}") + ["—", "—"])

    h = res["history"]
    blank = ["—"] * (len(COLUMNS) - 1)
    sizes = [str(x) for x in h["sizes"]]
    lo, hi = sizes[0], sizes[-1]
    for name in ("items.list", "threads.get_by_id"):
        r = ratio(h["p50"][name][hi], h["p50"][name][lo])
        q = [h["queries"][name][x] for x in sizes]
        rows.append(
            ["4", f"{name}: latency p50 {hi}/{lo} items"]
            + blank
            + [
                f"{fmt_ratio(r)} ({h['p50'][name][lo] * 1000:.1f} → {h['p50'][name][hi] * 1000:.1f} ms)",
                "< 1.5×",
                verdict(r is not None and r < 1.5),
            ]
        )
        rows.append(
            ["4", f"{name}: SQL statements at {'/'.join(sizes)} items"]
            + blank
            + ["/".join(map(str, q)), "constant", verdict(len(set(q)) == 1)]
        )
    rows.append(
        ["4", "SQL statements per turn (threads.add_user_message)"]
        + blank
        + [str(h["queries"]["turn"]), "≤ 8", verdict(h["queries"]["turn"] <= 8)]
    )

    m = res["model"]
    if "pending" in m:
        rows.append(
            ["5", "embedded model: LocalModel tokens/s ÷ llama.cpp direct"] + blank + ["pending", "≥ 0.95×", "pending"]
        )
        notes.append(f"Figure 5 pending: {m['pending']}.")
    else:
        r = ratio(m["local_model"]["tokens_per_s"], m["direct"]["tokens_per_s"])
        rows.append(
            ["5", "embedded model: LocalModel tokens/s ÷ llama.cpp direct"]
            + blank
            + [
                f"{fmt_ratio(r)} ({m['local_model']['tokens_per_s']:.1f} vs {m['direct']['tokens_per_s']:.1f} tok/s)",
                "≥ 0.95×",
                verdict(r is not None and r >= 0.95),
            ]
        )
        ttft = ratio(m["local_model"]["ttft_s"], m["direct"]["ttft_s"])
        rows.append(
            ["5", "  TTFT (cached prompt) LocalModel ÷ direct"]
            + blank
            + [
                f"{fmt_ratio(ttft)} ({m['local_model']['ttft_s'] * 1000:.0f} vs {m['direct']['ttft_s'] * 1000:.0f} ms)",
                "≤ 1.2×",
                verdict(ttft is not None and ttft <= 1.2),
            ]
        )
        rows.append(
            ["5", "  load time / RSS after load / cold TTFT"]
            + blank
            + [f"{m['load_s']:.2f} s / {m['rss_after_load_mb']:.0f} MiB / {m['cold_ttft_s'] * 1000:.0f} ms", "—", "—"]
        )

    null = t.get("null")
    if null:
        notes.append(
            f"Client overhead: the same load generator against a null HTTP server (canned SSE of the same shape) "
            f"takes p50 {null['latency_p50'] * 1000:.2f} ms per turn ({fmt_ratio(ratio(null['latency_p50'], t['floor']['latency_p50']))} "
            f"the floor's in-process latency) and reaches {null['throughput']:.0f} turns/s at c=16 "
            f"({fmt_ratio(ratio(null['throughput'], t['floor']['throughput']))} the floor's): it is not the bottleneck."
        )
    return header, rows, notes


def targets_table(res: dict) -> tuple[list[str], list[list[str]]]:
    """The performance issue's table: each target, ours and daphne beside the baseline, a verdict each.

    Ratios are to FastAPI+uvicorn with the in-memory store (the adapter fix),
    measured in this same run. Django+daphne (what ``runserver`` serves) must
    meet the same targets within 10%.
    """
    t, s, m = res["turns"], res["streams"], res["model"]
    base = t[BASELINE]
    header = [
        "Figure",
        "FastAPI+uvicorn mem (baseline)",
        "FastAPI+uvicorn SQLite",
        "Django+uvicorn (ours)",
        "Django+daphne (ours)",
        "Target",
        "Verdict (uvicorn / daphne within 10%)",
    ]
    rows: list[list[str]] = []

    def verdicts(ours, daphne, ok) -> str:
        def one(x, slack):
            return "n/a" if x is None else ("PASS" if ok(x, slack) else "FALL SHORT")

        return f"{one(ours, 1.0)} / {one(daphne, 1.1)}"

    def turn_row(label, field, unit, scale, target, ok, fmt="{:.1f}"):
        r = {k: ratio(t[k][field], base[field]) for k in ("fastapi_sqlite", OURS, "django_daphne")}
        rows.append(
            [
                label,
                f"1.00× ({fmt.format(base[field] * scale)} {unit})",
                fmt_ratio(r["fastapi_sqlite"]),
                fmt_ratio(r[OURS]),
                fmt_ratio(r["django_daphne"]),
                target,
                verdicts(r[OURS], r["django_daphne"], ok),
            ]
        )

    turn_row("turn latency p50, c=1", "latency_p50", "ms", 1000, "≤ 1.25×", lambda x, k: x <= 1.25 * k)
    turn_row("throughput, c=16", "throughput", "turns/s", 1, "≥ 0.80×", lambda x, k: x >= 0.80 / k, fmt="{:.0f}")
    turn_row("time to first event p50", "ttfe_p50", "ms", 1000, "≤ 2×", lambda x, k: x <= 2.0 * k, fmt="{:.2f}")

    def stream(key, field):
        v = s.get(key) or {}
        return None if "failed" in v or field not in v or v[field] != v[field] else v[field]

    n = next((v["streams"] for v in s.values() if "streams" in v), 0)
    lag = {k: stream(k, "lag_p99") for k in (BASELINE, "fastapi_sqlite", OURS, "django_daphne")}
    lag_r = {k: ratio(v, lag[BASELINE]) for k, v in lag.items()}
    errors = {k: stream(k, "errors") for k in lag}
    rows.append(
        [
            f"{n} open streams: event lag p99",
            "—" if lag[BASELINE] is None else f"1.00× ({lag[BASELINE] * 1000:.0f} ms)",
            fmt_ratio(lag_r["fastapi_sqlite"]),
            fmt_ratio(lag_r[OURS]) + (f", {errors[OURS]} errors" if errors[OURS] else ""),
            fmt_ratio(lag_r["django_daphne"])
            + (f", {errors['django_daphne']} errors" if errors["django_daphne"] else ""),
            "≤ 1.0× the baseline's, no errors",
            verdicts(
                None if lag_r[OURS] is None else (lag_r[OURS], errors[OURS]),
                None if lag_r["django_daphne"] is None else (lag_r["django_daphne"], errors["django_daphne"]),
                lambda x, k: x[0] <= 1.0 * k and not x[1],
            ),
        ]
    )

    def kib(key):
        v = stream(key, "mem_per_stream")
        return None if v is None else v / 1024

    mem = {k: kib(k) for k in lag}
    rows.append(
        ["memory per open stream"]
        + ["—" if mem[k] is None else f"{mem[k]:.0f} KiB" for k in (BASELINE, "fastapi_sqlite", OURS, "django_daphne")]
        + ["≤ 100 KiB", verdicts(mem[OURS], mem["django_daphne"], lambda x, k: x <= 100 * k)]
    )
    thr = {k: stream(k, "threads_peak") for k in lag}
    rows.append(
        [f"server threads at peak, {n} streams"]
        + ["—" if thr[k] is None else str(thr[k]) for k in (BASELINE, "fastapi_sqlite", OURS, "django_daphne")]
        + ["≤ 16", verdicts(thr[OURS], thr["django_daphne"], lambda x, k: x <= 16 * k)]
    )
    if "pending" in m:
        rows.append(["embedded model: TTFT (cached prompt), ours ÷ llama.cpp direct", "—", "—", m["pending"], "—"])
        rows[-1] += ["≤ 1.2×", "pending"]
    else:
        r = ratio(m["local_model"]["ttft_s"], m["direct"]["ttft_s"])
        rows.append(
            [
                "embedded model: TTFT (cached prompt), ours ÷ llama.cpp direct",
                "—",
                "—",
                f"{fmt_ratio(r)} ({m['local_model']['ttft_s'] * 1000:.0f} vs {m['direct']['ttft_s'] * 1000:.0f} ms)",
                "—",
                "≤ 1.2×",
                "n/a" if r is None else ("PASS" if r <= 1.2 else "FALL SHORT"),
            ]
        )
    return header, rows


def markdown(header, rows, notes, res) -> str:
    meta = res["meta"]
    t_header, t_rows = targets_table(res)
    lines = [
        f"Command: `{meta['command']}` — {meta['date']}, {meta['machine']}, "
        f"load average at start {meta['loadavg_start']}, total {meta['wall_s']:.0f} s.",
        "",
        "Targets (the performance issue), every figure from this run:",
        "",
        "| " + " | ".join(t_header) + " |",
        "|" + "|".join("---" for _ in t_header) + "|",
    ]
    lines += ["| " + " | ".join(r) + " |" for r in t_rows]
    lines += [
        "",
        "All figures:",
        "",
        f"Ratios are to the baseline, FastAPI+uvicorn with an in-memory store and the adapter fix "
        f'(its absolute figure in parentheses); "stock" = the SDK\'s `ChatKitServer.process` as shipped '
        f"(a `TypeAdapter(ChatKitReq)` per request). Lower is better except throughput. "
        f"Streams: {meta['streams']}.",
        "",
        "| " + " | ".join(header) + " |",
        "|" + "|".join("---" for _ in header) + "|",
    ]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    lines.append("")
    lines += [f"- {n}" for n in notes]
    return "\n".join(lines) + "\n"


def plain(header, rows) -> str:
    widths = [max(len(str(r[i])) for r in [header] + rows) for i in range(len(header))]
    out = ["  ".join(str(c).ljust(w) for c, w in zip(header, widths))]
    out.append("  ".join("-" * w for w in widths))
    out += ["  ".join(str(c).ljust(w) for c, w in zip(r, widths)) for r in rows]
    return "\n".join(out)


def chart(res: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    t = res["turns"]
    keys = [k for k, _ in COLUMNS]
    labels = [label.replace(" (ours)", "\n(ours)").replace(" (stock)", "\n(stock)") for _, label in COLUMNS]
    base = t[BASELINE]
    fig, axes = plt.subplots(2, 2, figsize=(15, 9))
    panels = [
        ("turn latency p50, c=1 (× baseline)", "latency_p50", 1.25),
        ("throughput, c=16 (× baseline)", "throughput", None),
        ("time to first event p50 (× baseline)", "ttfe_p50", None),
        ("cost per streamed event (× baseline)", "event_cost", None),
    ]
    for ax, (title, field, line) in zip(axes.flat, panels):
        vals = [t[k][field] / base[field] for k in keys]
        colors = ["#999" if k.startswith("floor") else "#c44" if k.startswith("django") else "#48c" for k in keys]
        ax.bar(range(len(keys)), vals, color=colors)
        ax.set_xticks(range(len(keys)), labels, rotation=35, ha="right", fontsize=8)
        ax.axhline(1.0, color="k", lw=0.8)
        if line:
            ax.axhline(line, color="r", lw=0.8, ls="--")
        ax.set_title(title, fontsize=10)
        for i, v in enumerate(vals):
            ax.text(i, v, f"{v:.2f}", ha="center", va="bottom", fontsize=7)
    fig.suptitle(f"django-chatkit stack benchmark ({res['meta']['date']}, one run, echo model)")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run: fewer samples, 100 streams, small history")
    parser.add_argument("--rounds", type=int, default=None, help="interleaved rounds for figures 1-2")
    parser.add_argument("--streams", type=int, default=None)
    parser.add_argument("--stream-words", type=int, default=None, help="words per answer in figure 3 (40; quick 20)")
    parser.add_argument("--stream-ramp", type=float, default=5.0, help="seconds over which figure 3's streams open")
    parser.add_argument("--stream-delay", type=float, default=0.5, help="seconds per word in figure 3")
    parser.add_argument("--skip-model", action="store_true", help="leave figure 5 pending")
    parser.add_argument("--out", default=str(RESULTS))
    args = parser.parse_args()

    quick = args.quick
    cfg = Config.quick() if quick else Config()
    rounds = args.rounds or (1 if quick else 5)
    n_streams = args.streams or (100 if quick else 500)
    args.stream_words = args.stream_words or (20 if quick else 40)
    sizes = [10, 100, 1000] if quick else [10, 1000, 100000]
    started = time.perf_counter()
    res: dict = {
        "meta": {
            "command": "python -m bench" + (" " + shlex.join(sys.argv[1:]) if sys.argv[1:] else ""),
            "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "machine": f"{os.cpu_count()} cores, Python {platform.python_version()}, {platform.machine()}",
            "loadavg_start": [round(x, 2) for x in os.getloadavg()],
            "config": cfg.__dict__,
            "rounds": rounds,
            "streams": f"{n_streams} threads.add_user_message opened over {args.stream_ramp:g} s, each an echo of "
            f"{args.stream_words} words at {args.stream_delay:g} s per word "
            f"({n_streams / args.stream_delay:.0f} events/s in all once every stream is open)",
        }
    }
    app = django_app()
    res["meta"]["django_app"] = app
    log(f"Django app: {app}")
    log("figures 1-2: one turn, first event, cost per event")
    res["turns"] = asyncio.run(figures_1_2(cfg, rounds, app))
    log("figure 3: many open streams")
    res["streams"] = asyncio.run(figure_3(n_streams, args.stream_words, args.stream_delay, args.stream_ramp, app))
    log("figure 4: history")
    res["history"] = asyncio.run(figure_4(sizes, 10 if quick else 30, app))
    log("figure 5: embedded model")
    res["model"] = {"pending": "skipped (--skip-model)"} if args.skip_model else figure_5(quick)
    res["meta"]["wall_s"] = time.perf_counter() - started
    res["meta"]["loadavg_end"] = [round(x, 2) for x in os.getloadavg()]

    header, rows, notes = build_table(res)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "latest.json").write_text(json.dumps(res, indent=1, default=str) + "\n")
    (out / "latest.md").write_text(markdown(header, rows, notes, res))
    chart(res, out / "latest.png")
    print(plain(*targets_table(res)))
    print()
    print(plain(header, rows))
    print()
    for n in notes:
        print("- " + n)
    print(f"\nwrote {out}/latest.json, latest.md, latest.png in {res['meta']['wall_s']:.0f} s")


if __name__ == "__main__":
    main()
