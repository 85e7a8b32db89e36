// test_exceptions.cpp - lesson 3's errors, Outcome and Task print as Python prints them
// (exceptions.hpp, gather.hpp's Outcome, lesson 1's builtins.hpp and traceback.hpp).
// Every expected string is CPython 3.11's output for the Python in the comment.
#include <doctest/doctest.h>

#include <exception>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <typeinfo>
#include <vector>

#include "../lesson02_coroutines/helpers.hpp"
#include "helpers.hpp"
#include "lesson01_loop/builtins.hpp"
#include "lesson01_loop/exceptions.hpp"
#include "lesson01_loop/traceback.hpp"
#include "lesson02_coroutines/exceptions.hpp"
#include "lesson02_coroutines/sleep.hpp"
#include "lesson03_tasks/exceptions.hpp"
#include "lesson03_tasks/gather.hpp"
#include "lesson03_tasks/tasks.hpp"
#include "lesson03_tasks/timeouts.hpp"

namespace {

std::exception_ptr value_error(const char* message) {
    return std::make_exception_ptr(aio::ValueError(message));
}

// eg = ExceptionGroup('unhandled errors in a TaskGroup', [ValueError('bad'), TypeError('t')])
aio::ExceptionGroup two_errors() {
    return aio::ExceptionGroup("unhandled errors in a TaskGroup",
                               {value_error("bad"), std::make_exception_ptr(aio::TypeError("t"))});
}

aio::Coro<int> one() { co_return 1; }

aio::Coro<int> fails() {
    co_await aio::sleep(0);
    throw aio::ValueError("bad");
}

// print(await asyncio.gather(one(), fails(), return_exceptions=True))
aio::Coro<std::string> gathered() {
    std::vector<aio::Coro<int>> coros;
    coros.push_back(one());
    coros.push_back(fails());
    std::vector<aio::Outcome<int>> results =
        co_await aio::gather(aio::return_exceptions, std::move(coros));
    std::ostringstream captured;
    std::streambuf* old = std::cout.rdbuf(captured.rdbuf());
    aio::print(results);
    aio::print(results[1]);  // print(results[1]) is the message: bad
    std::cout.rdbuf(old);
    co_return captured.str();
}

aio::Coro<void> sleeps() { co_await aio::sleep(10); }

aio::Coro<void> times_out() { co_await aio::wait_for(sleeps(), 1); }

aio::Coro<void> awaits_failing_task() {
    aio::Task<int> t = aio::create_task(fails());
    co_await t;
}

}  // namespace

TEST_SUITE("lesson03") {
    TEST_CASE("TimeoutError: empty message, repr TimeoutError(), last line TimeoutError") {
        CHECK(aio::repr(aio::TimeoutError()) == "TimeoutError()");  // repr(TimeoutError())
        CHECK(aio::str(aio::TimeoutError()).empty());               // str(TimeoutError())
        CHECK(aio::describe_exception(std::make_exception_ptr(aio::TimeoutError())) ==
              "TimeoutError");
        CHECK(aio::repr(aio::TimeoutError("slow")) == "TimeoutError('slow')");
        CHECK_FALSE(aio::TimeoutError().cause());
    }

    TEST_CASE("ExceptionGroup: repr lists its members, str counts them, as Python") {
        // repr(eg) / str(eg) / repr([eg])
        CHECK(aio::repr(two_errors()) ==
              "ExceptionGroup('unhandled errors in a TaskGroup', [ValueError('bad'), "
              "TypeError('t')])");
        CHECK(aio::str(two_errors()) == "unhandled errors in a TaskGroup (2 sub-exceptions)");
        std::vector<std::exception_ptr> list{std::make_exception_ptr(two_errors())};
        CHECK(aio::repr(list) ==
              "[ExceptionGroup('unhandled errors in a TaskGroup', [ValueError('bad'), "
              "TypeError('t')])]");
        // ExceptionGroup('m', [ExceptionGroup('n', [ValueError(1)])])
        aio::ExceptionGroup nested(
            "m", {std::make_exception_ptr(aio::ExceptionGroup("n", {value_error("1")}))});
        CHECK(aio::repr(nested) == "ExceptionGroup('m', [ExceptionGroup('n', [ValueError('1')])])");
        CHECK(aio::describe_exception(std::make_exception_ptr(nested)) ==
              "ExceptionGroup: m (1 sub-exception)");
    }

    TEST_CASE("ExceptionGroup: an empty list or a null member is Python's ValueError") {
        CHECK_THROWS_WITH_AS(aio::ExceptionGroup("m", {}),
                             "second argument (exceptions) must be a non-empty sequence",
                             aio::ValueError);
        CHECK_THROWS_WITH_AS(aio::ExceptionGroup("m", {value_error("x"), nullptr}),
                             "Item 1 of second argument (exceptions) is not an exception",
                             aio::ValueError);
    }

    TEST_CASE("format_exception: a group prints boxed, nested groups inside, as Python") {
        // traceback.format_exception(ExceptionGroup('outer', [ValueError('a'),
        //                            ExceptionGroup('inner', [TypeError('b')])]))
        aio::ExceptionGroup eg(
            "outer",
            {value_error("a"), std::make_exception_ptr(aio::ExceptionGroup(
                                   "inner", {std::make_exception_ptr(aio::TypeError("b"))}))});
        CHECK(aio::format_exception(std::make_exception_ptr(eg)) ==
              "  | ExceptionGroup: outer (2 sub-exceptions)\n"
              "  +-+---------------- 1 ----------------\n"
              "    | ValueError: a\n"
              "    +---------------- 2 ----------------\n"
              "    | ExceptionGroup: inner (1 sub-exception)\n"
              "    +-+---------------- 1 ----------------\n"
              "      | TypeError: b\n"
              "      +------------------------------------\n");
    }

    TEST_CASE("format_exception: past 15 members a group says how many more") {
        std::vector<std::exception_ptr> many;
        for (int i = 0; i < 17; ++i) many.push_back(value_error(std::to_string(i).c_str()));
        std::string text =
            aio::format_exception(std::make_exception_ptr(aio::ExceptionGroup("many", many)));
        CHECK(text.find("    | ValueError: 14\n"
                        "    +---------------- ... ----------------\n"
                        "    | and 2 more exceptions\n"
                        "    +------------------------------------\n") != std::string::npos);
        CHECK(text.find("ValueError: 15") == std::string::npos);
    }

    TEST_CASE("format_exception: TimeoutError from CancelledError prints the cause first") {
        aio::TimeoutError e("", std::make_exception_ptr(aio::CancelledError()));
        CHECK(aio::format_exception(std::make_exception_ptr(e)) ==
              "asyncio.exceptions.CancelledError\n\nThe above exception was the direct cause of "
              "the following exception:\n\nTimeoutError\n");
    }

    TEST_CASE(
        "wait_for: the TimeoutError is exactly a TimeoutError, its cause the "
        "CancelledError, each with the frames it left") {
        std::exception_ptr error = test::error_of(times_out());
        REQUIRE(error);
        try {
            std::rethrow_exception(error);
        } catch (const aio::TimeoutError& e) {
            CHECK(typeid(e) == typeid(aio::TimeoutError));
            CHECK(aio::is_cancelled_error(e.cause()));
            CHECK(test::names(aio::extract_tb(e.cause())) == std::vector<std::string>{"sleeps"});
        }
        std::vector<std::string> frames = test::names(aio::extract_tb(error));
        REQUIRE_FALSE(frames.empty());
        CHECK(frames.front() == "times_out");
        std::string text = aio::format_exception(error);
        CHECK(text.rfind("Traceback (most recent call last):\n", 0) == 0);
        CHECK(text.find("asyncio.exceptions.CancelledError\n\nThe above exception was the direct "
                        "cause of the following exception:\n\nTraceback") != std::string::npos);
        CHECK(text.substr(text.size() - 13) == "TimeoutError\n");
    }

    TEST_CASE("traceback: an exception keeps its frames across a task boundary") {
        std::exception_ptr error = test::error_of(awaits_failing_task());
        CHECK(test::names(aio::extract_tb(error)) ==
              std::vector<std::string>{"awaits_failing_task", "fails"});
    }

    TEST_CASE("Outcome: gather(return_exceptions) results print as Python's list") {
        auto loop = test::virtual_loop();
        // [1, ValueError('bad')], then bad
        CHECK(loop->run_until_complete(gathered()) == "[1, ValueError('bad')]\nbad\n");
        CHECK(aio::repr(aio::Outcome<void>::success()) == "None");
        CHECK(aio::repr(aio::Outcome<std::string>::success("x")) == "'x'");
        CHECK(aio::str(aio::Outcome<std::string>::success("x")) == "x");
        CHECK(aio::repr(aio::Outcome<void>::failure(value_error("v"))) == "ValueError('v')");
    }

    TEST_CASE("Task: aio::repr and aio::print give its repr(), in a list too") {
        auto loop = test::virtual_loop();
        aio::Task<int> t = aio::create_task(*loop, one(), "answer");
        CHECK(aio::repr(t) == t.repr());
        CHECK(aio::repr(std::vector<aio::Task<int>>{t}) == "[" + t.repr() + "]");
        CHECK(aio::str(t) == t.repr());
        CHECK(t.repr().rfind("<Task pending name='answer'", 0) == 0);
        loop->run_until_complete(t);
    }
}
