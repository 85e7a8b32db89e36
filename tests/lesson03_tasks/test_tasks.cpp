// test_tasks.cpp - Task: creation, names, results, current_task/all_tasks, reports
// (asyncio: test_tasks.py::test_task_repr*, test_create_task*, test_current_task*,
// test_log_destroyed_pending_task, test_task_awaits_on_itself).
#include <doctest/doctest.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "../lesson01_loop/helpers.hpp"
#include "lesson02_coroutines/sleep.hpp"
#include "lesson03_tasks/gather.hpp"
#include "lesson03_tasks/tasks.hpp"
#include "lesson03_tasks/timeouts.hpp"

namespace {

std::vector<std::string> trace;

aio::Coro<int> compute(int x, double delay) {
    co_await aio::sleep(delay);
    co_return x * 2;
}

aio::Coro<void> failing() {
    co_await aio::sleep(0);
    throw std::runtime_error("task failed");
}

// What a task on one loop sees when handed a task of another loop.
aio::Coro<std::vector<std::string>> use_foreign(aio::Task<int> theirs) {
    std::vector<std::string> errors;
    try {
        co_await aio::wait_for(theirs, 5);
    } catch (const aio::ValueError& e) {
        errors.push_back(std::string("wait_for: ValueError: ") + e.what());
    }
    try {
        co_await theirs;
    } catch (const aio::RuntimeError& e) {
        errors.push_back(std::string("await: RuntimeError: ") + e.what());
    }
    try {
        co_await aio::shield(theirs);
    } catch (const aio::RuntimeError& e) {
        errors.push_back(std::string("shield: RuntimeError: ") + e.what());
    }
    co_return errors;
}

aio::Coro<int> spawn_and_await() {
    aio::Task<int> a = aio::create_task(compute(1, 1));
    aio::Task<int> b = aio::create_task(compute(2, 2));
    int ra = co_await a;
    int rb = co_await b;
    co_return ra + rb;
}

aio::Coro<std::string> my_name() {
    co_await aio::sleep(0);
    co_return aio::current_task()->get_name();
}

aio::Coro<void> record_current(std::string label) {
    trace.push_back(label + (aio::current_task() ? " in a task" : " outside"));
    co_await aio::sleep(0);
    trace.push_back(label + " resumed as " + aio::current_task()->get_name());
}

aio::Task<void>* self_slot = nullptr;
aio::Coro<void> await_myself() { co_await *self_slot; }

aio::Coro<void> fire_and_forget(int i) {
    co_await aio::sleep(i);
    trace.push_back("finished " + std::to_string(i));
}

aio::Coro<void> spawn_without_keeping() {
    for (int i = 1; i <= 3; ++i) aio::create_task(fire_and_forget(i));
    co_await aio::sleep(10);
}

aio::Coro<void> wait_forever(aio::Future<void> f) { co_await f; }

// asyncio: a Task subclass made by a task factory (loop.set_task_factory).
class LabelledTask : public aio::TaskBase {
public:
    LabelledTask(aio::EventLoop& loop, aio::TaskCoro coro)
        : TaskBase(loop, coro.frame, coro.promise) {
        set_name(std::string("labelled ") + coro.name());
    }
};

}  // namespace

TEST_SUITE("lesson03") {
    TEST_CASE(
        "loop.set_task_factory: create_task and run_until_complete call factory(loop, coro)") {
        auto loop = test::virtual_loop();
        auto other = test::virtual_loop();
        std::vector<std::string> made;
        CHECK_FALSE(loop->get_task_factory());  // asyncio: None
        loop->set_task_factory([&made](aio::EventLoop& l, aio::TaskCoro coro) {
            made.push_back(coro.name());
            return aio::new_task(l, coro);
        });
        CHECK(loop->get_task_factory());
        aio::Task<int> t = aio::create_task(*loop, compute(1, 0), "named");
        CHECK(t.get_name() == "named");  // set after the factory, as asyncio does
        CHECK(loop->run_until_complete(t) == 2);
        CHECK(loop->run_until_complete(my_name()).rfind("Task-", 0) == 0);
        other->run_until_complete(my_name());  // another loop: its own (default) factory
        CHECK(made == std::vector<std::string>{"compute", "my_name"});
        loop->set_task_factory(nullptr);  // asyncio: set_task_factory(None)
        CHECK_FALSE(loop->get_task_factory());
        loop->run_until_complete(compute(1, 0));
        CHECK(made.size() == 2);
    }

    TEST_CASE("set_task_factory: a factory may make a TaskBase subclass; a wrong one is refused") {
        test::LogCapture log;
        auto loop = test::virtual_loop();
        aio::set_task_factory(*loop, [](aio::EventLoop& l, aio::TaskCoro coro) -> aio::TaskBase* {
            return new LabelledTask(l, coro);
        });
        CHECK(loop->run_until_complete(my_name()) == "labelled my_name");
        aio::set_task_factory(
            *loop, [](aio::EventLoop&, aio::TaskCoro) -> aio::TaskBase* { return nullptr; });
        CHECK_THROWS_WITH_AS(aio::create_task(*loop, compute(1, 0)),
                             "the task factory returned no task", aio::RuntimeError);
        CHECK(log.contains("coroutine 'compute' was never awaited"));
    }

    TEST_CASE("create_task runs a coroutine concurrently; awaiting the task gives its result") {
        auto loop = test::virtual_loop();
        CHECK(loop->run_until_complete(spawn_and_await()) == 6);
        CHECK(loop->time() == 2.0);  // the two ran at the same time
    }

    TEST_CASE("a task's first step runs in the next iteration; it is not done before") {
        auto loop = test::virtual_loop();
        aio::Task<int> t = aio::create_task(*loop, compute(5, 0));
        CHECK_FALSE(t.done());
        CHECK_THROWS_AS(t.result(), aio::InvalidStateError);
        while (!t.done()) loop->run_once();
        CHECK(t.result() == 10);
        CHECK(t.exception() == nullptr);
    }

    TEST_CASE("a failed task rethrows at the await and from result()") {
        auto loop = test::virtual_loop();
        aio::Task<void> t = aio::create_task(*loop, failing());
        CHECK_THROWS_WITH_AS(loop->run_until_complete(t), "task failed", std::runtime_error);
        CHECK(t.done());
        CHECK_THROWS_WITH_AS(t.result(), "task failed", std::runtime_error);
    }

    TEST_CASE(
        "default names are Task-N from one counter; set_name and create_task(name) override") {
        auto loop = test::virtual_loop();
        aio::Task<int> a = aio::create_task(*loop, compute(1, 0));
        aio::Task<int> b = aio::create_task(*loop, compute(1, 0));
        std::string na = a.get_name(), nb = b.get_name();
        REQUIRE(na.rfind("Task-", 0) == 0);
        CHECK(std::stoi(nb.substr(5)) == std::stoi(na.substr(5)) + 1);
        aio::Task<std::string> c = aio::create_task(*loop, my_name(), "fetcher");
        CHECK(loop->run_until_complete(c) == "fetcher");
        a.set_name("renamed");
        CHECK(a.get_name() == "renamed");
        loop->run_until_complete(b);
        CHECK(a.done());
    }

    TEST_CASE("a task prints its state, name, coroutine and the line it waits at") {
        auto loop = test::virtual_loop();
        aio::Task<int> t = aio::create_task(*loop, compute(3, 5), "worker");
        CHECK(t.repr() == "<Task pending name='worker' coro=compute()>");
        loop->run_once();
        CHECK(t.repr().rfind(
                  "<Task pending name='worker' coro=compute() waiting at test_tasks.cpp:", 0) == 0);
        loop->run_until_complete(t);
        CHECK(t.repr() == "<Task finished name='worker' coro=compute()>");
    }

    TEST_CASE("a task prints cancelling while a cancel request stands, as asyncio 3.11 does") {
        auto loop = test::virtual_loop();
        aio::Task<int> early = aio::create_task(*loop, compute(3, 5), "early");
        early.cancel();  // before its first step: no future to cancel, the request waits
        CHECK(early.repr() == "<Task cancelling name='early' coro=compute()>");
        aio::Task<int> t = aio::create_task(*loop, compute(3, 5), "worker");
        loop->run_once();
        CHECK(early.repr() == "<Task cancelled name='early' coro=compute()>");
        t.cancel();  // cancels the sleep it waits on; still pending until its next step
        CHECK(t.repr().rfind(
                  "<Task cancelling name='worker' coro=compute() waiting at test_tasks.cpp:", 0) ==
              0);
        t.uncancel();  // asyncio prints from cancelling(), not from the request's delivery
        CHECK(t.repr().rfind("<Task pending name='worker'", 0) == 0);
        loop->run_once();
        CHECK(t.repr() == "<Task cancelled name='worker' coro=compute()>");
    }

    TEST_CASE("a failed task prints its exception after its coroutine") {
        auto loop = test::virtual_loop();
        aio::Task<void> t = aio::create_task(*loop, failing(), "f");
        CHECK_THROWS_AS(loop->run_until_complete(t), std::runtime_error);
        std::string repr = t.repr();
        CHECK(repr.rfind("<Task finished name='f' coro=failing() exception=", 0) == 0);
        CHECK(repr.find("task failed") != std::string::npos);
    }

    TEST_CASE("current_task is the task whose step runs, and null outside any task") {
        auto loop = test::virtual_loop();
        trace.clear();
        CHECK(aio::current_task() == nullptr);
        aio::Task<void> t = aio::create_task(*loop, record_current("first"), "T1");
        aio::Task<void> u = aio::create_task(*loop, record_current("second"), "T2");
        loop->run_until_complete(u);
        CHECK(trace == std::vector<std::string>{"first in a task", "second in a task",
                                                "first resumed as T1", "second resumed as T2"});
        CHECK(aio::current_task() == nullptr);
    }

    TEST_CASE("all_tasks lists the tasks of a loop that are not done") {
        auto loop = test::virtual_loop();
        aio::Task<int> a = aio::create_task(*loop, compute(1, 1));
        aio::Task<int> b = aio::create_task(*loop, compute(1, 2));
        CHECK(aio::all_tasks(loop.get()).size() == 2);
        loop->run_until_complete(a);
        std::vector<aio::TaskBase*> left = aio::all_tasks(loop.get());
        REQUIRE(left.size() == 1);
        CHECK(left[0] == b.get());
        loop->run_until_complete(b);
        CHECK(aio::all_tasks(loop.get()).empty());
    }

    TEST_CASE("a task nobody keeps a handle to still runs to the end") {
        auto loop = test::virtual_loop();
        trace.clear();
        loop->run_until_complete(spawn_without_keeping());
        CHECK(trace == std::vector<std::string>{"finished 1", "finished 2", "finished 3"});
    }

    TEST_CASE("run_until_complete(coro) wraps the coroutine in a Task") {
        auto loop = test::virtual_loop();
        CHECK(loop->run_until_complete(my_name()).rfind("Task-", 0) == 0);
    }

    TEST_CASE("a task awaiting itself gets RuntimeError") {
        auto loop = test::virtual_loop();
        aio::Task<void> t;
        self_slot = &t;
        t = aio::create_task(*loop, await_myself());
        CHECK_THROWS_WITH_AS(loop->run_until_complete(t), "Task cannot await on itself",
                             aio::RuntimeError);
    }

    TEST_CASE("tasks refuse set_exception") {
        auto loop = test::virtual_loop();
        aio::Task<int> t = aio::create_task(*loop, compute(1, 0));
        CHECK_THROWS_AS(t.get()->set_exception(std::make_exception_ptr(std::runtime_error("x"))),
                        aio::RuntimeError);
        loop->run_until_complete(t);
    }

    TEST_CASE("'Task exception was never retrieved' when a failed task dies unread") {
        auto loop = test::virtual_loop();
        test::LogCapture log;
        {
            aio::Task<void> t = aio::create_task(*loop, failing(), "doomed");
            while (!t.done()) loop->run_once();
        }
        CHECK(log.contains("ERROR: Task exception was never retrieved"));
        CHECK(log.contains("name='doomed'"));
        CHECK(log.contains("std::runtime_error: task failed"));
    }

    TEST_CASE("'Task was destroyed but it is pending!' when a loop closes over a pending task") {
        auto loop = test::virtual_loop();
        test::LogCapture log;
        aio::Future<void> never(*loop);
        aio::Task<void> t = aio::create_task(*loop, wait_forever(never), "stuck");
        loop->run_once();
        loop->close();
        CHECK(log.contains("ERROR: Task was destroyed but it is pending!"));
        CHECK(log.contains("name='stuck'"));
    }

    TEST_CASE("a task of another loop is refused at once wherever it is handed in") {
        // Regression: loop.run_until_complete(task_of_another_loop) waited forever.
        auto loop = test::virtual_loop();
        auto other = test::virtual_loop();
        aio::Task<int> theirs = aio::create_task(*other, compute(1, 1));
        CHECK_THROWS_WITH_AS(
            loop->run_until_complete(theirs),
            "The future belongs to a different loop than the one specified as the loop argument",
            aio::ValueError);
        std::vector<std::string> errors = loop->run_until_complete(use_foreign(theirs));
        REQUIRE(errors.size() == 3);
        CHECK(errors[0] ==
              "wait_for: ValueError: The future belongs to a different loop than the one "
              "specified as the loop argument");
        CHECK(errors[1].find("await: RuntimeError: Task got Future <Task pending") == 0);
        CHECK(errors[1].find("attached to a different loop") != std::string::npos);
        CHECK(errors[2].find("shield: RuntimeError: Task got Future") == 0);
        CHECK(other->run_until_complete(theirs) == 2);  // untouched, still its loop's
    }
}

// One allocation per task: the task is made in the room in front of its coroutine's frame
// (lesson02_coroutines/frame_room.hpp).
TEST_SUITE("lesson03") {
    TEST_CASE("create_task: a task and its coroutine's frame are one pool block") {
        auto loop = test::virtual_loop();
        loop->run_until_complete(compute(1, 0));  // the loop's own lists and extensions made
        std::size_t before = aio::detail::pool_blocks_in_use();
        {
            aio::Task<int> t = aio::create_task(*loop, compute(21, 1));
            CHECK(aio::detail::pool_blocks_in_use() == before + 1);
            CHECK(loop->run_until_complete(t) == 42);  // it slept in between: no block either
            CHECK(aio::detail::pool_blocks_in_use() == before + 1);  // done; t holds it
        }
        CHECK(aio::detail::pool_blocks_in_use() == before);
    }

    TEST_CASE("set_task_factory: a factory's own task is a block of its own; both go back") {
        auto loop = test::virtual_loop();
        aio::set_task_factory(*loop, [](aio::EventLoop& l, aio::TaskCoro coro) -> aio::TaskBase* {
            return new LabelledTask(l, coro);
        });
        loop->run_until_complete(compute(1, 0));
        std::size_t before = aio::detail::pool_blocks_in_use();
        {
            aio::Task<int> t = aio::create_task(*loop, compute(2, 1));
            CHECK(aio::detail::pool_blocks_in_use() == before + 2);  // the frame, the task
            CHECK(t.get_name() == "labelled compute");
            CHECK(loop->run_until_complete(t) == 4);
        }
        CHECK(aio::detail::pool_blocks_in_use() == before);
    }
}
