"""Joins a bench binary's JSON lines with its peers' into one markdown table.

usage: python3 bench/report.py [--floor FLOOR.jsonl] OURS.jsonl [PEER.jsonl ...]

Rows are our cases, in our order; a peer's line joins the row with the same "name".
Columns: our median ns/op and spread, our allocations per op (steady state), the
frame-pool blocks one op holds (only when our lines report pool_blocks_per_op), each
peer's median ns/op and its ratio to ours (peer / ours: how many times faster we
are), and docs/design.md's budget with pass/MISS. With --floor (bench_floor's lines),
the rows it has get the floor's ns/op, ours / floor, and issue 13's target (<= 3x).
A peer line whose ns_per_op is null (Asio's sleep_many: real sleeping) joins only the
memory table. Cases that report bytes per task (lesson 3's sleep_many) get a second
table for them.
"""
import json
import sys


def load(path):
    """The result lines of one file. A line without ns_per_op adds its fields to the
    result of the same name (bench_coro's pool_blocks_per_op)."""
    rows, by_name = [], {}
    with open(path) as f:
        for line in f:
            if not line.strip().startswith("{"):
                continue
            r = json.loads(line)
            if "ns_per_op" in r:
                rows.append(r)
                by_name[r["name"]] = r
            elif r.get("name") in by_name:
                by_name[r["name"]].update(r)
    return rows


def fmt_ns(ns):
    return f"{ns:,.1f}" if ns < 100 else f"{ns:,.0f}"


def fmt_allocs(r):
    if r["allocs"] == 0:
        return "0"
    if r["allocs_per_op"] < 0.00005 and r["allocs"] % r["reps"] == 0:
        # a fixed cost per repetition (e.g. one run_until_complete), not per op
        return f"0.0000 ({r['allocs'] // r['reps']}/rep)"
    return f"{r['allocs_per_op']:.4f}"


def main():
    args = sys.argv[1:]
    floor = {}
    if args[:1] == ["--floor"] and len(args) > 1:
        floor = {r["name"]: r for r in load(args[1])}
        args = args[2:]
    if not args:
        sys.exit(__doc__)
    ours = load(args[0])
    peers = {}  # label -> name -> result
    for path in args[1:]:
        for r in load(path):
            peers.setdefault(r.get("label", r["impl"]), {})[r["name"]] = r
    impl = ours[0]["impl"] if ours else "aio"

    pool = any("pool_blocks_per_op" in r for r in ours)  # lesson 2 on: the frame pool
    head = ["case", f"{impl} ns/op", "min–max", "allocs/op"] + (["pool blocks/op"] if pool else [])
    if floor:
        head += ["floor ns/op", f"{impl} / floor", "≤ 3× floor"]
    for p in peers:
        head += [f"{p} ns/op", f"{p} / {impl}"]
    head += ["budget", "met"]
    print("| " + " | ".join(head) + " |")
    print("|---|" + "---:|" * (len(head) - 3) + "---|---|")
    for r in ours:
        row = [f"`{r['name']}`", fmt_ns(r["ns_per_op"]),
               f"{fmt_ns(r['ns_min'])}–{fmt_ns(r['ns_max'])}", fmt_allocs(r)]
        if pool:
            row.append(str(r.get("pool_blocks_per_op", "—")))
        if floor:
            row += floor_cells(r, floor.get(r["name"]))
        for results in peers.values():
            p = results.get(r["name"])
            row += [fmt_ns(p["ns_per_op"]), fmt_ratio(p["ns_per_op"] / r["ns_per_op"])] \
                if p and p.get("ns_per_op") else ["—", "—"]
        budget = r.get("budget_ns", 0)
        if budget:
            row += [f"≤ {budget:.0f} ns", "pass" if r["ns_per_op"] <= budget else "**MISS**"]
        else:
            row += ["—", ""]
        print("| " + " | ".join(row) + " |")
    print()
    for r in ours:
        print(f"- `{r['name']}`: {r['what']}.")
    print_memory(ours, peers, impl)


def fmt_ratio(x):
    """How many times faster we are: ×63; below ×10 with a decimal (×2.4), below 1 too."""
    return f"×{x:.0f}" if x >= 10 else f"×{x:.1f}" if x >= 0.95 else f"×{x:.2f}"


def floor_cells(r, f):
    """The floor's ns/op, how many times it ours takes, and issue 13's <= 3x target."""
    if not f:
        return ["—", "—", ""]
    times = r["ns_per_op"] / f["ns_per_op"]
    return [fmt_ns(f["ns_per_op"]), f"{times:.1f}×", "met" if times <= 3 else "**missed**"]


def fmt_bytes(b):
    return "—" if b is None or b < 0 else f"{b:,.0f}"


def print_memory(ours, peers, impl):
    """A second table for the cases that report bytes per task (bench_tasks' sleep_many):
    ours two ways (malloc's bytes in use at the peak; RSS growth), each peer's RSS growth,
    the ratio of the RSS figures, and docs/design.md's budget (met if both of ours are within)."""
    rows = [r for r in ours if "bytes_per_task_rss" in r]
    if not rows:
        return
    head = ["case", f"{impl} B/task (heap peak)", f"{impl} B/task (RSS)"]
    for p in peers:
        head += [f"{p} B/task (RSS)", f"{p} / {impl}"]
    head += ["budget", "met"]
    print()
    print("| " + " | ".join(head) + " |")
    print("|---|" + "---:|" * (len(head) - 3) + "---|---|")
    for r in rows:
        heap, rss = r.get("bytes_per_task_heap", -1), r["bytes_per_task_rss"]
        row = [f"`{r['name']}`", fmt_bytes(heap), fmt_bytes(rss)]
        for results in peers.values():
            b = results.get(r["name"], {}).get("bytes_per_task_rss")
            row += [fmt_bytes(b), f"×{b / rss:.1f}"] if b and rss > 0 else ["—", "—"]
        budget = r.get("budget_bytes", 0)
        measured = [x for x in (heap, rss) if x >= 0]
        if budget and measured:
            row += [f"≤ {budget:.0f} B", "pass" if max(measured) <= budget else "**MISS**"]
        else:
            row += ["—", ""]
        print("| " + " | ".join(row) + " |")
    print()
    for r in rows:
        if "memory_note" in r:
            print(f"- `{r['name']}` ({impl}): {r['memory_note']}.")


if __name__ == "__main__":
    main()
