"""Scaling tables and charts: bench_scale's points beside the peers', drawn as SVG.

usage: python3 bench/scale_report.py [--svg-dir DIR] [--svg-prefix P] POINTS.jsonl...
       python3 bench/scale_report.py --memory-point < bench_tasks-sleep_many.jsonl

A point is one JSON line {"series", "system", "n", "value", "unit"} (bench_scale,
peers/scale_micro.py, peers/asio_peer.py --scale). The second form turns the memory line
of `bench_tasks --json --ops N sleep_many` into the "memory" point of our system.
Prints markdown on stdout: one table per series (a row per N, a column per system), and
the overhead of 100,000 real sleepers against issue 13's target (<= 0.05 s). With
--svg-dir, draws spawn, memory and timers as log-log line charts, one line per system,
written as DIR/P-scale-SERIES.svg (dependency-free: the SVG is written by hand).
"""
import json
import math
import os
import sys

SYSTEMS = ["aio", "asyncio", "uvloop", "asio"]  # column and legend order
COLOURS = {"aio": "#d62728", "asyncio": "#1f77b4", "uvloop": "#2ca02c", "asio": "#9467bd"}
NAMES = {"aio": "aio (ours)", "asyncio": "CPython asyncio", "uvloop": "uvloop", "asio": "Asio"}
CHARTS = {  # series: (title, x label, y label)
    "spawn": ("Spawn + await a trivial task", "tasks spawned at once", "ns per task"),
    "memory": ("Memory per sleeping task", "tasks asleep at once", "bytes per task (RSS)"),
    "timers": ("Timer schedule + fire", "timers pending at once", "ns per timer"),
}
OVERHEAD_TARGET = 0.05


def load(paths):
    points = {}  # series -> system -> {n: (value, unit)}
    for path in paths:
        with open(path) as f:
            for line in f:
                if line.startswith("{"):
                    p = json.loads(line)
                    points.setdefault(p["series"], {}).setdefault(p["system"], {})[p["n"]] = (
                        p["value"], p["unit"])
    return points


def fmt(v):
    return f"{v:,.0f}" if v >= 100 else f"{v:,.1f}" if v >= 1 else f"{v:.3f}"


def table(series, by_system):
    systems = [s for s in SYSTEMS if s in by_system]
    unit = next(iter(next(iter(by_system.values())).values()))[1]
    ns = sorted({n for pts in by_system.values() for n in pts})
    print(f"| {series} ({unit}) | " + " | ".join(NAMES[s] for s in systems) + " |")
    print("|---:|" + "---:|" * len(systems))
    for n in ns:
        cells = [fmt(by_system[s][n][0]) if n in by_system[s] else "—" for s in systems]
        print(f"| {n:,} | " + " | ".join(cells) + " |")
    print()


def overhead_table(points):
    rows = [("overhead_monotonic", "real sleeping (monotonic clock): wall − longest delay"),
            ("overhead_virtual", "virtual clock: the whole wall time")]
    print("| 100,000 tasks sleeping U[0,1) s: overhead beyond the sleeps | "
          + " | ".join(NAMES[s] for s in SYSTEMS) + " | target | met (ours) |")
    print("|---|" + "---:|" * len(SYSTEMS) + "---|---|")
    for series, what in rows:
        by = points.get(series, {})
        cells = [f"{next(iter(by[s].values()))[0]:.3f} s" if s in by else "—" for s in SYSTEMS]
        ours = next(iter(by.get("aio", {}).values()), (None,))[0]
        met = "" if ours is None else "met" if ours <= OVERHEAD_TARGET else "**missed**"
        print(f"| {what} | " + " | ".join(cells) + f" | ≤ {OVERHEAD_TARGET} s | {met} |")
    print()


# ---- SVG: a log-log line chart, by hand ------------------------------------------------

W, H, LEFT, RIGHT, TOP, BOTTOM = 640, 400, 80, 150, 40, 60


def decades(lo, hi):
    return range(math.floor(math.log10(lo)), math.ceil(math.log10(hi)) + 1)


def svg_chart(series, by_system):
    title, xlabel, ylabel = CHARTS[series]
    xs = [n for pts in by_system.values() for n in pts]
    ys = [v for pts in by_system.values() for v, _ in pts.values() if v > 0]
    xd, yd = decades(min(xs), max(xs)), decades(min(ys), max(ys))
    if len(yd) < 2:
        yd = range(yd[0], yd[0] + 2)
    pw, ph = W - LEFT - RIGHT, H - TOP - BOTTOM

    def px(n):
        return LEFT + (math.log10(n) - xd[0]) / (xd[-1] - xd[0]) * pw

    def py(v):
        return TOP + ph - (math.log10(v) - yd[0]) / (yd[-1] - yd[0]) * ph

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" '
           f'viewBox="0 0 {W} {H}" font-family="sans-serif" font-size="12">',
           f'<rect width="{W}" height="{H}" fill="white"/>',
           f'<text x="{LEFT + pw / 2}" y="22" text-anchor="middle" font-size="15">{title} '
           '(log-log)</text>']
    for d in xd:
        x = px(10 ** d)
        out += [f'<line x1="{x:.1f}" y1="{TOP}" x2="{x:.1f}" y2="{TOP + ph}" stroke="#ddd"/>',
                f'<text x="{x:.1f}" y="{TOP + ph + 18}" text-anchor="middle">10<tspan dy="-6" '
                f'font-size="9">{d}</tspan></text>']
    for d in yd:
        y = py(10 ** d)
        out += [f'<line x1="{LEFT}" y1="{y:.1f}" x2="{LEFT + pw}" y2="{y:.1f}" stroke="#ddd"/>',
                f'<text x="{LEFT - 8}" y="{y + 4:.1f}" text-anchor="end">{10 ** d:,}</text>']
    out += [f'<rect x="{LEFT}" y="{TOP}" width="{pw}" height="{ph}" fill="none" stroke="#333"/>',
            f'<text x="{LEFT + pw / 2}" y="{H - 15}" text-anchor="middle">{xlabel}</text>',
            f'<text transform="translate(18,{TOP + ph / 2}) rotate(-90)" '
            f'text-anchor="middle">{ylabel}</text>']
    systems = [s for s in SYSTEMS if s in by_system]
    for i, s in enumerate(systems):
        pts = sorted((n, v) for n, (v, _) in by_system[s].items() if v > 0)
        path = " ".join(f"{px(n):.1f},{py(v):.1f}" for n, v in pts)
        c = COLOURS[s]
        out.append(f'<polyline points="{path}" fill="none" stroke="{c}" stroke-width="2"/>')
        out += [f'<circle cx="{px(n):.1f}" cy="{py(v):.1f}" r="3.5" fill="{c}">'
                f'<title>{NAMES[s]}: {n:,} → {fmt(v)}</title></circle>' for n, v in pts]
        ly = TOP + 20 + 22 * i
        out += [f'<line x1="{LEFT + pw + 15}" y1="{ly}" x2="{LEFT + pw + 40}" y2="{ly}" '
                f'stroke="{c}" stroke-width="2"/>',
                f'<text x="{LEFT + pw + 46}" y="{ly + 4}">{NAMES[s]}</text>']
    out.append("</svg>")
    return "\n".join(out) + "\n"


def memory_point():
    for line in sys.stdin:
        r = json.loads(line) if line.startswith("{") else {}
        if "bytes_per_task_rss" in r:
            print(json.dumps({"series": "memory", "system": "aio", "n": r["tasks"],
                              "value": r["bytes_per_task_rss"], "unit": "B/task"}))


def main():
    args = sys.argv[1:]
    if args == ["--memory-point"]:
        return memory_point()
    svg_dir, prefix = None, "latest"
    while args[:1] in (["--svg-dir"], ["--svg-prefix"]) and len(args) > 1:
        if args[0] == "--svg-dir":
            svg_dir = args[1]
        else:
            prefix = args[1]
        args = args[2:]
    if not args:
        sys.exit(__doc__)
    points = load(args)
    for series in CHARTS:
        if series in points:
            table(series, points[series])
    overhead_table(points)
    if svg_dir:
        os.makedirs(svg_dir, exist_ok=True)
        for series in CHARTS:
            if series in points:
                path = os.path.join(svg_dir, f"{prefix}-scale-{series}.svg")
                with open(path, "w") as f:
                    f.write(svg_chart(series, points[series]))
                print(f"![{CHARTS[series][0]}]({os.path.basename(path)})")
        print()


if __name__ == "__main__":
    main()
