#!/usr/bin/env python3
"""Lint: the size budget. No file in a lesson directory (lesson*/, recursively) is
longer than LIMIT lines, so every file can be read in one sitting; split it instead.

usage: size.py REPO_ROOT [LIMIT]
"""

import sys

from _common import finish, lesson_dirs, rel, root_from_argv, walk_files

DEFAULT_LIMIT = 600


def main() -> None:
    root = root_from_argv()
    limit = int(sys.argv[2]) if len(sys.argv) > 2 else DEFAULT_LIMIT
    files = [f for _, lesson in lesson_dirs(root) for f in walk_files(lesson)]
    problems = 0
    for path in files:
        data = path.read_bytes()
        if b"\0" in data:
            continue  # binary
        lines = data.count(b"\n") + (0 if data.endswith(b"\n") or not data else 1)
        if lines > limit:
            problems += 1
            print(f"{rel(root, path)}:{limit + 1}: {lines} lines, over the {limit}-line budget")
    finish("size", len(files), problems)


if __name__ == "__main__":
    main()
