// demo_errors.cpp - lesson 3's demo, parts 5 to 7: when a child fails. Tutorial 004's
// error-handling examples, ported: gather(return_exceptions=True) gives failures back as
// values, wait(return_when=FIRST_EXCEPTION) returns at the first failure with the
// tasks sorted into done and pending, and a TaskGroup gathers failures into one
// ExceptionGroup, which C++ handles by type with split<E>() where Python writes except*.
#include <optional>
#include <string>
#include <vector>

#include "lesson01_loop/builtins.hpp"
#include "lesson02_coroutines/sleep.hpp"
#include "lesson03_tasks/demo.hpp"
#include "lesson03_tasks/exceptions.hpp"
#include "lesson03_tasks/gather.hpp"
#include "lesson03_tasks/taskgroups.hpp"
#include "lesson03_tasks/tasks.hpp"
#include "lesson03_tasks/wait.hpp"

namespace {

using demo::at;

// Tutorial 004's task(name, delay, should_fail).
aio::Coro<std::string> task(std::string name, double delay, bool should_fail = false) {
    co_await aio::sleep(delay);
    if (should_fail) throw aio::ValueError(name + " failed");
    co_return name + " ok";
}

// A task that says when it is cancelled.
aio::Coro<std::string> slow_task(std::string name, double delay) {
    try {
        co_await aio::sleep(delay);
    } catch (const aio::CancelledError&) {
        aio::print(at(), name, "cancelled while sleeping");
        throw;
    }
    co_return name + " ok";
}

}  // namespace

// ---- 5. gather(..., return_exceptions=True) ------------------------------------------------

aio::Coro<void> demo::gather_return_exceptions() {
    aio::print(at(), "gather A, B (fails) and C, return_exceptions=True");
    auto results = co_await aio::gather(aio::return_exceptions, task("A", 1), task("B", 1, true),
                                        task("C", 1));
    aio::print(at(), "results:", results);  // print(results)
    for (const aio::Outcome<std::string>& result : results) {
        if (result.ok())
            aio::print(at(), "result:", result.value());
        else
            aio::print(at(), "error:", result.exception());  // str(e): the message
    }
}

// ---- 6. wait(..., return_when=FIRST_EXCEPTION) --------------------------------------------

aio::Coro<void> demo::wait_first_exception() {
    std::vector<aio::Task<std::string>> tasks;
    tasks.push_back(aio::create_task(task("A", 1), "A"));
    tasks.push_back(aio::create_task(task("B", 2, true), "B"));
    tasks.push_back(aio::create_task(task("C", 3), "C"));
    aio::print(at(), "wait for A (1 s), B (2 s, fails) and C (3 s)");
    auto [done, pending] = co_await aio::wait(tasks, std::nullopt, aio::FIRST_EXCEPTION);
    aio::print(at(), "done:", done.size(), "- pending:", pending.size());
    for (aio::Task<std::string>& t : done) {
        if (t.exception())
            aio::print(at(), "done:", t.get_name(), "raised", t.exception());
        else
            aio::print(at(), "done:", t.get_name(), "gave", t.result());
    }
    for (aio::Task<std::string>& t : pending) {
        aio::print(at(), "pending:", t.get_name(), "- main cancels it");
        t.cancel();
    }
    co_await aio::wait(pending);
    aio::print(at(), "C cancelled:", tasks[2].cancelled());
}

// ---- 7. TaskGroup and except* -------------------------------------------------------------

aio::Coro<void> demo::task_group_except_star() {
    aio::Task<std::string> a, b, d;
    aio::print(at(), "group: A, B, C (fails) sleep 1 s; D sleeps 3 s");
    try {
        co_await aio::task_group([&](aio::TaskGroup& tg) -> aio::Coro<void> {
            a = tg.create_task(task("A", 1));
            b = tg.create_task(task("B", 1));
            tg.create_task(task("C", 1, true));
            d = tg.create_task(slow_task("D", 3));
            co_return;
        });
    } catch (const aio::ExceptionGroup& eg) {
        // except* ValueError as eg: take the ValueErrors, let any other member go on.
        auto [value_errors, rest] = eg.split<aio::ValueError>();
        if (rest) throw *rest;
        aio::print(at(), "except* ValueError:", aio::repr(*value_errors));
    }
    aio::print(at(), "A gave", a.result(), "- B gave", b.result(), "- D cancelled:", d.cancelled());
}
