#!/usr/bin/env python3
"""Lesson 5's echo benchmark: our two echo servers beside the peers, one load generator.

usage: bench/echo_bench.py BUILD_DIR [--quick] [--runs N] [--dur S] [--warm S]
                           [--conns "64 512"] [--sizes "64 4096"] [--servers "a b ..."]
  BUILD_DIR   the optimised build (bench/run.sh's build-bench/) holding bench/echo_*,
              bench/loadgen and the native peers
  --quick     one short case per server: a smoke test, the figures mean nothing
  env: PYTHON (CPython for the asyncio peers: python3 on PATH), PY_UVLOOP (the Python
       that has uvloop: /usr/bin/python3, Debian's), SERVER_CPU (0), CLIENT_CPU (1)

The method is the shared harness's (bench_peers/scripts/bench_echo.sh), copied here
with its pieces in bench/peers/echo/: each server runs pinned to SERVER_CPU, the load
generator (peers/echo/loadgen.c: N connections, each sends S bytes, waits for all S
back, sends again; one request in flight per connection) pinned to CLIENT_CPU, for a
warm-up then a measured window. A run goes through every server once (restarting it
for each message size, since our streams server and asyncio's are told the size);
--runs rotates the whole list again, so the VM's slow drifts spread over every server.
Reported per server and case, the median over runs of:
  requests/s      loadgen's completed requests / the measured window
  x epoll         requests/s over the raw epoll loop's in the same run and case
  CPU-us/request  the server's utime+stime (/proc/PID/stat) over the loadgen's whole
                  run, divided by the requests it answered in that time (its CPU share
                  times 1/requests-per-second): what one request costs the server
Prints two markdown tables on stdout; the raw loadgen lines go to stderr.
"""

import argparse
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
PEERS = os.path.join(HERE, "peers", "echo")
TICK = os.sysconf("SC_CLK_TCK")


def servers(build, python, py_uvloop):
    """name -> (label, command(port, size) or None, why it cannot run)."""
    b = os.path.join(build, "bench")

    def native(binary, *extra):
        path = os.path.join(b, binary)
        if not os.access(path, os.X_OK):
            return None
        return lambda port, size: [path, str(port), *[a.format(size=size) for a in extra]]

    def py(interp, mode, loop, with_size):
        return lambda port, size: [interp, os.path.join(PEERS, "echo_server.py"), str(port),
                                   mode, loop] + ([str(size)] if with_size else [])

    has_uvloop = py_uvloop and subprocess.run(
        [py_uvloop, "-c", "import uvloop"], capture_output=True).returncode == 0
    node = shutil.which("node")
    table = [
        ("aio-streams", "ours: start_server, readexactly/write/drain",
         native("echo_streams", "{size}"), "not built"),
        ("aio-protocol", "ours: Protocol.data_received -> write", native("echo_protocol"),
         "not built"),
        ("epoll-c", "raw epoll loop (C): one read, one write", native("epoll_echo"),
         "not built (no C compiler?)"),
        ("libuv-c", "libuv: uv_try_write, uv_write fallback", native("uv_echo"),
         "not built: apt-get install libuv1-dev"),
        ("boost-asio", "Boost.Asio: co_spawn, async_read_some/async_write",
         native("asio_echo"), "not built: apt-get install libboost-dev"),
        ("py-streams", "CPython asyncio: readexactly/write/drain",
         py(python, "streams", "asyncio", True), ""),
        ("py-protocol", "CPython asyncio: Protocol", py(python, "protocol", "asyncio", False), ""),
        ("uvloop-streams", "uvloop: readexactly/write/drain",
         py(py_uvloop, "streams", "uvloop", True) if has_uvloop else None,
         "not installed: apt-get install python3-uvloop"),
        ("uvloop-protocol", "uvloop: Protocol",
         py(py_uvloop, "protocol", "uvloop", False) if has_uvloop else None,
         "not installed: apt-get install python3-uvloop"),
        ("node-net", "Node.js net: on('data') -> write",
         (lambda port, size: [node, os.path.join(PEERS, "echo.js"), str(port)]) if node else None,
         "not installed: apt-get install nodejs"),
    ]
    return {name: (label, cmd, why) for name, label, cmd, why in table}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, proc, seconds=10.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return True
        except OSError:
            time.sleep(0.05)
    return False


def cpu_ticks(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)
    except OSError:
        return 0


def stop(proc):
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def pinned(cpu, argv):
    return (["taskset", "-c", str(cpu)] if shutil.which("taskset") else []) + argv


def run_cases(name, cmd, size, conns, args, loadgen, log):
    """Starts the server once, runs loadgen for each connection count: {conns: result}."""
    port = free_port()
    proc = subprocess.Popen(pinned(args.server_cpu, cmd(port, size)), stdout=log, stderr=log,
                            start_new_session=True)
    results = {}
    try:
        if not wait_port(port, proc):
            return {c: "did not start (see the log)" for c in conns}
        time.sleep(0.2)
        for c in conns:
            k0, t0 = cpu_ticks(proc.pid), time.monotonic()
            out = subprocess.run(pinned(args.client_cpu, [
                loadgen, "-p", str(port), "-c", str(c), "-s", str(size), "-d", str(args.dur),
                "-w", str(args.warm)]), capture_output=True, text=True, timeout=60)
            wall, ticks = time.monotonic() - t0, cpu_ticks(proc.pid) - k0
            line = out.stdout.strip()
            print(f"server={name} {line} srv_cpu_s={ticks / TICK:.2f} wall_s={wall:.2f}",
                  file=sys.stderr)
            kv = dict(p.split("=", 1) for p in line.split() if "=" in p)
            if out.returncode != 0 or "rps" not in kv:
                results[c] = f"loadgen failed: {line or out.stderr.strip()}"[:80]
                continue
            rps = float(kv["rps"])
            share = ticks / TICK / wall
            results[c] = {"rps": rps, "cpu_us": share / rps * 1e6 if rps else float("nan"),
                          "share": share}
    finally:
        stop(proc)
    return results


def fmt_int(x):
    return f"{x:,.0f}"


def cell(samples, key, fmt):
    values = [s[key] for s in samples if isinstance(s, dict)]
    if not values:
        errs = [s for s in samples if isinstance(s, str)]
        return errs[0] if errs else "—"
    return fmt(statistics.median(values))


def print_tables(order, info, cases, res, args):
    heads = [f"{c} conns × {s} B" for c, s in cases]
    print("| server | " + " | ".join(heads) + " |")
    print("|---|" + "---:|" * len(cases))
    for name in order:
        label, cmd, why = info[name]
        if cmd is None:
            print(f"| `{name}` | " + " | ".join([f"not run: {why}"] + [""] * (len(cases) - 1))
                  + " |")
            continue
        cells = []
        for case in cases:
            samples = res[name][case]
            ratios = []
            for run, s in enumerate(samples):
                base = res["epoll-c"][case][run] if "epoll-c" in res else None
                if isinstance(s, dict) and isinstance(base, dict) and base["rps"]:
                    ratios.append(s["rps"] / base["rps"])
            text = cell(samples, "rps", fmt_int)
            if ratios:
                text += f" ({statistics.median(ratios):.2f}×)"
            cells.append(text)
        print(f"| `{name}` | " + " | ".join(cells) + " |")
    print()
    print("Server CPU-µs per request (and the server's CPU use, % of one core):")
    print()
    print("| server | " + " | ".join(heads) + " |")
    print("|---|" + "---:|" * len(cases))
    for name in order:
        if info[name][1] is None:
            continue
        cells = []
        for case in cases:
            samples = res[name][case]
            text = cell(samples, "cpu_us", lambda x: f"{x:.2f}")
            if any(isinstance(s, dict) for s in samples):
                text += " (" + cell(samples, "share", lambda x: f"{100 * x:.0f} %") + ")"
            cells.append(text)
        print(f"| `{name}` | " + " | ".join(cells) + " |")
    print()
    print("What each server is:")
    print()
    for name in order:
        print(f"- `{name}`: {info[name][0]}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("build")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--runs", type=int, default=int(os.environ.get("ECHO_RUNS", 2)))
    ap.add_argument("--dur", type=float, default=float(os.environ.get("ECHO_DUR", 2)))
    ap.add_argument("--warm", type=float, default=float(os.environ.get("ECHO_WARM", 0.5)))
    ap.add_argument("--conns", default="64 512")
    ap.add_argument("--sizes", default="64 4096")
    ap.add_argument("--servers", default="")
    ap.add_argument("--log", default=os.devnull, help="servers' stdout and stderr go here")
    args = ap.parse_args()
    if args.quick:
        args.runs, args.dur, args.warm, args.conns, args.sizes = 1, 0.2, 0.1, "64", "64"
    args.server_cpu = int(os.environ.get("SERVER_CPU", 0))
    args.client_cpu = int(os.environ.get("CLIENT_CPU", 1))
    python = os.environ.get("PYTHON") or sys.executable
    py_uvloop = os.environ.get("PY_UVLOOP", "/usr/bin/python3")
    info = servers(args.build, python, py_uvloop if os.path.exists(py_uvloop) else None)
    order = args.servers.split() or list(info)
    loadgen = os.path.join(args.build, "bench", "loadgen")
    if not os.access(loadgen, os.X_OK):
        sys.exit(f"echo_bench.py: no {loadgen} (bench/meson.build builds it with a C compiler)")
    conns = [int(c) for c in args.conns.split()]
    sizes = [int(s) for s in args.sizes.split()]
    cases = [(c, s) for s in sizes for c in conns]
    res = {name: {case: [] for case in cases} for name in order}
    with open(args.log, "a") as log:
        for _ in range(args.runs):
            for size in sizes:
                for name in order:
                    cmd = info[name][1]
                    if cmd is None:
                        continue
                    got = run_cases(name, cmd, size, conns, args, loadgen, log)
                    for c in conns:
                        res[name][(c, size)].append(got[c])
    print_tables(order, info, cases, res, args)


if __name__ == "__main__":
    main()
