// test_futures.cpp - Future's state machine and done callbacks
// (asyncio: test_futures.py::test_result, test_cancel, test_callbacks_invoked_on_*,
// test_remove_done_callback, test_future_cancel_message_getter,
// test_future_exception_never_retrieved).
#include <doctest/doctest.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "../lesson01_loop/helpers.hpp"
#include "lesson01_loop/events.hpp"
#include "lesson01_loop/exceptions.hpp"
#include "lesson02_coroutines/futures.hpp"

TEST_SUITE("lesson02") {
    TEST_CASE("a pending future has no result: result() and exception() throw InvalidStateError") {
        auto loop = test::virtual_loop();
        aio::Future<int> f(*loop);
        CHECK_FALSE(f.done());
        CHECK_THROWS_WITH_AS(f.result(), "Result is not ready.", aio::InvalidStateError);
        CHECK_THROWS_WITH_AS(f.exception(), "Exception is not set.", aio::InvalidStateError);
    }

    TEST_CASE("set_result completes the future once; a second set throws InvalidStateError") {
        auto loop = test::virtual_loop();
        aio::Future<std::string> f(*loop);
        f.set_result("done");
        CHECK(f.done());
        CHECK_FALSE(f.cancelled());
        CHECK(f.result() == "done");
        CHECK(f.exception() == nullptr);
        CHECK_THROWS_AS(f.set_result("again"), aio::InvalidStateError);
        CHECK_THROWS_AS(f.set_exception(std::runtime_error("x")), aio::InvalidStateError);
        CHECK_FALSE(f.cancel());
        CHECK(f.result() == "done");
    }

    TEST_CASE("set_exception: result() rethrows it and exception() returns it") {
        auto loop = test::virtual_loop();
        aio::Future<int> f(*loop);
        f.set_exception(std::runtime_error("boom"));
        CHECK(f.done());
        CHECK_THROWS_WITH_AS(f.result(), "boom", std::runtime_error);
        CHECK(aio::describe_exception(f.exception()) == "std::runtime_error: boom");
        aio::Future<int> g(*loop);
        // Python: fut.set_exception(None) raises TypeError('invalid exception object').
        CHECK_THROWS_WITH_AS(g.set_exception(std::exception_ptr{}), "invalid exception object",
                             aio::TypeError);
        CHECK_FALSE(g.done());
    }

    TEST_CASE("cancel(msg): the message reaches the CancelledError; a done future refuses") {
        auto loop = test::virtual_loop();
        aio::Future<int> f(*loop);
        CHECK(f.cancel("stop now"));
        CHECK(f.cancelled());
        CHECK(f.done());
        CHECK_FALSE(f.cancel("again"));
        CHECK_THROWS_WITH_AS(f.result(), "stop now", aio::CancelledError);
        CHECK_THROWS_WITH_AS(f.exception(), "stop now", aio::CancelledError);
        CHECK_THROWS_AS(f.set_result(1), aio::InvalidStateError);
        aio::Future<void> g(*loop);
        g.cancel();
        CHECK_THROWS_WITH_AS(g.result(), "", aio::CancelledError);
    }

    TEST_CASE("done callbacks are scheduled with call_soon in registration order, never inline") {
        auto loop = test::virtual_loop();
        aio::Future<int> f(*loop);
        std::vector<std::string> trace;
        f.add_done_callback(
            [&](aio::Future<int>& d) { trace.push_back("cb1 " + std::to_string(d.result())); });
        f.add_done_callback([&](aio::Future<int>&) { trace.push_back("cb2"); });
        f.set_result(7);
        trace.push_back("after set_result");
        loop->run_once();
        CHECK(trace == std::vector<std::string>{"after set_result", "cb1 7", "cb2"});
    }

    TEST_CASE("a callback added to a done future still goes through call_soon") {
        auto loop = test::virtual_loop();
        aio::Future<int> f(*loop);
        f.set_exception(std::runtime_error("e"));
        bool ran = false;
        f.add_done_callback([&](aio::Future<int>& d) {
            ran = true;
            CHECK(d.exception() != nullptr);
        });
        CHECK_FALSE(ran);
        loop->run_once();
        CHECK(ran);
    }

    TEST_CASE("remove_done_callback removes a registration and says how many") {
        auto loop = test::virtual_loop();
        aio::Future<void> f(*loop);
        std::vector<int> trace;
        f.add_done_callback([&](aio::Future<void>&) { trace.push_back(1); });
        aio::CallbackId second =
            f.add_done_callback([&](aio::Future<void>&) { trace.push_back(2); });
        f.add_done_callback([&](aio::Future<void>&) { trace.push_back(3); });
        CHECK(f.remove_done_callback(second) == 1);
        CHECK(f.remove_done_callback(second) == 0);
        f.set_result();
        loop->run_once();
        CHECK(trace == std::vector<int>{1, 3});
    }

    TEST_CASE("a callback keeps its future alive until it has run") {
        auto loop = test::virtual_loop();
        int seen = 0;
        {
            aio::Future<int> f(*loop);
            f.add_done_callback([&](aio::Future<int>& d) { seen = d.result(); });
            f.set_result(5);
        }  // the last handle is gone; the scheduled callback still holds the state
        loop->run_once();
        CHECK(seen == 5);
    }

    TEST_CASE("Future() binds to the running loop, else the current one, else throws") {
        aio::set_event_loop(nullptr);
        CHECK_THROWS_WITH_AS(aio::Future<int>(), doctest::Contains("no current event loop"),
                             aio::RuntimeError);
        auto loop = test::virtual_loop();
        aio::EventLoop* bound = nullptr;
        loop->call_soon([&] { bound = &aio::Future<int>().get_loop(); });
        loop->run_once();
        CHECK(bound == loop.get());
        aio::set_event_loop(loop.get());
        CHECK(&aio::Future<int>().get_loop() == loop.get());
        aio::set_event_loop(nullptr);
    }

    TEST_CASE("an exception nobody retrieved is logged when the future is destroyed") {
        auto loop = test::virtual_loop();
        test::LogCapture log;
        {
            aio::Future<int> f(*loop);
            f.set_exception(std::runtime_error("lost"));
        }
        CHECK(log.contains("ERROR: Future exception was never retrieved"));
        CHECK(log.contains("std::runtime_error: lost"));
        log.lines.clear();
        {
            aio::Future<int> f(*loop);
            f.set_exception(std::runtime_error("seen"));
            CHECK(f.exception() != nullptr);
        }
        {
            aio::Future<int> f(*loop);
            f.cancel();
        }
        CHECK(log.lines.empty());
    }

    TEST_CASE("a future prints its state, its result and its exception as asyncio does") {
        auto loop = test::virtual_loop();
        aio::Future<int> f(*loop);
        CHECK(f.repr() == "<Future pending>");
        f.set_result(42);
        CHECK(f.repr() == "<Future finished result=42>");
        aio::Future<std::string> s(*loop);
        s.cancel("bye");
        CHECK(s.repr() == "<Future cancelled message='bye'>");
        aio::Future<int> e(*loop);
        e.set_exception(std::logic_error("bad"));
        CHECK(e.repr() == "<Future finished exception=std::logic_error('bad')>");
        (void)e.exception();
        // Python: repr(fut) with fut.set_exception(ValueError('bad')) / set_result('it')
        aio::Future<int> v(*loop);
        v.set_exception(aio::ValueError("bad"));
        CHECK(v.repr() == "<Future finished exception=ValueError('bad')>");
        (void)v.exception();
        aio::Future<std::string> t(*loop);
        t.set_result("it");
        CHECK(t.repr() == "<Future finished result='it'>");
    }
}
