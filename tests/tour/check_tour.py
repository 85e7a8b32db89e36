"""check_tour.py - the tour says true things about the output it introduces.

`./aio tour` prints each lesson README's "Tour: " line, then runs the lesson's demo. A
demo is made of numbered parts; each part prints its heading, then one "watch:" line
saying what to look for, then its output:

    3. the Future example
      watch: "waiting" prints, then the loop runs iteration 7 ...
      [0.00] ...

This runner checks what every demo owes the reader, then hands the parts to the
lesson's own facts file, which checks the facts its watch lines claim:

    python3 check_tour.py FACTS.py DEMO README.md

FACTS.py defines `check(parts)`; `parts` is a list of `Part` (number, title, watch,
lines), and a failed `assert` there names the claim that is no longer true.
"""

import importlib.util
import os
import re
import subprocess
import sys
from dataclasses import dataclass, field

HEADING = re.compile(r"^(\d+)\. (\S.*)$")
WATCH = re.compile(r"^\s+watch: (\S.*)$")
STAMP = re.compile(r"\[(\d+\.\d\d)\]")


@dataclass
class Part:
    number: int
    title: str
    watch: str = ""
    lines: list = field(default_factory=list)

    def times(self):
        """Every [t.tt] stamp in the part, in order, as floats."""
        return [float(m.group(1)) for line in self.lines for m in STAMP.finditer(line)]

    def line_with(self, text):
        """The first line containing `text`; fails naming the part if there is none."""
        for line in self.lines:
            if text in line:
                return line
        raise AssertionError(f"part {self.number} ({self.title}): no line contains {text!r}")

    def index_of(self, text):
        return self.lines.index(self.line_with(text))


def parse(output):
    parts = []
    for line in output.splitlines():
        heading = HEADING.match(line)
        if heading:
            parts.append(Part(int(heading.group(1)), heading.group(2)))
        elif parts and not parts[-1].watch and not parts[-1].lines and WATCH.match(line):
            parts[-1].watch = WATCH.match(line).group(1)
        elif parts:
            parts[-1].lines.append(line)
    return parts


def check_common(parts, readme):
    assert any(line.startswith("Tour: ") for line in open(readme, encoding="utf-8")), \
        f"{readme} has no 'Tour: ' line for ./aio tour to print"
    assert parts, "the demo printed no numbered part ('1. title')"
    assert [p.number for p in parts] == list(range(1, len(parts) + 1)), \
        f"parts are not numbered 1..n: {[p.number for p in parts]}"
    for p in parts:
        assert p.watch, f"part {p.number} ({p.title}) has no 'watch:' line under its heading"
        assert p.lines, f"part {p.number} ({p.title}) printed nothing after its watch line"
        stamps = p.times()
        assert not stamps or stamps[0] == 0.0, \
            f"part {p.number} ({p.title}) does not start its clock at 0: first stamp {stamps[0]}"


def main():
    facts_path, demo, readme = sys.argv[1:4]
    env = dict(os.environ, AIO_CLOCK="virtual")
    run = subprocess.run([demo], capture_output=True, text=True, timeout=120, env=env)
    sys.stdout.write(run.stdout)
    sys.stderr.write(run.stderr)
    assert run.returncode == 0, f"{demo} exited with status {run.returncode}"
    parts = parse(run.stdout)
    check_common(parts, readme)
    spec = importlib.util.spec_from_file_location("tour_facts", facts_path)
    facts = importlib.util.module_from_spec(spec)
    sys.modules["check_tour"] = sys.modules[__name__]
    spec.loader.exec_module(facts)
    facts.check(parts)
    print(f"tour: {len(parts)} parts, every watch line holds")


if __name__ == "__main__":
    main()
