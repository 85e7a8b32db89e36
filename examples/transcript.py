#!/usr/bin/env python3
"""Runs one example and checks it against its transcript (the `examples` test suite).

  transcript.py EXAMPLES_DIR NAME -- COMMAND...
      Runs COMMAND (the C++ example, or `python3 NAME.py`) and checks:
        - its stdout is NAME.expected, byte for byte;
        - the messages on its stderr, normalized (below), are NAME.stderr.expected, line
          for line (no such file: there must be none);
        - it exits with status 0.
      On a mismatch it prints a unified diff and exits 1.

  transcript.py --normalize-stderr  <STDERR
      Prints the normalized messages of the stderr read on stdin: what NAME.stderr.expected
      holds. `./build/examples/pitfalls 2>&1 >/dev/null | python3 examples/transcript.py
      --normalize-stderr` shows the C++ side.

NAME.expected is CPython 3.11's stdout (python3 NAME.py > NAME.expected), so the two tests
of an example prove that the C++ port prints what CPython prints.

Why stderr is normalized: the two programs say the same things in different frames.
CPython's warnings module writes "FILE:LINE: RuntimeWarning: MESSAGE", then the source
line and a tracemalloc hint; its logging writes the bare message; our logger writes
"LEVEL:asyncio:MESSAGE" and names where a coroutine is defined. A task's repr differs too
(CPython's has the file it was defined in and where it was created), and a slow step
takes 0.302 s of real time there, 0.300 s of virtual time here. So each line becomes its
message alone: the frame is stripped, a task's repr keeps its name and coroutine, a
duration keeps one decimal. A line no rule recognises is kept whole, so anything new on
stderr fails the test.
"""

import difflib
import os
import re
import subprocess
import sys
from pathlib import Path

# CPython's warnings module: "/path/pitfalls.py:27: RuntimeWarning: coroutine ... awaited"
PY_WARNING = re.compile(r"^.*:\d+: \w*Warning: (?P<message>.*)$")
# What the warnings module adds after such a line: the source line (indented) and a hint.
PY_WARNING_TAIL = re.compile(r"^\s+\S|^RuntimeWarning: Enable tracemalloc")
# Our logger's frame, "WARNING:asyncio:" (and Python's, were logging configured).
LOG_PREFIX = re.compile(r"^(DEBUG|INFO|WARNING|ERROR|CRITICAL):asyncio:")
# Where our never-awaited warning says the coroutine is defined.
DEFINED_AT = re.compile(r" \(defined at [^)]*\)$")
# A task's repr, both shapes: "<Task finished name='Task-2' coro=<job() done, defined
# at /p/x.py:46> result=None created at ...>" and "<Task pending name='Task-2' coro=job()>".
# It runs to the line's last '>': CPython's nests others.
TASK_REPR = re.compile(r"<Task \w+ name='(?P<name>[^']*)' coro=<?(?P<coro>[\w.:]+)\(\).*>")
DURATION = re.compile(r"took (?P<seconds>\d+\.\d+) seconds")


def normalize_stderr(text: str) -> list:
    """The messages of a program's stderr, one a line, without their frames."""
    messages = []
    after_warning = False
    for line in text.splitlines():
        if after_warning and PY_WARNING_TAIL.match(line):
            continue
        warning = PY_WARNING.match(line)
        after_warning = bool(warning)
        if warning:
            line = warning.group("message")
        line = DEFINED_AT.sub("", LOG_PREFIX.sub("", line))
        line = TASK_REPR.sub(lambda m: f"<Task name='{m['name']}' coro={m['coro']}()>", line)
        line = DURATION.sub(lambda m: f"took {float(m['seconds']):.1f} seconds", line)
        messages.append(line)
    return messages


def program_env() -> dict:
    """The environment the examples run in: UTF-8 out, no debug switches from outside."""
    env = dict(os.environ)
    for name in ("AIO_DEBUG", "PYTHONASYNCIODEBUG", "PYTHONWARNINGS", "PYTHONDEVMODE"):
        env.pop(name, None)
    env.update(PYTHONIOENCODING="utf-8", PYTHONDONTWRITEBYTECODE="1")
    return env


def diff(expected: str, actual: str, what: str) -> str:
    lines = difflib.unified_diff(expected.splitlines(keepends=True),
                                 actual.splitlines(keepends=True),
                                 fromfile=f"{what} (expected)", tofile=f"{what} (printed)")
    return "".join(lines)


def check(examples_dir: Path, name: str, command: list) -> int:
    expected_out = (examples_dir / f"{name}.expected").read_bytes()
    stderr_file = examples_dir / f"{name}.stderr.expected"
    expected_err = stderr_file.read_text(encoding="utf-8") if stderr_file.exists() else ""
    run = subprocess.run(command, capture_output=True, env=program_env(), timeout=300)
    err_text = run.stderr.decode("utf-8", errors="replace")
    messages = "".join(m + "\n" for m in normalize_stderr(err_text))
    failures = []
    if run.stdout != expected_out:
        out_text = run.stdout.decode("utf-8", errors="replace")
        failures.append(diff(expected_out.decode("utf-8"), out_text, f"{name} stdout") or
                        "stdout differs in bytes that do not decode as UTF-8\n")
    if messages != expected_err:
        failures.append(diff(expected_err, messages, f"{name} stderr messages"))
    if run.returncode != 0:
        failures.append(f"exit status {run.returncode}\n")
    print("$", " ".join(command))
    if failures:
        print("".join(failures), end="")
        print("--- its stderr, as written:\n" + err_text, end="")
        return 1
    print(f"stdout is {name}.expected; stderr messages are "
          f"{stderr_file.name if stderr_file.exists() else 'none'}")
    return 0


def main(argv: list) -> int:
    if argv[1:] == ["--normalize-stderr"]:
        for message in normalize_stderr(sys.stdin.read()):
            print(message)
        return 0
    if len(argv) < 5 or argv[3] != "--":
        print(__doc__, file=sys.stderr)
        return 2
    return check(Path(argv[1]), argv[2], argv[4:])


if __name__ == "__main__":
    sys.exit(main(sys.argv))
