// test_destroy_pending.cpp - "Task was destroyed but it is pending!" goes through
// call_exception_handler with the task itself, and is said once per task the program
// made, never for the tasks gather and run_until_complete made on their own
// (asyncio: Task.__del__ and _log_destroy_pending; checked against CPython 3.11 with
// tests/lesson03_tasks' Python counterparts quoted in each case).
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "helpers.hpp"
#include "lesson02_coroutines/futures.hpp"
#include "lesson03_tasks/gather.hpp"

namespace {

aio::Coro<void> wait_on(aio::Future<void> never) { co_await never; }

aio::Coro<void> await_gather(aio::Future<void> never) { co_await aio::gather(wait_on(never)); }

aio::Coro<void> stop_then_wait(aio::Future<void> never) {
    aio::get_running_loop().stop();
    co_await never;
}

struct Seen {
    std::string message;
    std::string name;
};

}  // namespace

TEST_SUITE("lesson03") {
    TEST_CASE("destroyed pending: a custom handler gets the message and the task object") {
        // loop.set_exception_handler(h); t = loop.create_task(stuck(), name="stuck");
        // loop.close(); del t  ->  h sees {'message': 'Task was destroyed but it is
        // pending!', 'task': t}, and t.get_name() == 'stuck'.
        auto loop = test::virtual_loop();
        std::vector<Seen> seen;
        loop->set_exception_handler([&](aio::EventLoop&, const aio::ExceptionContext& ctx) {
            const aio::Task<>* task = ctx.get<aio::Task<>>("task");
            seen.push_back({ctx.message, task ? task->get_name() : "no task"});
            CHECK(ctx.extra.size() == 1);
            CHECK_FALSE(ctx.exception);
        });
        aio::Future<void> never(*loop);
        aio::Task<void> t = aio::create_task(*loop, wait_on(never), "stuck");
        loop->run_once();
        loop->close();
        REQUIRE(seen.size() == 1);
        CHECK(seen[0].message == "Task was destroyed but it is pending!");
        CHECK(seen[0].name == "stuck");
    }

    TEST_CASE("destroyed pending: the default handler prints 'task: <Task pending ...>'") {
        auto loop = test::virtual_loop();
        test::LogCapture log;
        aio::Future<void> never(*loop);
        aio::Task<void> t = aio::create_task(*loop, wait_on(never), "stuck");
        loop->run_once();
        loop->close();
        REQUIRE(log.lines.size() == 1);
        CHECK(log.lines[0].rfind("ERROR: Task was destroyed but it is pending!\n"
                                 "task: <Task pending name='stuck' coro=wait_on()",
                                 0) == 0);
    }

    TEST_CASE("destroyed pending: a task awaiting gather is reported once, not its child") {
        // async def parent(): await asyncio.gather(child())
        // CPython 3.11: one "Task was destroyed but it is pending!", for parent only.
        auto loop = test::virtual_loop();
        test::LogCapture log;
        aio::Future<void> never(*loop);
        aio::Task<void> parent = aio::create_task(*loop, await_gather(never), "parent");
        loop->run_once();  // parent starts, gather makes the child
        loop->run_once();  // the child starts; both wait on `never`
        loop->close();
        REQUIRE(log.lines.size() == 1);
        CHECK(log.contains("name='parent'"));
    }

    TEST_CASE(
        "destroyed pending: run_until_complete's own task, stopped early, is never reported") {
        // loop.run_until_complete(main()) where main stops the loop: RuntimeError "Event
        // loop stopped before Future completed.", and loop.close() reports nothing.
        auto loop = test::virtual_loop();
        test::LogCapture log;
        aio::Future<void> never(*loop);
        CHECK_THROWS_WITH_AS(loop->run_until_complete(stop_then_wait(never)),
                             "Event loop stopped before Future completed.", aio::RuntimeError);
        loop->close();
        CHECK(log.lines.empty());
    }

    TEST_CASE("destroyed pending: a task the caller made and passed to run_until_complete is") {
        // asyncio: run_until_complete(task) did not make the task: it still logs.
        auto loop = test::virtual_loop();
        test::LogCapture log;
        aio::Future<void> never(*loop);
        aio::Task<void> t = aio::create_task(*loop, stop_then_wait(never), "mine");
        CHECK_THROWS_AS(loop->run_until_complete(t), aio::RuntimeError);
        loop->close();
        REQUIRE(log.lines.size() == 1);
        CHECK(log.contains("name='mine'"));
    }
}
