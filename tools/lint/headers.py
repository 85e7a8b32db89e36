#!/usr/bin/env python3
"""Lint: every public header (lesson*/**/*.hpp) compiles on its own.

Each header is compiled alone, included twice (so a missing `#pragma once` shows up),
with  CXX -std=c++20 -fsyntax-only -Wall -Wextra -Wpedantic -Werror -I<root>.
The translation unit is `#include "lessonNN_x/header.hpp"` fed on stdin, rather than
the header itself, because compilers warn about `#pragma once` in a main file.

usage: headers.py REPO_ROOT [CXX [CXX-ARGS...]]      (CXX defaults to $CXX or c++)
"""

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

from _common import finish, lesson_dirs, rel, root_from_argv, walk_files

FLAGS = ["-std=c++20", "-fsyntax-only", "-Wall", "-Wextra", "-Wpedantic", "-Werror"]


def main() -> None:
    root = root_from_argv()
    cxx = sys.argv[2:] or [os.environ.get("CXX", "c++")]
    headers = [h for _, lesson in lesson_dirs(root) for h in walk_files(lesson, (".hpp",))]

    def check(header):
        name = rel(root, header)
        source = f'#include "{name}"\n#include "{name}"\n'
        cmd = cxx + FLAGS + [f"-I{root}", "-x", "c++", "-o", os.devnull, "-"]
        proc = subprocess.run(cmd, input=source, capture_output=True, text=True, cwd=root)
        return name, proc.returncode, proc.stdout + proc.stderr

    problems = 0
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        for name, returncode, output in pool.map(check, headers):
            if returncode != 0:
                problems += 1
                print(f"{name}:1: does not compile on its own ({' '.join(cxx)} {' '.join(FLAGS)}):")
                print(output.rstrip())
    finish("headers", len(headers), problems)


if __name__ == "__main__":
    main()
