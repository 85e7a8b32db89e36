#!/usr/bin/env python3
"""Helpers for ./aio that are easier in Python than in bash. Not meant to be run by hand.

  aio_util.py count TESTLOG_JSON...
      Counts doctest test cases in one `meson test` run. For each test in its JSON
      log(s) (meson-logs/testlog.json, or the name given by --logbase) it reads the last doctest summary line in the test's
      output,  "[doctest] test cases: 12 | 12 passed | 0 failed | 0 skipped",
      and adds its passed and failed numbers. Then:
        - a test that failed (crash, sanitizer report, timeout, non-zero exit) although
          its summary shows no failed case adds 1 failed (the executable itself);
        - a test with no doctest summary (the lint scripts) counts as 1 test case:
          1 passed if it succeeded, 1 failed if not;
        - a test whose output has a sanitizer report counts as failed even if it exited 0;
        - skipped tests (exit 77) count as neither.
      Prints "PASSED FAILED" on stdout and one line per failing test on stderr.

  aio_util.py setup-needed BUILD_DIR COMPILER(gcc|clang) -Dname=value...
      Prints what `meson setup` has to do for BUILD_DIR to have that compiler and those
      options: "setup" (no build dir), "wipe" (other compiler), "reconfigure" (other
      options) or "ok".

  aio_util.py tests BUILD_DIR [SUITE]     how many tests BUILD_DIR registers (in SUITE)
  aio_util.py suites BUILD_DIR            the suites BUILD_DIR registers, one a line
  aio_util.py executables BUILD_DIR       executable targets: "name<TAB>path<TAB>srcdir"
  aio_util.py readme-tour README          the "Tour: " line
  aio_util.py readme-breakpoints README   the words after "gdb-breakpoints:", one a line
"""

import json
import re
import shlex
import sys
from pathlib import Path

DOCTEST_SUMMARY = re.compile(
    r"\[doctest\] test cases:\s*(\d+)\s*\|\s*(\d+) passed\s*\|\s*(\d+) failed")
SANITIZER_REPORT = re.compile(
    r"ERROR: (AddressSanitizer|LeakSanitizer|MemorySanitizer)|WARNING: ThreadSanitizer|"
    r"ThreadSanitizer: reported|:\d+:\d+: runtime error: |SUMMARY: UndefinedBehaviorSanitizer")
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def count(testlogs) -> None:
    passed = failed = 0
    entries = []
    for path in map(Path, testlogs):
        if path.exists():
            lines = path.read_text().splitlines()
            entries += [json.loads(line) for line in lines if line.strip()]
    for entry in entries:
        result = entry.get("result", "ERROR")
        output = ANSI.sub("", (entry.get("stdout") or "") + "\n" + (entry.get("stderr") or ""))
        if result == "SKIP":
            continue
        ok = result in ("OK", "EXPECTEDFAIL")
        sanitizer = SANITIZER_REPORT.search(output)
        if sanitizer:
            ok = False
        summaries = DOCTEST_SUMMARY.findall(output)
        if summaries:
            _, p, f = (int(x) for x in summaries[-1])
            if not ok and f == 0:
                f = 1
        else:
            p, f = (1, 0) if ok else (0, 1)
        passed += p
        failed += f
        if not ok or f:
            why = f"sanitizer report ({sanitizer.group(0).strip()})" if sanitizer else \
                f"{result}, exit status {entry.get('returncode')}"
            if not summaries and not ok and ":lint / " not in str(entry.get("name")):
                why += ", no doctest summary"
            print(f"  failed: {entry.get('name')}: {why}", file=sys.stderr)
    print(passed, failed)


def meson_info(build_dir: str, what: str):
    path = Path(build_dir) / "meson-info" / f"intro-{what}.json"
    return json.loads(path.read_text()) if path.exists() else []


def setup_needed(build_dir: str, compiler: str, options) -> None:
    build = Path(build_dir)
    if not (build / "meson-private" / "coredata.dat").exists():
        print("setup")
        return
    log = build / "meson-logs" / "meson-log.txt"
    text = log.read_text(errors="replace") if log.exists() else ""
    m = re.search(r"C\+\+ compiler for the host machine: .*?\((\w+) ", text)
    if not m or m.group(1) != compiler:
        print("wipe")
        return
    current = {o["name"]: o["value"] for o in meson_info(build_dir, "buildoptions")}
    for option in options:
        name, _, wanted = option.removeprefix("-D").partition("=")
        have = current.get(name)
        if isinstance(have, bool):
            same = str(have).lower() == wanted.lower()
        elif isinstance(have, list):
            same = have == shlex.split(wanted)
        else:
            same = str(have) == wanted
        if not same:
            print("reconfigure")
            return
    print("ok")


def suites_of(test):
    return [s.split(":", 1)[-1] for s in test.get("suite", [])]


def tests(build_dir: str, suite=None) -> None:
    print(sum(1 for t in meson_info(build_dir, "tests") if suite is None or suite in suites_of(t)))


def suites(build_dir: str) -> None:
    for s in sorted({s for t in meson_info(build_dir, "tests") for s in suites_of(t)}):
        print(s)


def executables(build_dir: str) -> None:
    for target in meson_info(build_dir, "targets"):
        if target.get("type") == "executable":
            for filename in target.get("filename", []):
                print(f"{target['name']}\t{filename}\t{Path(target['defined_in']).parent}")


def readme_tour(readme: str) -> None:
    lines = Path(readme).read_text(errors="replace").splitlines()
    for line in lines:
        if line.startswith("Tour: "):
            print(line)
            return


def readme_breakpoints(readme: str) -> None:
    for line in Path(readme).read_text(errors="replace").splitlines():
        if line.startswith("gdb-breakpoints:"):
            for word in line.split(":", 1)[1].split():
                print(word.strip("`"))


def main() -> None:
    commands = {
        "count": count,
        "setup-needed": lambda a: setup_needed(a[0], a[1], a[2:]),
        "tests": lambda a: tests(a[0], a[1] if len(a) > 1 else None),
        "suites": lambda a: suites(a[0]),
        "executables": lambda a: executables(a[0]),
        "readme-tour": lambda a: readme_tour(a[0]),
        "readme-breakpoints": lambda a: readme_breakpoints(a[0]),
    }
    if len(sys.argv) < 3 or sys.argv[1] not in commands:
        sys.exit(__doc__)
    commands[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    main()
