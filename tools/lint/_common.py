"""Shared helpers for the lint scripts in tools/lint (run by `meson test --suite lint`).

Every script takes the repository root as its first argument, prints one line per
problem as `path:line: message` (paths relative to the root, so editors can jump to
them), then a last line `lint NAME: F files checked, P problems`, and exits 1 if it
found any problem. `./aio test` counts each lint script as one test case.
"""

import os
import re
import sys
from pathlib import Path

LESSON_DIR = re.compile(r"^lesson(\d\d)_\w+$")
SOURCE_SUFFIXES = (".cpp", ".hpp", ".h", ".ipp")


def root_from_argv() -> Path:
    if len(sys.argv) < 2:
        sys.exit(f"usage: {sys.argv[0]} REPO_ROOT [...]")
    return Path(sys.argv[1]).resolve()


def lesson_dirs(root: Path):
    """(number, dir) for every lessonNN_* directory at the root, in order."""
    found = []
    for entry in root.iterdir():
        m = LESSON_DIR.match(entry.name)
        if m and entry.is_dir():
            found.append((int(m.group(1)), entry))
    return sorted(found)


def walk_files(top: Path, suffixes=None):
    """Files under top (recursively, sorted), skipping hidden and build* directories."""
    if not top.is_dir():
        return []
    out = []
    for dirpath, dirnames, filenames in os.walk(top):
        dirnames[:] = sorted(d for d in dirnames
                             if not d.startswith(".") and not d.startswith("build"))
        for name in sorted(filenames):
            if suffixes is None or name.endswith(suffixes):
                out.append(Path(dirpath) / name)
    return out


def rel(root: Path, path: Path) -> str:
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)


def finish(name: str, files_checked: int, problems: int) -> None:
    print(f"lint {name}: {files_checked} files checked, {problems} problems")
    sys.exit(1 if problems else 0)
