#!/usr/bin/env python3
"""The differential test: the same random scenarios under CPython's asyncio and under
this library; their event traces must be equal, line for line.

What is compared, and why: a trace (reference.py's docstring) records every task's
start, each op's outcome, where each CancelledError landed and each task's final
state, with the virtual time of each event. Two implementations of asyncio's rules
that agree on every trace agree on scheduling order, cancellation delivery, timeouts,
gather/wait/shield/TaskGroup outcomes and the fairness of locks and queues, in
situations nobody thought to write a unit test for.

For each batch of seeds this generates the scenarios (scenario.py), runs them all in
this process on CPython (reference.py, virtual time), runs the C++ interpreter once on
the same text (BUILD/tests/stress/differential/stress_differential) and compares.
A mismatch prints the seed, the scenario, a unified diff (CPython -> C++) and the one
command that replays it. The last line is always
    stress differential: N scenarios, N events, N mismatches
and the exit status is non-zero if there was any mismatch (or the C++ side crashed).

usage: differential.py --build BUILD_DIR (--seeds A-B | --seconds S | --seed N | --file F...)
"""

import argparse
import difflib
import os
import random
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))  # the repository
sys.path.insert(0, HERE)  # reference, scenario

import reference  # noqa: E402
import scenario  # noqa: E402

EXECUTABLE = os.path.join("tests", "stress", "differential", "stress_differential")
BATCH = 200  # scenarios per run of the C++ interpreter


class Totals:
    def __init__(self):
        self.scenarios = 0
        self.events = 0
        self.mismatches = 0
        self.ops = 0  # op lines in the scenarios run
        self.cancels = 0  # cancel() calls that took (returned True)
        self.seeds = None  # (first, last)

    def add(self, scenarios, traces):
        self.scenarios += len(scenarios)
        self.ops += sum(count_ops(body) for sc in scenarios for body in sc.tasks.values())
        for trace in traces:
            self.events += len(trace) - 1  # not the "scenario SEED" line
            self.cancels += sum(" cancel " in line and line.endswith("-> True") for line in trace)
        first, last = scenarios[0].seed, scenarios[-1].seed
        self.seeds = (self.seeds[0] if self.seeds else first, last)

    def figures(self):
        seeds = f"seeds {self.seeds[0]}-{self.seeds[1]}" if self.seeds else "no seeds"
        return f"differential: {seeds}, {self.ops} ops, {self.cancels} cancel requests taken"

    def line(self):
        return (f"stress differential: {self.scenarios} scenarios, {self.events} events, "
                f"{self.mismatches} mismatches")


def count_ops(body):
    return sum(1 + count_ops(op.body or []) for op in body)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--build", required=True, help="the meson build directory")
    what = parser.add_mutually_exclusive_group(required=True)
    what.add_argument("--seeds", help="a range of seeds, A-B (both included)")
    what.add_argument("--seconds", type=float, help="run batches of random seeds this long")
    what.add_argument("--seed", type=int, help="one seed, printing both traces")
    what.add_argument("--file", nargs="+", help="the scenarios written in FILE... (cases/)")
    return parser.parse_args()


def replay_command(build, seed, source=None):
    """The command, run from the repository's root, that shows one seed."""
    script = os.path.relpath(os.path.abspath(__file__), ROOT)
    build = os.path.abspath(build)
    if build.startswith(ROOT + os.sep):
        build = os.path.relpath(build, ROOT)
    if source:
        return f"python3 {script} --build {build} --file {source}"
    return f"python3 {script} --build {build} --seed {seed}"


def split_traces(lines):
    """C++ output -> {seed: [lines]}; each trace starts with 'scenario SEED'."""
    traces, current = {}, None
    for line in lines:
        if line.startswith("scenario "):
            current = traces.setdefault(int(line.split()[1]), [])
        if current is not None:
            current.append(line)
    return traces


def run_cpp(build, text):
    """Runs the C++ interpreter on `text`: (exit status, {seed: trace}, stderr)."""
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
        f.write(text)
        path = f.name
    try:
        proc = subprocess.run([os.path.join(build, EXECUTABLE), path],
                              capture_output=True, text=True)
    finally:
        os.unlink(path)
    return proc.returncode, split_traces(proc.stdout.splitlines()), proc.stderr


def report_mismatch(build, sc, expected, actual, source=None):
    print(f"MISMATCH seed {sc.seed}")
    print(sc.text(), end="")
    diff = difflib.unified_diff(expected, actual, "CPython asyncio", "aio (C++)", lineterm="")
    print("\n".join(diff))
    print(f"replay: {replay_command(build, sc.seed, source)}\n")


def report_crash(build, scenarios, status, stderr):
    """The C++ side died: find the first scenario that kills it on its own."""
    print(f"CRASH: stress_differential exited with status {status}")
    print(stderr[-4000:])
    for sc in scenarios:
        if run_cpp(build, sc.text())[0] != 0:
            print(f"crashing seed {sc.seed}:\n{sc.text()}", end="")
            print(f"replay: {replay_command(build, sc.seed)}\n")
            return
    print("no single scenario crashes on its own; replay the batch with --seeds")


def check_batch(build, seeds, totals):
    check_scenarios(build, [scenario.generate(seed) for seed in seeds], totals)


def check_scenarios(build, scenarios, totals, source=None):
    expected = {sc.seed: reference.run_scenario(sc) for sc in scenarios}
    status, actual, stderr = run_cpp(build, "".join(sc.text() for sc in scenarios))
    totals.add(scenarios, expected.values())
    if status != 0:
        totals.mismatches += 1
        report_crash(build, scenarios, status, stderr)
        return
    for sc in scenarios:
        if expected[sc.seed] != actual.get(sc.seed):
            totals.mismatches += 1
            report_mismatch(build, sc, expected[sc.seed], actual.get(sc.seed, []), source)


def show_one(build, seed, totals):
    sc = scenario.generate(seed)
    print(sc.text())
    expected = reference.run_scenario(sc)
    status, actual, stderr = run_cpp(build, sc.text())
    print("---- CPython asyncio")
    print("\n".join(expected))
    print("---- aio (C++)" + (f", exit status {status}" if status else ""))
    print("\n".join(actual.get(seed, [])) + stderr)
    totals.add([sc], [expected])
    if status != 0 or actual.get(seed) != expected:
        totals.mismatches = 1
        print("\n".join(difflib.unified_diff(expected, actual.get(seed, []), "CPython asyncio",
                                             "aio (C++)", lineterm="")))


def main():
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # `... --seed N | head` ends quietly
    args = parse_args()
    totals = Totals()
    if not os.access(os.path.join(args.build, EXECUTABLE), os.X_OK):
        print(f"no {EXECUTABLE} in {args.build}: "
              f"ninja -C {args.build} {EXECUTABLE}")
        totals.mismatches = 1
        print(totals.line())
        sys.exit(2)
    try:
        if args.seed is not None:
            show_one(args.build, args.seed, totals)
        elif args.file:
            for path in args.file:
                with open(path) as f:
                    check_scenarios(args.build, scenario.parse(f.read()), totals, path)
        elif args.seeds:
            first, _, last = args.seeds.partition("-")
            seeds = list(range(int(first), int(last or first) + 1))
            for i in range(0, len(seeds), BATCH):
                check_batch(args.build, seeds[i:i + BATCH], totals)
        else:
            deadline = time.monotonic() + args.seconds
            seed = random.randrange(10**9)
            print(f"seeds from {seed}")
            while time.monotonic() < deadline:
                check_batch(args.build, range(seed, seed + BATCH), totals)
                seed += BATCH
    finally:
        print(totals.figures())
        print(totals.line())
    sys.exit(1 if totals.mismatches else 0)


if __name__ == "__main__":
    main()
