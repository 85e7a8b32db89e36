// test_traceback.cpp - an exception remembers the coroutine frames it left, and prints
// as Python's traceback module prints it (lesson 1's traceback.hpp, recorded by the
// promise's unhandled_exception); lesson 2's exceptions print as asyncio's.
#include <doctest/doctest.h>

#include <exception>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "helpers.hpp"
#include "lesson01_loop/builtins.hpp"
#include "lesson01_loop/exceptions.hpp"
#include "lesson01_loop/traceback.hpp"
#include "lesson02_coroutines/driver.hpp"
#include "lesson02_coroutines/exceptions.hpp"
#include "lesson02_coroutines/sleep.hpp"

namespace {

// The lines of the co_await each frame leaves from, as the test reads them.
int inner_line = 0;
int middle_line = 0;
int outer_line = 0;

aio::Coro<int> inner() {
    inner_line = __LINE__ + 1;
    co_await aio::sleep(0);
    throw aio::ValueError("bad");
}

aio::Coro<int> middle() {
    middle_line = __LINE__ + 1;
    int v = co_await inner();
    co_return v;
}

aio::Coro<int> outer() {
    outer_line = __LINE__ + 1;
    int v = co_await middle();
    co_return v;
}

// Throws before reaching any co_await: its frame shows the coroutine's definition.
aio::Coro<void> throws_at_once() {
    throw std::runtime_error("at once");
    co_return;
}

// Catches what middle() threw and throws it again: one exception, one traceback.
aio::Coro<int> rethrows() {
    try {
        co_return co_await middle();
    } catch (...) {
        throw;
    }
}

// The source line Python would print under a frame, if the file can be read from here.
std::string source(int line) {
    std::ifstream in(__FILE__);
    std::string text;
    for (int i = 0; i < line && std::getline(in, text);) ++i;
    if (!in) return "";
    return "    " + text.substr(text.find_first_not_of(' ')) + "\n";
}

std::string frame(int line, const char* name) {
    return std::string("  File \"") + __FILE__ + "\", line " + std::to_string(line) + ", in " +
           name + "\n" + source(line);
}

}  // namespace

TEST_SUITE("lesson02") {
    TEST_CASE("traceback: the frames an exception left, outermost first, each at its co_await") {
        std::exception_ptr error = test::error_of(outer());
        std::vector<aio::FrameSummary> frames = aio::extract_tb(error);
        CHECK(test::names(frames) == std::vector<std::string>{"outer", "middle", "inner"});
        REQUIRE(frames.size() == 3);
        CHECK(frames[0].location.line == outer_line);
        CHECK(frames[1].location.line == middle_line);
        CHECK(frames[2].location.line == inner_line);
        CHECK(std::string(frames[0].location.file) == __FILE__);
    }

    TEST_CASE("format_exception: Python's layout, from 'Traceback' to 'ValueError: bad'") {
        std::exception_ptr error = test::error_of(outer());
        CHECK(aio::format_exception(error) ==
              "Traceback (most recent call last):\n" + frame(outer_line, "outer") +
                  frame(middle_line, "middle") + frame(inner_line, "inner") + "ValueError: bad\n");
    }

    TEST_CASE(
        "traceback: caught and rethrown, an exception keeps one traceback; a new one "
        "starts its own") {
        std::exception_ptr error = test::error_of(rethrows());
        CHECK(test::names(aio::extract_tb(error)) ==
              std::vector<std::string>{"rethrows", "middle", "inner"});
        std::exception_ptr again = test::error_of(middle());
        CHECK(test::names(aio::extract_tb(again)) == std::vector<std::string>{"middle", "inner"});
        CHECK(test::names(aio::extract_tb(error)).size() == 3);  // the first is still there
        CHECK(aio::extract_tb(std::make_exception_ptr(aio::ValueError("never thrown"))).empty());
        CHECK(aio::format_exception(std::make_exception_ptr(aio::ValueError("x"))) ==
              "ValueError: x\n");  // Python: no frames, no "Traceback" line
        CHECK(aio::format_exception(nullptr).empty());
    }

    TEST_CASE("traceback: a coroutine that threw before any co_await shows its definition") {
        std::vector<aio::FrameSummary> frames = aio::extract_tb(test::error_of(throws_at_once()));
        REQUIRE(frames.size() == 1);
        CHECK(std::string(frames[0].name) == "throws_at_once");
        CHECK(frames[0].location.line > 0);
    }

    TEST_CASE("CancelledError, InvalidStateError, GeneratorExit print as asyncio's") {
        // repr(asyncio.CancelledError('x')), str(...), and a traceback's last line
        CHECK(aio::repr(aio::CancelledError("x")) == "CancelledError('x')");
        CHECK(aio::repr(aio::CancelledError()) == "CancelledError()");
        CHECK(aio::str(aio::CancelledError("x")) == "x");
        CHECK(aio::describe_exception(std::make_exception_ptr(aio::CancelledError("x"))) ==
              "asyncio.exceptions.CancelledError: x");
        CHECK(aio::describe_exception(std::make_exception_ptr(aio::CancelledError())) ==
              "asyncio.exceptions.CancelledError");
        CHECK(aio::repr(aio::InvalidStateError("Result is not ready.")) ==
              "InvalidStateError('Result is not ready.')");
        CHECK(aio::describe_exception(std::make_exception_ptr(aio::InvalidStateError("x"))) ==
              "asyncio.exceptions.InvalidStateError: x");
        CHECK(aio::repr(aio::GeneratorExit()) == "GeneratorExit()");
        CHECK(aio::str(aio::GeneratorExit()).empty());
    }
}
