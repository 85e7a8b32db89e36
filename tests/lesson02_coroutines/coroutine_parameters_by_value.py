#!/usr/bin/env python3
"""Pins lesson 2's rule that coroutine parameters are taken by value.

std::coroutine_traits<aio::Coro<T>, Args...> and <aio::AsyncGenerator<T>, Args...>
(coroutines.hpp, async_generators.hpp) reject a parameter that can bind to a temporary
or view one. Each case below is a tiny translation unit compiled with -fsyntax-only by
the build's own compiler: the REJECTED ones must fail with the static_assert's text and
the kind of parameter it names; the ACCEPTED ones (by value, pointer, non-const T&,
std::reference_wrapper, member and lambda coroutines) must compile cleanly.

usage: coroutine_parameters_by_value.py REPO_ROOT CXX [CXX-ARGS...]
"""

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

FLAGS = ["-std=c++20", "-fsyntax-only", "-Wall", "-Wextra", "-Wpedantic", "-Werror"]
PRELUDE = """\
#include <functional>
#include <initializer_list>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>
#include "lesson02_coroutines/async_generators.hpp"
#include "lesson02_coroutines/coroutines.hpp"
using aio::AsyncGenerator;
using aio::Coro;
"""
RULE = "take coroutine parameters by value: the coroutine runs after the call returns"
CONST_REF = "(a const T& parameter"
RVALUE_REF = "(a T&& parameter"
VIEW = "(a std::string_view, std::span or std::initializer_list parameter"

# name -> (source, the kind of parameter the error must name)
REJECTED = {
    # the tutorials' trap: the temporary string dies at the end of the statement
    "const std::string& (limited_task)": ("""
        Coro<void> limited_task(const std::string& name) { co_return; }
        void start(int i) { limited_task("Task " + std::to_string(i)).close(); }
        """, CONST_REF),
    "std::string&&": ("Coro<void> f(std::string&& s) { co_return; }", RVALUE_REF),
    "std::string_view": ("Coro<void> f(std::string_view s) { co_return; }", VIEW),
    "std::span": ("Coro<int> f(std::span<const int> s) { co_return 1; }", VIEW),
    "std::initializer_list": ("Coro<void> f(std::initializer_list<int> l) { co_return; }",
                              VIEW),
    "const int& first": ("Coro<void> f(const int& n) { co_return; }", CONST_REF),
    "const std::vector& first": ("Coro<void> f(const std::vector<int>& v) { co_return; }",
                                 CONST_REF),
    "const std::shared_ptr& first": (
        "Coro<void> f(const std::shared_ptr<int>& p) { co_return; }", CONST_REF),
    "const std::pair& first": ("Coro<void> f(const std::pair<int, int>& p) { co_return; }",
                               CONST_REF),
    "const std::string& second": ("Coro<void> f(int n, const std::string& s) { co_return; }",
                                  CONST_REF),
    "member, const std::string&": ("""
        struct Worker {
            Coro<void> run(const std::string& name) { co_return; }
        };""", CONST_REF),
    "lambda, std::string_view": ("""
        auto f = [](std::string_view s) -> Coro<void> { co_return; };""", VIEW),
    "AsyncGenerator, const std::string&": (
        "AsyncGenerator<int> g(const std::string& s) { co_yield 1; }", CONST_REF),
}

ACCEPTED = {
    "by value": """
        Coro<int> f(std::string s, int n, std::vector<int> v) { co_return n; }
        void start() { f("Task " + std::to_string(1), 2, {3}).close(); }""",
    "pointer": "Coro<void> f(const std::string* s, int* n) { co_return; }",
    "non-const T&": "Coro<void> f(std::string& s, std::vector<int>& v) { co_return; }",
    "std::reference_wrapper": """
        Coro<void> f(std::reference_wrapper<const std::string> s) { co_return; }""",
    "member coroutines": """
        struct Worker {
            std::string name;
            Coro<void> run(std::string job) { co_return; }
            Coro<int> peek(int n) const { co_return n; }
            Coro<void> consume() && { co_return; }
            AsyncGenerator<int> items() const { co_yield 1; }
            static Coro<void> helper(std::string& s) { co_return; }
        };""",
    "lambda coroutines": """
        void start() {
            int x = 1;
            auto plain = [](std::string s) -> Coro<void> { co_return; };
            auto capturing = [&x](int n) -> Coro<int> { co_return x + n; };
            auto moving = [x]() mutable -> Coro<int> { co_return ++x; };
            plain("a").close();
            capturing(1).close();
            moving().close();
        }""",
    "AsyncGenerator by value": "AsyncGenerator<int> g(std::vector<int> v) { co_yield 1; }",
}


def translation_unit(cases):
    """One source holding every case, each in its own namespace; and the range of
    lines (1-based, inclusive) each case occupies."""
    text, lines = PRELUDE, {}
    for number, (name, source) in enumerate(cases.items()):
        first = text.count("\n") + 1
        text += f"namespace case_{number} {{\n{source.strip()}\n}}\n"
        lines[name] = (first, text.count("\n"))
    return text, lines


def main() -> None:
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    root, cxx = sys.argv[1], sys.argv[2:]
    cmd = cxx + FLAGS + ["-Wno-unused-parameter", "-Wno-unused-variable", f"-I{root}",
                         "-x", "c++", "-o", os.devnull, "-"]

    def compile_source(text):
        proc = subprocess.run(cmd, input=text, capture_output=True, text=True, cwd=root)
        return proc.returncode, proc.stdout + proc.stderr

    def verdict(name, returncode, output):
        """None if the case behaved, else what was expected."""
        if name in ACCEPTED:
            return None if returncode == 0 else "a clean compile"
        kind = REJECTED[name][1]
        ok = returncode != 0 and RULE in output and kind in output
        return None if ok else f"an error naming {kind}"

    # Fast path, two compiles: every accepted case in one translation unit, every
    # rejected one in another (each with its own signature, so each instantiates its
    # own coroutine_traits and fails on its own). The rejected unit must report each
    # kind as many times as there are cases of it, and point at every case's lines.
    accepted_ok = compile_source(translation_unit(ACCEPTED)[0])[0] == 0
    text, lines = translation_unit({name: source for name, (source, _) in REJECTED.items()})
    returncode, output = compile_source(text)
    rejected_ok = returncode != 0 and all(
        output.count(RULE + " " + kind) == sum(k == kind for _, k in REJECTED.values())
        for kind in (CONST_REF, RVALUE_REF, VIEW))
    for first, last in lines.values():
        rejected_ok = rejected_ok and any(f"<stdin>:{n}:" in output
                                          for n in range(first, last + 1))
    total = len(ACCEPTED) + len(REJECTED)
    if accepted_ok and rejected_ok:
        for name in REJECTED:
            print(f"ok: {name} is rejected")
        for name in ACCEPTED:
            print(f"ok: {name} compiles")
        print(f"coroutine parameters by value: {total} cases, 0 failed")
        return

    # Something is off: compile each case alone, to say which one.
    cases = {name: source for name, (source, _) in REJECTED.items()}
    cases.update(ACCEPTED)
    failures = 0
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        results = pool.map(lambda item: (item[0], *compile_source(PRELUDE + item[1] + "\n")),
                           cases.items())
        for name, returncode, output in results:
            expected = verdict(name, returncode, output)
            print(f"{'FAILED' if expected else 'ok'}: {name}")
            if expected:
                failures += 1
                print(f"  expected {expected}; exit status {returncode}, compiler said:")
                print("  " + output.strip().replace("\n", "\n  ")[:4000])
    if not failures:  # each alone behaves, together they do not
        failures = 1
        print("FAILED: each case behaves alone, but not all in one translation unit")
    print(f"coroutine parameters by value: {total} cases, {failures} failed")
    sys.exit(1)


if __name__ == "__main__":
    main()
