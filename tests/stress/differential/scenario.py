"""Scenarios for the differential test: the text format, its parser, and the
generator that makes one from a seed.

A scenario is data, not code, so that the very same text can be run by CPython's
asyncio (reference.py) and by the C++ library (stress_differential), and printed
whole when the two disagree. One scenario is a block of lines:

    scenario 42
    objects L0 E0 C0 S0=2 Q0=1     a Lock, an Event, a Condition, a Semaphore(2) and a
                                   Queue(maxsize=1)
    task T0                        T0 is the main task; its body follows
      spawn T1                     create_task(body of T1, name='T1')
      try catch                    a block: try: ... except: record it (or 'rethrow')
        await T1
      end
    task T1
      sleep 0.5
    endscenario

Indentation is for the reader; blocks close with `end`. The ops (one a line):
  spawn Tk | sleep D | cancel Tk [MSG] | later D Tk [MSG] (call_later(D, Tk.cancel))
  uncancel | await Tk | raise MSG | return V | shield Tk | wait_for D Tk
  wait_for_coro D Tk (Tk's body as a coroutine, run inline by this task; D > 0, as for
      D <= 0 the library closes the coroutine where 3.12 wraps it in a task first)
  gather rx|norx Tk... | wait FIRST_COMPLETED|FIRST_EXCEPTION|ALL_COMPLETED D|none Tk...
  ewait E0 | eset E0 | eclear E0 | put Q0 V | get Q0 | put_nowait Q0 V | get_nowait Q0
  cwait C0 | notify C0 N | notify_all C0 (only inside `with C0`)
  blocks: try catch|rethrow|finally, timeout D, taskgroup (spawn inside it uses the
          group), with L0|S0|C0 (async with the lock, semaphore or condition)
Every body is started by exactly one op of an earlier task (so names are unique and
the spawn graph has no cycle); cancel and await may name any task, even one that does
not exist yet (the trace then says `missing`).
"""

import random

DELAYS = ("0", "0.5", "1", "1.5", "2")  # few values: equal deadlines happen often
TIMEOUTS = ("0", "0.5", "1", "1.5", "2.5")
RETURN_WHEN = ("FIRST_COMPLETED", "FIRST_EXCEPTION", "ALL_COMPLETED")
MAX_DEPTH = 2  # blocks inside blocks


class Op:
    """One line of a task body; a block op also has a body of its own."""

    def __init__(self, name, args=(), body=None):
        self.name = name
        self.args = list(args)
        self.body = body  # a list of Op for blocks, else None

    def lines(self, indent):
        pad = "  " * indent
        out = [pad + " ".join([self.name] + self.args)]
        if self.body is not None:
            for op in self.body:
                out += op.lines(indent + 1)
            out.append(pad + "end")
        return out


BLOCKS = ("try", "timeout", "taskgroup", "with")


class Scenario:
    def __init__(self, seed, objects, tasks):
        self.seed = seed
        self.objects = objects  # {"L0": None, "S0": 2, "Q0": 1, "E0": None}
        self.tasks = tasks  # {"T0": [Op...], ...}, in order of the names

    def text(self):
        objs = [k if v is None else f"{k}={v}" for k, v in self.objects.items()]
        out = [f"scenario {self.seed}", "objects " + " ".join(objs)]
        for name, body in self.tasks.items():
            out.append(f"task {name}")
            for op in body:
                out += op.lines(1)
        out.append("endscenario")
        return "\n".join(out) + "\n"


# ---- parsing --------------------------------------------------------------------------


def parse(text):
    """All scenarios in `text`, in order."""
    scenarios = []
    lines = iter(text.splitlines())
    for line in lines:
        words = line.split()
        if words and words[0] == "scenario":
            scenarios.append(_parse_one(int(words[1]), lines))
    return scenarios


def _parse_one(seed, lines):
    objects, tasks = {}, {}
    stack = []  # the open bodies: stack[-1] is where the next op goes
    for line in lines:
        words = line.split()
        if not words:
            continue
        head = words[0]
        if head == "endscenario":
            return Scenario(seed, objects, tasks)
        if head == "objects":
            for word in words[1:]:
                name, _, value = word.partition("=")
                objects[name] = int(value) if value else None
        elif head == "task":
            stack = [tasks.setdefault(words[1], [])]
        elif head == "end":
            stack.pop()
        else:
            op = Op(head, words[1:], [] if head in BLOCKS else None)
            stack[-1].append(op)
            if op.body is not None:
                stack.append(op.body)
    raise ValueError(f"scenario {seed}: no endscenario")


# ---- generating -----------------------------------------------------------------------


class Generator:
    """seed -> Scenario. Bodies are made in name order; a body may start any task
    whose name comes later and is not started yet, so every task has one parent."""

    def __init__(self, seed):
        self.rng = random.Random(seed)
        self.seed = seed
        self.ntasks = self.rng.randint(3, 9)
        self.next_child = 1  # the next task name not yet given to a spawner
        self.objects = self._objects()
        self.holding = None  # the object of the `with` block being generated
        self.current = 0  # the task whose body is being generated

    def scenario(self):
        tasks = {}
        index = 0
        while index < self.next_child or index == 0:
            self.current = index
            tasks[f"T{index}"] = self._body(0, in_group=False, most=8 if index == 0 else 5)
            index += 1
        return Scenario(self.seed, self.objects, tasks)

    def _objects(self):
        rng = self.rng
        return {"L0": None, "E0": None, "C0": None, "S0": rng.randint(1, 2),
                "Q0": rng.randint(0, 2)}

    def _children(self, most):
        """Names for up to `most` new tasks (fewer when the scenario is full)."""
        count = min(self.rng.randint(1, most), self.ntasks - self.next_child)
        names = [f"T{self.next_child + i}" for i in range(max(count, 0))]
        self.next_child += len(names)
        return names

    def _later_task(self):
        """A task after this one: awaits go from lower to higher names only, so no
        task ever waits (through a chain of awaits) on itself, where a cancel would
        recurse along the cycle forever (RecursionError in CPython)."""
        first = self.current + 1
        if first < self.next_child and self.rng.random() < 0.8:  # one that will exist
            return f"T{self.rng.randint(first, self.next_child - 1)}"
        return f"T{self.rng.randint(first, max(first, self.ntasks - 1))}"

    def _any_task(self):
        """Any task but the one whose body this is (a task cannot await itself)."""
        index = self.rng.randint(0, self.ntasks - 2)
        return f"T{index + (index >= self.current)}"

    def _body(self, depth, in_group, most=4):
        least = 3 if most > 5 else 1
        return [self._op(depth, in_group) for _ in range(self.rng.randint(least, most))]

    def _op(self, depth, in_group):
        rng = self.rng
        kinds = ["spawn", "spawn", "sleep", "sleep", "sleep", "cancel", "cancel", "later",
                 "later", "await", "await", "gather", "wait_for", "shield", "wait",
                 "uncancel", "raise", "return", "ewait", "eset", "eclear", "put", "get",
                 "put_nowait", "get_nowait"]
        if depth < MAX_DEPTH:
            kinds += ["try", "try", "timeout", "taskgroup", "with"]
        if self.holding == "C0":  # Condition.wait and notify need the lock held
            kinds += ["cwait", "cwait", "cwait", "notify", "notify_all"]
        kind = rng.choice(kinds)
        if kind in ("raise", "return") and rng.random() < 0.5:
            kind = rng.choice(kinds)  # both end the body: a little rarer
        return getattr(self, "_op_" + kind, self._op_simple)(kind, depth, in_group)

    def _op_simple(self, kind, depth, in_group):
        rng = self.rng
        if kind in ("spawn", "shield"):
            children = self._children(1)
            if not children:
                return Op("sleep", [rng.choice(DELAYS)])
            return Op(kind, children)
        args = {
            "sleep": lambda: [rng.choice(DELAYS)],
            "cancel": lambda: [self._any_task()] + self._message(),
            "later": lambda: [rng.choice(DELAYS[1:]), self._any_task()] + self._message(),
            "await": lambda: [self._later_task()],
            "raise": lambda: [f"e{rng.randint(0, 9)}"],
            "return": lambda: [str(rng.randint(10, 99))],
            "ewait": lambda: ["E0"], "eset": lambda: ["E0"], "eclear": lambda: ["E0"],
            "put": lambda: ["Q0", str(rng.randint(1, 9))], "get": lambda: ["Q0"],
            "put_nowait": lambda: ["Q0", str(rng.randint(1, 9))], "get_nowait": lambda: ["Q0"],
            "uncancel": lambda: [],
            "cwait": lambda: ["C0"], "notify": lambda: ["C0", str(rng.randint(1, 2))],
            "notify_all": lambda: ["C0"],
        }[kind]()
        return Op(kind, args)

    def _message(self):
        return [f"m{self.rng.randint(0, 9)}"] if self.rng.random() < 0.6 else []

    def _op_gather(self, kind, depth, in_group):
        children = self._children(3)
        if not children:
            return Op("sleep", ["0"])
        return Op("gather", [self.rng.choice(("rx", "norx"))] + children)

    def _op_wait(self, kind, depth, in_group):
        children = self._children(3)
        if not children:
            return Op("sleep", ["0"])
        timeout = self.rng.choice(("none",) + TIMEOUTS[1:])
        return Op("wait", [self.rng.choice(RETURN_WHEN), timeout] + children)

    def _op_wait_for(self, kind, depth, in_group):
        children = self._children(1)
        if not children:
            return Op("sleep", ["1"])
        # A coroutine runs inline, in this task: never while this task holds a lock,
        # which the coroutine's body might ask for again (see _op_with).
        if self.rng.random() < 0.3 and not self.holding:
            return Op("wait_for_coro", [self.rng.choice(TIMEOUTS[1:])] + children)
        return Op("wait_for", [self.rng.choice(TIMEOUTS)] + children)

    def _op_try(self, kind, depth, in_group):
        how = self.rng.choice(("catch", "catch", "rethrow", "finally"))
        return Op("try", [how], self._body(depth + 1, in_group))

    def _op_timeout(self, kind, depth, in_group):
        return Op("timeout", [self.rng.choice(TIMEOUTS)], self._body(depth + 1, in_group))

    def _op_taskgroup(self, kind, depth, in_group):
        return Op("taskgroup", [], self._body(depth + 1, in_group=True))

    def _op_with(self, kind, depth, in_group):
        # Never inside a `with` of the same task: a task waiting for a lock it holds
        # hangs in asyncio and is refused here (a documented difference).
        if self.holding:
            return Op("sleep", ["0.5"])
        self.holding = self.rng.choice(("L0", "S0", "C0", "C0"))
        body = self._body(depth + 1, in_group)
        held, self.holding = self.holding, None
        return Op("with", [held], body)


def generate(seed):
    return Generator(seed).scenario()
