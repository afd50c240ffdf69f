#!/usr/bin/env python3
"""Reads the RESULT lines the bench scripts print and writes the summary of
bench/RESULTS.md: for each figure the median over its runs, next to the goal.

A RESULT line is `RESULT <name>.run<N> key=value ...`; the runs of one name are
folded into medians. Usage: summarize.py RESULTS.md < results.txt
(replaces the text between the run-all markers in RESULTS.md)."""
import re
import statistics
import sys
from collections import defaultdict

BEGIN, END = "<!-- run-all:begin -->", "<!-- run-all:end -->"

runs = defaultdict(list)
header = {}
for line in sys.stdin:
    if line.startswith("MACHINE "):
        key, _, value = line[len("MACHINE "):].strip().partition("=")
        header[key] = value
    if not line.startswith("RESULT "):
        continue
    name, *pairs = line.split()[1:]
    name = re.sub(r"\.run\d+$", "", name)
    figures = {}
    for key, _, value in (p.partition("=") for p in pairs):
        try:
            figures[key] = float(value)
        except ValueError:
            pass  # not a figure (a label)
    runs[name].append(figures)


def med(name, key):
    values = [r[key] for r in runs.get(name, []) if key in r]
    return statistics.median(values) if values else None


def n(name):
    return len(runs.get(name, []))


def fmt(v, unit="", digits=2):
    if v is None:
        return "not run"
    if unit == "/s":
        return f"{v:,.0f}/s"
    return f"{v:.{digits}f}{unit}"


def verdict(ok):
    return "met" if ok else "**not met**"


rows = []
# Durable ingest against pgbench, PostgreSQL.
for conns, goal in (("1", 0.8), ("8", 1.5), ("64", 2.0)):
    name = f"ingest.postgres.c{conns}"
    ratio, p99, pg_p99 = med(name, "ratio"), med(name, "p99_ms"), med(name, "pgbench_p99_ms")
    extra = ""
    ok = ratio is not None and ratio >= goal
    if conns == "64":
        extra = f"; p99 {fmt(p99, ' ms')} vs pgbench p99 {fmt(pg_p99, ' ms')} (goal ≤)"
        ok = ok and p99 is not None and pg_p99 is not None and p99 <= pg_p99
    rows.append((
        f"durable Canopy ingest, {conns} connection(s), ratio to pgbench one-insert TPS",
        f"{fmt(med(name, 'events_per_s'), '/s')} vs {fmt(med(name, 'pgbench_tps'), '/s')}: "
        f"**{fmt(ratio, '×')}**; p50 {fmt(med(name, 'p50_ms'), ' ms')}{extra}",
        f"≥ {goal}×" + (", p99 ≤ pgbench p99" if conns == "64" else ""),
        verdict(ok) if ratio is not None else "not run",
        f"wrk {fmt(med(name, 'wrk_cpu'))} / gateway {fmt(med(name, 'gateway_cpu'))} / "
        f"postgres {fmt(med(name, 'postgres_cpu'))}",
        f"{fmt(med(name, 'rss_rest_mib'), ' MiB', 1)} → {fmt(med(name, 'rss_load_mib'), ' MiB', 1)}",
        n(name),
    ))
# The SQLite default (no goal: reported).
for conns in ("1", "8", "64"):
    name = f"ingest.sqlite.c{conns}"
    rows.append((
        f"durable Canopy ingest, SQLite default, {conns} connection(s)",
        f"{fmt(med(name, 'events_per_s'), '/s')}, p99 {fmt(med(name, 'p99_ms'), ' ms')}",
        "reported", "",
        f"wrk {fmt(med(name, 'wrk_cpu'))} / gateway {fmt(med(name, 'gateway_cpu'))}",
        f"{fmt(med(name, 'rss_rest_mib'), ' MiB', 1)} → {fmt(med(name, 'rss_load_mib'), ' MiB', 1)}",
        n(name),
    ))
# Live fan-out.
name, base = "fanout.idle10000.matching100", "fanout.baseline"
p99, post, post_base = med(name, "sub_p99_ms"), med(name, "post_p99_ms"), med(base, "post_p99_ms")
sent = med(name, "sent_per_s")
ok = None not in (p99, post, post_base, sent) and p99 <= 50 and post <= 2 * post_base and sent >= 990
rows.append((
    "10,000 idle + 100 matching subscriptions at 1,000 events/s: delivery p99",
    f"**{fmt(p99, ' ms')}** (p50 {fmt(med(name, 'sub_p50_ms'), ' ms')}, slowest subscriber p99 "
    f"{fmt(med(name, 'last_p99_ms'), ' ms')}); sent {fmt(sent, '/s')}; webhook answer p99 "
    f"{fmt(post, ' ms')} vs {fmt(post_base, ' ms')} with no subscribers",
    "≤ 50 ms, 1,000/s held, answer p99 ≤ 2× baseline",
    verdict(ok) if p99 is not None else "not run",
    f"tool {fmt(med(name, 'tool_cpu'))} / gateway {fmt(med(name, 'gateway_cpu'))} / "
    f"postgres {fmt(med(name, 'postgres_cpu'))}",
    f"{fmt(med(name, 'rss_rest_mib'), ' MiB', 1)} → {fmt(med(name, 'rss_load_mib'), ' MiB', 1)}",
    n(name),
))
kib = med(name, "kib_per_idle_sub")
rows.append((
    "memory per idle subscription",
    f"**{fmt(kib, ' KiB', 1)}**", "≤ 16 KiB",
    verdict(kib <= 16) if kib is not None else "not run", "", "", n(name),
))
# Reads.
for page in ("newest", "random"):
    name = f"reads.{page}"
    ratio = med(name, "ratio_p50")
    rows.append((
        f"`events(first: 50)` with accounts ({page} page), p50 vs raw SQL",
        f"{fmt(med(name, 'graphql_p50_ms'), ' ms')} vs {fmt(med(name, 'sql_p50_ms'), ' ms')}: "
        f"**{fmt(ratio, '×')}** (p99 {fmt(med(name, 'graphql_p99_ms'), ' ms')} vs "
        f"{fmt(med(name, 'sql_p99_ms'), ' ms')})",
        "≤ 2.5×", verdict(ratio <= 2.5) if ratio is not None else "not run",
        f"wrk {fmt(med(name, 'wrk_cpu'))} / gateway {fmt(med(name, 'gateway_cpu'))}",
        f"{fmt(med(name, 'rss_rest_mib'), ' MiB', 1)} → {fmt(med(name, 'rss_load_mib'), ' MiB', 1)}",
        n(name),
    ))
# Retention.
keep, purge = "retention.keep", "retention.purge"
rows.append((
    "ingest (8 connections) while a purge of 100k old payloads runs: p50 / p99",
    f"{fmt(med(purge, 'p50_ms'), ' ms')} / {fmt(med(purge, 'p99_ms'), ' ms')} vs "
    f"{fmt(med(keep, 'p50_ms'), ' ms')} / {fmt(med(keep, 'p99_ms'), ' ms')} without; "
    f"{fmt(med(purge, 'purged_per_s'), '/s')} purged meanwhile",
    "unchanged", "",
    f"wrk {fmt(med(purge, 'wrk_cpu'))} / gateway {fmt(med(purge, 'gateway_cpu'))}",
    "", n(purge),
))

out = [BEGIN, "", "## Summary (written by `bench/run-all.sh`)", ""]
out += [f"- {k}: {v}" for k, v in header.items()]
out += ["", "Each figure is the median of the runs shown; CPU is in cores of the machine's "
        "total, load generator first; memory is the gateway's RSS at rest → under that load.", "",
        "| figure | measured | goal | | CPU | gateway memory | runs |",
        "|---|---|---|---|---|---|---:|"]
out += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
out += ["", END]
summary = "\n".join(out)

path = sys.argv[1]
text = open(path).read()
if BEGIN in text and END in text:
    text = text[: text.index(BEGIN)] + summary + text[text.index(END) + len(END):]
else:
    first, _, rest = text.partition("\n")
    text = f"{first}\n\n{summary}\n{rest}"
open(path, "w").write(text)
