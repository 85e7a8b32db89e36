#!/usr/bin/env python3
"""Lint: lessons only look backwards.

A lesson's files (lessonNN_*/ and tests/lessonNN_*/) may include headers of lessons
<= NN only, so each lesson can be read (and built) knowing only the ones before it.
Checks `#include "lessonMM_x/..."` and `#include <lessonMM_x/...>`.

usage: layering.py REPO_ROOT
"""

import re

from _common import SOURCE_SUFFIXES, finish, lesson_dirs, rel, root_from_argv, walk_files

INCLUDE = re.compile(r'^\s*#\s*include\s*[<"]lesson(\d\d)_[^/">]*/')


def main() -> None:
    root = root_from_argv()
    files = 0
    problems = 0
    for number, lesson in lesson_dirs(root):
        for top in (lesson, root / "tests" / lesson.name):
            for path in walk_files(top, SOURCE_SUFFIXES):
                files += 1
                text = path.read_text(encoding="utf-8", errors="replace")
                for lineno, line in enumerate(text.splitlines(), 1):
                    m = INCLUDE.match(line)
                    if m and int(m.group(1)) > number:
                        problems += 1
                        print(f"{rel(root, path)}:{lineno}: lesson {number:02d} file includes "
                              f"a later lesson: {line.strip()}")
    finish("layering", files, problems)


if __name__ == "__main__":
    main()
