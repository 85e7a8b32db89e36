#!/usr/bin/env python3
"""Lint: the C++ sources are clang-format clean against the root .clang-format.

Checks *.cpp and *.hpp under lesson*/, tests/, bench/ and examples/ with
`clang-format --dry-run --Werror` (clang-format 14, the version .clang-format is
written for; another version may disagree on details). Prints the first few places
per file; fix a file with `clang-format -i FILE`.

usage: format.py REPO_ROOT [CLANG_FORMAT]
"""

import re
import shutil
import subprocess
import sys

from _common import finish, lesson_dirs, rel, root_from_argv, walk_files

SUFFIXES = (".cpp", ".hpp")
BATCH = 50  # files per clang-format run
SHOWN = 3  # places printed per file
DIAGNOSTIC = re.compile(r"^(.+?):(\d+):\d+: (?:error|warning):")


def main() -> None:
    root = root_from_argv()
    tool = sys.argv[2] if len(sys.argv) > 2 else (shutil.which("clang-format-14")
                                                  or shutil.which("clang-format"))
    if not tool:
        print("tools/lint/format.py:1: clang-format not found (Debian: apt-get install clang-format)")
        finish("format", 0, 1)
    version = subprocess.run([tool, "--version"], capture_output=True, text=True).stdout
    m = re.search(r"version (\d+)", version)
    if m and m.group(1) != "14":
        print(f"note: {tool} is version {m.group(1)}; .clang-format is checked with 14")

    tops = [lesson for _, lesson in lesson_dirs(root)]
    tops += [root / "tests", root / "bench", root / "examples"]
    names = [rel(root, f) for top in tops for f in walk_files(top, SUFFIXES)]

    # clang-format prints "path:line:col: error: code should be clang-formatted ...",
    # then the source line and a caret line.
    found = {}  # path -> {(line, source text)}
    other_failures = []
    for i in range(0, len(names), BATCH):
        batch = names[i:i + BATCH]
        proc = subprocess.run([tool, "--dry-run", "--Werror", "--style=file"] + batch,
                              capture_output=True, text=True, cwd=root)
        lines = (proc.stdout + proc.stderr).splitlines()
        before = len(found)
        for j, line in enumerate(lines):
            m = DIAGNOSTIC.match(line)
            if m:
                source = lines[j + 1].strip() if j + 1 < len(lines) else ""
                found.setdefault(m.group(1), set()).add((int(m.group(2)), source))
        if proc.returncode != 0 and len(found) == before:
            other_failures.append("\n".join(lines))  # clang-format failed some other way

    for name in sorted(found):
        places = sorted(found[name])
        for line, source in places[:SHOWN]:
            print(f"{name}:{line}: not clang-format clean: {source}")
        if len(places) > SHOWN:
            print(f"{name}: ... and {len(places) - SHOWN} more places")
        print(f"{name}: fix with: clang-format -i {name}")
    for output in other_failures:
        print(output)
    finish("format", len(names), len(found) + len(other_failures))


if __name__ == "__main__":
    main()
