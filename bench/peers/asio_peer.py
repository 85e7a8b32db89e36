"""Asio's column: runs bench/peers/asio_micro.cpp's binary and prints report.py's JSON lines.

usage: python3 bench/peers/asio_peer.py ASIO_MICRO BENCH_BINARY [--quick]
       python3 bench/peers/asio_peer.py ASIO_MICRO --scale [--quick]

asio_micro does one run per process and prints one line ({"bench", "ops", "ns_per_op",
"base_rss_kib", "hwm_kib", "max_delay_s"}); this runs each case 3 times (once with
--quick) and keeps the median, under the row name of ours it matches:

  bench_coro   sleep0 <- `co_await asio::post(ex, use_awaitable)`
  bench_tasks  spawn <- co_spawn x10,000 per batch, a timer as the gather; sleep0 as above;
               sleep_many: only its memory (RSS growth per sleeping coroutine on a real
               steady_timer); its time is real sleeping, so no ns/op
  bench_sync   queue_pingpong <- two capacity-1 channels, per message (asio_micro's op is
               a round trip of two); lock_contended <- a capacity-1 channel as a mutex,
               held across one post() yield (Asio has no async mutex)

--scale prints bench_scale's points for Asio: spawn at 10^4..10^6 (its batches are
10,000), memory per sleeping coroutine at 10^3..10^6, and the overhead of 100,000 real
sleepers (wall - the longest delay). Asio has no virtual clock, and its sleepers wait
for real: those runs take a second each.
"""
import json
import subprocess
import sys

LABEL = "asio"

# our row name -> (asio_micro bench, its N, its N with --quick, divide ns_per_op by)
ROWS = {
    "bench_coro": {"sleep0": ("sleep0", 1000000, 10000, 1)},
    "bench_tasks": {"spawn": ("spawn", 1000000, 10000, 1), "sleep0": ("sleep0", 1000000, 10000, 1),
                    "sleep_many": ("sleep_many", 100000, 1000, None)},
    "bench_sync": {"queue_pingpong": ("queue", 500000, 5000, 2),
                   "lock_contended": ("lock", 1000, 10, 1)},
}


def run(binary, bench, n):
    out = subprocess.run([binary, bench, str(n)], check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def median_run(binary, bench, n, runs):
    results = sorted((run(binary, bench, n) for _ in range(runs)), key=lambda r: r["ns_per_op"])
    return results[len(results) // 2]


def rss_per_task(r):
    return round((r["hwm_kib"] - r["base_rss_kib"]) * 1024 / r["ops"], 1)


def rows(binary, bench_binary, quick):
    for name, (bench, n, quick_n, per) in ROWS.get(bench_binary, {}).items():
        r = median_run(binary, bench, quick_n if quick else n, 1 if quick else 3)
        line = {"impl": "asio-1.22", "label": LABEL, "name": name, "ops": r["ops"]}
        if per is None:  # real sleeping: only the memory joins our row
            line.update(ns_per_op=None, bytes_per_task_rss=rss_per_task(r))
        else:
            line.update(ns_per_op=r["ns_per_op"] / per, ns_min=r["ns_per_op"] / per,
                        ns_max=r["ns_per_op"] / per)
        print(json.dumps(line), flush=True)


def point(series, n, value, unit):
    print(json.dumps({"series": series, "system": LABEL, "n": n, "value": value, "unit": unit}),
          flush=True)


def scale(binary, quick):
    sizes = [1000, 10000] if quick else [1000, 10000, 100000, 1000000]
    for n in sizes:
        if n >= 10000:
            point("spawn", n, run(binary, "spawn", n)["ns_per_op"], "ns/task")
    for n in sizes:
        point("memory", n, rss_per_task(run(binary, "sleep_many", n)), "B/task")
    r = run(binary, "sleep_many", 1000 if quick else 100000)
    point("overhead_monotonic", r["ops"], r["wall_s"] - r["max_delay_s"], "s")


def main():
    args = [a for a in sys.argv[1:] if a != "--quick"]
    quick = "--quick" in sys.argv
    if len(args) != 2:
        sys.exit(__doc__)
    if args[1] == "--scale":
        scale(args[0], quick)
    else:
        rows(args[0], args[1], quick)


if __name__ == "__main__":
    main()
