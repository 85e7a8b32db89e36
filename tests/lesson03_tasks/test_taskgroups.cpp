// test_taskgroups.cpp - TaskGroup and ExceptionGroup, under the virtual clock
// (asyncio: test_taskgroups.py; parity rows 093-102; tutorial 004's TaskGroup example).
#include <doctest/doctest.h>

#include <cstdio>
#include <exception>
#include <stdexcept>
#include <string>
#include <vector>

#include "helpers.hpp"
#include "lesson02_coroutines/context_managers.hpp"
#include "lesson02_coroutines/sleep.hpp"
#include "lesson03_tasks/exceptions.hpp"
#include "lesson03_tasks/taskgroups.hpp"
#include "lesson03_tasks/tasks.hpp"

namespace {

std::vector<std::string> trace;

using test::now;

// "CancelledError", "ExceptionGroup(ZeroDivisionError, ExceptionGroup(ValueError))"...
std::string describe(const std::exception_ptr& error) {
    if (!error) return "returned";
    try {
        std::rethrow_exception(error);
    } catch (const aio::CancelledError&) {
        return "CancelledError";
    } catch (const aio::ExceptionGroup& eg) {
        std::string out = "ExceptionGroup(";
        for (const std::exception_ptr& e : eg.exceptions())
            out += describe(e) + (e == eg.exceptions().back() ? ")" : ", ");
        return out;
    } catch (const std::exception& e) {
        return e.what();
    }
}

aio::Coro<std::string> outcome(aio::Coro<void> work) {
    try {
        co_await std::move(work);
    } catch (...) {
        co_return describe(std::current_exception());
    }
    co_return "returned";
}

using test::await_task;

aio::Coro<int> value_after(double seconds, int value) {
    co_await aio::sleep(seconds);
    co_return value;
}

aio::Coro<void> fail_after(double seconds, std::string what) {
    co_await aio::sleep(seconds);
    throw std::runtime_error(what);
}

// Sleeps; says so when cancelled, and lets the CancelledError go on.
aio::Coro<void> traced_sleep(std::string who, double seconds) {
    try {
        co_await aio::sleep(seconds);
    } catch (const aio::CancelledError&) {
        trace.push_back(who + " cancelled at " + now());
        throw;
    }
}

// asyncio's `try: await sleep(10) finally: 1 / 0`.
aio::Coro<void> fail_when_cancelled(std::string what) {
    try {
        co_await aio::sleep(10);
    } catch (const aio::CancelledError&) {
        throw std::runtime_error(what);
    }
}

// Runs `runner` as a task, cancels it at t=1, and traces how it ended.
aio::Coro<void> cancel_at_1(aio::Coro<void> runner) {
    aio::Task<void> r = aio::create_task(std::move(runner));
    co_await aio::sleep(1);
    r.cancel();
    std::string how = co_await outcome(await_task(r));
    trace.push_back("runner: " + how + " at " + now() + (r.cancelled() ? ", cancelled" : ""));
}

// ---- rows 093, 094 --------------------------------------------------------------------

aio::Coro<void> two_children(aio::Task<int>& t1, aio::Task<int>& t2) {
    co_await aio::task_group([&](aio::TaskGroup& tg) -> aio::Coro<void> {
        t1 = tg.create_task(value_after(1, 42));
        t2 = tg.create_task(value_after(2, 11));
        co_return;
    });
    trace.push_back("group done at " + now());
}

aio::Coro<void> root(aio::TaskGroup& tg) {
    co_await aio::sleep(1);
    tg.create_task(value_after(1, 0));
    tg.create_task(value_after(2, 0));
    trace.push_back("root added two at " + now());
}

aio::Coro<void> children_added_later() {
    std::size_t n = 0;
    co_await aio::task_group([&](aio::TaskGroup& tg) -> aio::Coro<void> {
        tg.create_task(value_after(1, 42));
        co_await aio::sleep(1.5);
        tg.create_task(value_after(2, 11));  // added after a delay
        tg.create_task(root(tg));            // adds two more itself
        n = tg.size();
    });
    trace.push_back(std::to_string(n) + " running when the body ended; group done at " + now());
}

aio::Coro<void> finished_leave_at_once() {
    co_await aio::task_group([&](aio::TaskGroup& tg) -> aio::Coro<void> {
        for (int count = 0; count < 10; ++count) {
            co_await aio::sleep(1);
            tg.create_task(value_after(3, count));
            if (count == 5) trace.push_back("at count 5: " + tg.repr());
        }
        co_await aio::sleep(13.5);
        trace.push_back("at the end: " + tg.repr());
    });
}

aio::Coro<void> child_cancelled_alone(aio::Task<int>& t1, aio::Task<int>& t2) {
    co_await aio::task_group([&](aio::TaskGroup& tg) -> aio::Coro<void> {
        t1 = tg.create_task(value_after(10, 42));
        co_await aio::sleep(1.5);
        t1.cancel();
        t2 = tg.create_task(value_after(2, 11));
    });
    trace.push_back("group done at " + now());
}

// ---- rows 096, 097: failures and cancels ------------------------------------------------

// The parent catches the group's failure and goes on: its next await is not cancelled.
aio::Coro<void> first_failure_aborts() {
    std::string how = co_await outcome(aio::task_group([&](aio::TaskGroup& tg) -> aio::Coro<void> {
        for (int i = 0; i < 3; ++i) tg.create_task(fail_after(1, "ZeroDivisionError"));
        tg.create_task(traced_sleep("sibling", 5));
        co_await traced_sleep("body", 10);
        trace.push_back("not reached");
    }));
    trace.push_back(how + ", cancelling()=" + std::to_string(aio::current_task()->cancelling()));
    co_await traced_sleep("parent", 1);
    trace.push_back("parent went on until " + now());
}

aio::Coro<void> body_fails(bool after_await, aio::Task<int>& t1, aio::Task<int>& t2) {
    co_await aio::task_group([&](aio::TaskGroup& tg) -> aio::Coro<void> {
        t1 = tg.create_task(value_after(1, 42));
        t2 = tg.create_task(value_after(2, 11));
        if (after_await) co_await aio::sleep(0.5);
        throw std::runtime_error("body failed");
    });
}

aio::Coro<void> body_fails_in_cleanup() {
    co_await aio::task_group([&](aio::TaskGroup& tg) -> aio::Coro<void> {
        tg.create_task(fail_after(1, "ZeroDivisionError"));
        co_await fail_when_cancelled("MyExc");
    });
}

aio::Coro<void> five_sleepers(bool body_waits) {
    co_await aio::task_group([&](aio::TaskGroup& tg) -> aio::Coro<void> {
        for (int i = 0; i < 5; ++i) tg.create_task(traced_sleep("child " + std::to_string(i), 5));
        if (body_waits) co_await traced_sleep("body", 10);
    });
}

// Children fail while the group is cancelled from outside. The runner survives the
// ExceptionGroup, but the outer cancel is still delivered at its next await (3.13).
aio::Coro<void> fail_while_cancelled() {
    std::string how = co_await outcome(aio::task_group([&](aio::TaskGroup& tg) -> aio::Coro<void> {
        for (int i = 0; i < 3; ++i)
            tg.create_task(fail_when_cancelled("error " + std::to_string(i)));
        co_await aio::sleep(10);
    }));
    trace.push_back("group: " + how +
                    ", cancelling()=" + std::to_string(aio::current_task()->cancelling()));
    co_await traced_sleep("runner's next await", 1);
}

aio::Coro<void> convert_cancel() {
    co_await aio::task_group([&](aio::TaskGroup&) -> aio::Coro<void> {
        try {
            co_await aio::sleep(10);
        } catch (const aio::CancelledError&) {
            throw std::runtime_error("MyExc");  // "not a good idea, but we have to support it"
        }
    });
}

aio::Coro<void> slow_cleanup_body() {
    co_await aio::task_group([&](aio::TaskGroup& tg) -> aio::Coro<void> {
        tg.create_task(fail_after(3, "ZeroDivisionError"));
        std::exception_ptr error;
        try {
            co_await aio::sleep(10);
        } catch (...) {
            error = std::current_exception();
        }
        trace.push_back("body cleaning up at " + now());
        co_await traced_sleep("cleanup", 5);
        std::rethrow_exception(error);
    });
}

aio::Coro<void> slow_cleanup_in_a_task() {
    aio::Task<void> t = aio::create_task(slow_cleanup_body());
    co_await t;
}

// ---- row 099: nesting -----------------------------------------------------------------

aio::Coro<void> nested_cancelled() {
    co_await aio::task_group([&](aio::TaskGroup&) -> aio::Coro<void> {
        co_await aio::task_group([&](aio::TaskGroup& g2) -> aio::Coro<void> {
            for (int i = 0; i < 2; ++i) g2.create_task(fail_when_cancelled("ZeroDivisionError"));
            co_await aio::sleep(10);
        });
    });
}

aio::Coro<void> nested_crash(double outer_after, double inner_after) {
    co_await aio::task_group([&](aio::TaskGroup& g1) -> aio::Coro<void> {
        g1.create_task(fail_after(outer_after, "outer ValueError"));
        co_await aio::task_group([&](aio::TaskGroup& g2) -> aio::Coro<void> {
            g2.create_task(fail_after(inner_after, "inner ValueError"));
            co_return;
        });
    });
}

int nhydras = 0;
void spawn_hydra(aio::TaskGroup& tg);  // (a direct self-call upsets -Winfinite-recursion)

aio::Coro<void> hydra(aio::TaskGroup& tg) {
    ++nhydras;
    co_await aio::sleep(1);
    spawn_hydra(tg);
    spawn_hydra(tg);
}

void spawn_hydra(aio::TaskGroup& tg) { tg.create_task(hydra(tg)); }

aio::Coro<void> hercules() {
    while (nhydras < 10) co_await aio::sleep(1.5);
    throw std::runtime_error("ZeroDivisionError");
}

aio::Coro<void> hydras() {
    co_await aio::task_group([&](aio::TaskGroup& tg) -> aio::Coro<void> {
        spawn_hydra(tg);
        tg.create_task(hercules());
        co_return;
    });
}

// ---- rows 101, 102 and the rest ---------------------------------------------------------

aio::Coro<void> nap(double seconds) { co_await aio::sleep(seconds); }

std::string refusal(aio::TaskGroup& tg) {
    try {
        tg.create_task(nap(0));
    } catch (const aio::RuntimeError& e) {
        return e.what();
    }
    return "accepted";
}

aio::Coro<void> refusals() {
    aio::TaskGroup tg;
    trace.push_back(refusal(tg));
    co_await aio::async_with(tg, [&]() -> aio::Coro<void> {
        std::string r = co_await outcome(tg.aenter());
        trace.push_back(r);
        co_return;
    });
    trace.push_back(refusal(tg));
    trace.push_back(co_await outcome(tg.aenter()));
}

aio::Coro<void> refuse_while_aborting(aio::TaskGroup& tg) {
    std::string r = co_await outcome(nap(10));
    trace.push_back(r + ", then: " + refusal(tg));
}

aio::Coro<void> shutting_down() {
    std::string how = co_await outcome(aio::task_group([&](aio::TaskGroup& tg) -> aio::Coro<void> {
        tg.create_task(fail_after(1, "ZeroDivisionError"));
        tg.create_task(refuse_while_aborting(tg));
        co_return;
    }));
    trace.push_back(how);
}

// asyncio: test_taskgroup_context_manager_exit_raises (gh-95289): the body's cleanup
// raises instead of letting the group's CancelledError out.
aio::Coro<void> custom_error() {
    co_await aio::sleep(0);
    throw std::domain_error("CustomException");
}

aio::Coro<void> cleanup_raises() {
    try {
        co_await aio::task_group([&](aio::TaskGroup& tg) -> aio::Coro<void> {
            tg.create_task(custom_error());
            std::string r = co_await outcome(nap(1));
            trace.push_back("body: " + r);
            throw std::domain_error("CustomException");  // the database's finally
        });
    } catch (const aio::ExceptionGroup& eg) {
        auto [custom, rest] = eg.split<std::domain_error>();
        trace.push_back(std::to_string(custom ? custom->exceptions().size() : 0) +
                        " CustomException, rest " + (rest ? "non-empty" : "empty") +
                        ", cancelling()=" + std::to_string(aio::current_task()->cancelling()));
    }
}

// Tutorial 004: three tasks, C fails; `except* ValueError as eg`.
aio::Coro<std::string> named_task(std::string name) {
    co_await aio::sleep(1);
    if (name == "C") throw std::invalid_argument(name + " failed");
    co_return name + " done";
}

aio::Coro<void> tutorial() {
    aio::Task<std::string> a, b, c;
    try {
        co_await aio::task_group([&](aio::TaskGroup& tg) -> aio::Coro<void> {
            a = tg.create_task(named_task("A"));
            b = tg.create_task(named_task("B"));
            c = tg.create_task(named_task("C"));
            co_return;
        });
    } catch (const aio::ExceptionGroup& eg) {
        auto [value_errors, rest] = eg.split<std::invalid_argument>();
        if (rest) throw *rest;  // what except* re-raises
        trace.push_back("caught: " + describe(std::make_exception_ptr(*value_errors)));
    }
    trace.push_back(a.result() + ", " + b.result() + ", at " + now());
}

}  // namespace

TEST_SUITE("lesson03") {
    TEST_CASE("TaskGroup: exits only when every child is done; results stay in the tasks") {
        auto loop = test::virtual_loop();
        trace.clear();
        aio::Task<int> t1, t2;
        loop->run_until_complete(two_children(t1, t2));
        CHECK(trace == std::vector<std::string>{"group done at 2"});
        CHECK(t1.result() == 42);
        CHECK(t2.result() == 11);
    }

    TEST_CASE("TaskGroup: waits for children added later, by the body or by other children") {
        auto loop = test::virtual_loop();
        trace.clear();
        loop->run_until_complete(children_added_later());
        CHECK(trace ==
              std::vector<std::string>{"root added two at 2.5",
                                       "2 running when the body ended; group done at 4.5"});
    }

    TEST_CASE("TaskGroup: finished children leave the group at once") {
        auto loop = test::virtual_loop();
        trace.clear();
        loop->run_until_complete(finished_leave_at_once());
        // At t=6, jobs 0 and 1 have left; job 2 ends at 6 too but has not run its step yet.
        CHECK(trace == std::vector<std::string>{"at count 5: <TaskGroup tasks=4 entered>",
                                                "at the end: <TaskGroup entered>"});
    }

    TEST_CASE("TaskGroup: a child cancelled on its own does not affect the group") {
        auto loop = test::virtual_loop();
        trace.clear();
        aio::Task<int> t1, t2;
        loop->run_until_complete(child_cancelled_alone(t1, t2));
        CHECK(trace == std::vector<std::string>{"group done at 3.5"});
        CHECK(t1.cancelled());
        CHECK(t2.result() == 11);
    }

    TEST_CASE(
        "TaskGroup: the first failure cancels the siblings and the body; failures come "
        "out together in an ExceptionGroup") {
        auto loop = test::virtual_loop();
        trace.clear();
        loop->run_until_complete(first_failure_aborts());
        CHECK(trace ==
              std::vector<std::string>{"sibling cancelled at 1", "body cancelled at 1",
                                       "ExceptionGroup(ZeroDivisionError, ZeroDivisionError, "
                                       "ZeroDivisionError), cancelling()=0",
                                       "parent went on until 2"});
    }

    TEST_CASE(
        "TaskGroup: an exception in the body cancels the children and joins the group's "
        "errors") {
        for (bool after_await : {true, false}) {
            auto loop = test::virtual_loop();
            aio::Task<int> t1, t2;
            std::string how = loop->run_until_complete(outcome(body_fails(after_await, t1, t2)));
            CHECK(how == "ExceptionGroup(body failed)");
            CHECK(t1.cancelled());
            CHECK(t2.cancelled());
        }
        auto loop = test::virtual_loop();
        std::string how = loop->run_until_complete(outcome(body_fails_in_cleanup()));
        CHECK(how == "ExceptionGroup(ZeroDivisionError, MyExc)");
    }

    TEST_CASE(
        "TaskGroup: an external cancel cancels every child and comes out as "
        "CancelledError") {
        auto loop = test::virtual_loop();
        trace.clear();
        loop->run_until_complete(cancel_at_1(five_sleepers(false)));
        loop->run_until_complete(cancel_at_1(five_sleepers(true)));
        std::vector<std::string> expected;
        for (std::string t : {"1", "2"}) {
            if (t == "2") expected.push_back("body cancelled at 2");
            for (int i = 0; i < 5; ++i)
                expected.push_back("child " + std::to_string(i) + " cancelled at " + t);
            expected.push_back("runner: CancelledError at " + t + ", cancelled");
        }
        CHECK(trace == expected);
    }

    TEST_CASE(
        "TaskGroup with several failures and with an external cancel: the ExceptionGroup "
        "wins, and the outer cancel still reaches the parent's next await") {
        auto loop = test::virtual_loop();
        trace.clear();
        loop->run_until_complete(cancel_at_1(fail_while_cancelled()));
        CHECK(trace == std::vector<std::string>{
                           "group: ExceptionGroup(error 0, error 1, error 2), cancelling()=1",
                           "runner's next await cancelled at 1",
                           "runner: CancelledError at 1, "
                           "cancelled"});
    }

    TEST_CASE("ExceptionGroup: split() and contains() sort members by type, keeping nesting") {
        std::vector<std::exception_ptr> inner{std::make_exception_ptr(aio::TimeoutError("t2")),
                                              std::make_exception_ptr(std::logic_error("l"))};
        aio::ExceptionGroup eg("unhandled errors in a TaskGroup",
                               {std::make_exception_ptr(std::runtime_error("r")),
                                std::make_exception_ptr(aio::TimeoutError("t1")),
                                std::make_exception_ptr(aio::ExceptionGroup(
                                    "unhandled errors in a TaskGroup", inner))});
        CHECK(std::string(eg.what()) == "unhandled errors in a TaskGroup (3 sub-exceptions)");
        auto [timeouts, rest] = eg.split<aio::TimeoutError>();
        REQUIRE(timeouts);
        REQUIRE(rest);
        CHECK(describe(std::make_exception_ptr(*timeouts)) ==
              "ExceptionGroup(t1, ExceptionGroup(t2))");
        CHECK(describe(std::make_exception_ptr(*rest)) == "ExceptionGroup(r, ExceptionGroup(l))");
        CHECK(eg.contains<std::logic_error>());
        CHECK_FALSE(eg.contains<aio::CancelledError>());
        auto [all, none] = eg.split<std::exception>();
        CHECK(all->exceptions().size() == 3);
        CHECK_FALSE(none);
        CHECK(std::string(aio::ExceptionGroup("m", inner).what()) == "m (2 sub-exceptions)");
        CHECK(std::string(aio::ExceptionGroup("m", {inner[0]}).what()) == "m (1 sub-exception)");
        CHECK_THROWS_AS(aio::ExceptionGroup("m", {}), aio::ValueError);
    }

    TEST_CASE(
        "TaskGroup: nested groups nest their ExceptionGroups; an outer abort reaches "
        "the inner group's children") {
        auto loop = test::virtual_loop();
        trace.clear();
        loop->run_until_complete(cancel_at_1(nested_cancelled()));
        std::string inner_first = loop->run_until_complete(outcome(nested_crash(10, 1)));
        std::string outer_first = loop->run_until_complete(outcome(nested_crash(1, 10)));
        CHECK(trace ==
              std::vector<std::string>{"runner: ExceptionGroup(ExceptionGroup(ZeroDivisionError, "
                                       "ZeroDivisionError)) at 1"});
        CHECK(inner_first == "ExceptionGroup(ExceptionGroup(inner ValueError))");
        CHECK(outer_first == "ExceptionGroup(outer ValueError)");
    }

    TEST_CASE("TaskGroup: children adding children while the group aborts (hydras)") {
        auto loop = test::virtual_loop();
        nhydras = 0;
        CHECK(loop->run_until_complete(outcome(hydras())) == "ExceptionGroup(ZeroDivisionError)");
        CHECK(nhydras >= 10);
        CHECK(aio::all_tasks(loop.get()).empty());
    }

    TEST_CASE(
        "TaskGroup: a body that turns CancelledError into another error gives an "
        "ExceptionGroup of it") {
        auto loop = test::virtual_loop();
        trace.clear();
        loop->run_until_complete(cancel_at_1(convert_cancel()));
        CHECK(trace == std::vector<std::string>{"runner: ExceptionGroup(MyExc) at 1"});
    }

    TEST_CASE(
        "TaskGroup: slow cleanup in a cancelled body is awaited until the group's own "
        "abort interrupts it") {
        auto loop = test::virtual_loop();
        trace.clear();
        loop->run_until_complete(cancel_at_1(slow_cleanup_body()));
        loop->run_until_complete(cancel_at_1(slow_cleanup_in_a_task()));
        std::vector<std::string> once{"body cleaning up at 1", "cleanup cancelled at 3",
                                      "runner: ExceptionGroup(ZeroDivisionError) at 3"};
        std::vector<std::string> twice{"body cleaning up at 4", "cleanup cancelled at 6",
                                       "runner: ExceptionGroup(ZeroDivisionError) at 6"};
        once.insert(once.end(), twice.begin(), twice.end());
        CHECK(trace == once);
    }

    TEST_CASE(
        "TaskGroup: create_task refuses before entry, after exit and while aborting, "
        "closing the coroutine; a group enters once, only inside a task") {
        auto loop = test::virtual_loop();
        test::LogCapture logs;
        trace.clear();
        aio::TaskGroup outside;
        CHECK_THROWS_WITH_AS(outside.enter(),
                             "TaskGroup <TaskGroup> cannot determine the parent task",
                             aio::RuntimeError);
        loop->run_until_complete(refusals());
        loop->run_until_complete(shutting_down());
        CHECK(trace == std::vector<std::string>{
                           "TaskGroup <TaskGroup> has not been entered",
                           "TaskGroup <TaskGroup entered> has already been entered",
                           "TaskGroup <TaskGroup entered> is finished",
                           "TaskGroup <TaskGroup entered> has already been entered",
                           "CancelledError, then: TaskGroup <TaskGroup tasks=1 errors=1 "
                           "cancelling> is shutting down",
                           "ExceptionGroup(ZeroDivisionError)"});
        CHECK(logs.lines.empty());  // the refused coroutines were closed, not leaked
    }

    TEST_CASE(
        "TaskGroup: a parent whose body raised while the group cancelled it is left "
        "with cancelling() == 0") {
        auto loop = test::virtual_loop();
        trace.clear();
        loop->run_until_complete(cleanup_raises());
        CHECK(trace == std::vector<std::string>{"body: CancelledError",
                                                "2 CustomException, rest empty, cancelling()=0"});
    }

    TEST_CASE("tutorial 004: a TaskGroup of three tasks, C fails; split() plays except*") {
        auto loop = test::virtual_loop();
        trace.clear();
        loop->run_until_complete(tutorial());
        CHECK(trace ==
              std::vector<std::string>{"caught: ExceptionGroup(C failed)", "A done, B done, at 1"});
    }
}
