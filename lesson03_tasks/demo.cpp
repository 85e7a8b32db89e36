// demo.cpp - lesson 3's tour: the tutorials' task examples, ported, one part each.
//
//  1. gather twenty coroutines that sleep one second each (tutorial 003): 1.00 s in
//     all, because all twenty sleep at the same time.
//  2. Task.done() before and after an await (tutorial 004's "Task state").
//  3. A long job cancelled after two seconds (tutorials 000 and 004): CancelledError
//     appears at the job's co_await, the job cleans up and re-raises, and main catches
//     it when it awaits the task.
//  4. wait_for: a slow operation becomes a TimeoutError (tutorials 000 and 004).
//  5. gather(return_exceptions=True): a failure comes back as a value (demo_errors.cpp).
//  6. wait(return_when=FIRST_EXCEPTION): done and pending tasks (demo_errors.cpp).
//  7. TaskGroup and `except*`: the C++ form of catching an ExceptionGroup and handling
//     its members by type (demo_errors.cpp).
//  8. run_in_executor and to_thread: blocking calls in a thread while a ticker goes on
//     ticking (demo_threads.cpp).
// Each part is one aio::run (a fresh loop, as each tutorial program calls asyncio.run),
// and prints times from its own start. Time is virtual (instant, exact) unless you run
// it with AIO_CLOCK=monotonic; part 8 waits for real threads, so its times are real.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "lesson01_loop/builtins.hpp"
#include "lesson02_coroutines/sleep.hpp"
#include "lesson03_tasks/demo.hpp"
#include "lesson03_tasks/gather.hpp"
#include "lesson03_tasks/runners.hpp"
#include "lesson03_tasks/tasks.hpp"
#include "lesson03_tasks/timeouts.hpp"

namespace {

double part_start = 0;  // the running part's loop time at its start

using demo::at;
using demo::now;

// "iteration N:", the loop's iteration number (lesson 1's iterations()).
std::string iteration() {
    return "iteration " + std::to_string(aio::get_running_loop().iterations()) + ":";
}

// ---- 1. gather twenty coroutines (tutorial 003) ---------------------------------------

int asleep = 0;       // coroutines inside their sleep right now
int most_asleep = 0;  // the most there ever were at once

aio::Coro<void> my_coroutine(double seconds) {
    ++asleep;
    most_asleep = std::max(most_asleep, asleep);
    co_await aio::sleep(seconds);
    --asleep;
}

aio::Coro<void> gather_twenty() {
    std::vector<aio::Coro<void>> coros;
    for (int i = 0; i < 20; ++i) coros.push_back(my_coroutine(1));
    co_await aio::gather(std::move(coros));  // asyncio.gather(*coro_list)
    aio::print("  asleep at the same time:", most_asleep, "of 20");
    std::printf("  processing time: %.2f\n", now());
}

// ---- 2. Task.done() (tutorial 004) ------------------------------------------------------

aio::Coro<std::string> long_task(std::string name) {
    aio::print(at(), name, "starts");
    co_await aio::sleep(2);
    aio::print(at(), name, "ends");
    co_return name + " result";
}

aio::Coro<void> task_state() {
    aio::Task<std::string> task = aio::create_task(long_task("Task A"));
    aio::print(at(), "task done:", task.done());
    std::string result = co_await task;
    aio::print(at(), "task done:", task.done());
    aio::print(at(), "result:", result);
}

// ---- 3. cancel a task (tutorials 000 and 004) ---------------------------------------------

aio::Coro<void> long_job() {
    try {
        aio::print(at(), iteration(), "long_job works for 10 s");
        co_await aio::sleep(10);
    } catch (const aio::CancelledError& e) {
        aio::print(at(), iteration(), "long_job gets", aio::repr(e), "at its co_await");
        throw;  // let the task end cancelled
    }
}

aio::Coro<void> cancel_a_task() {
    aio::Task<void> task = aio::create_task(long_job(), "long_job");
    co_await aio::sleep(2);
    aio::print(at(), iteration(), "main calls task.cancel('main has waited long enough')");
    task.cancel("main has waited long enough");
    try {
        co_await task;
    } catch (const aio::CancelledError&) {
        aio::print(at(), iteration(), "main caught CancelledError:", task.repr());
    }
}

// ---- 4. wait_for (tutorials 000 and 004) ------------------------------------------------

aio::Coro<std::string> slow_operation() {
    try {
        co_await aio::sleep(10);
    } catch (const aio::CancelledError&) {
        aio::print(at(), "slow_operation: cancelled by wait_for");
        throw;
    }
    co_return "done";
}

aio::Coro<void> wait_for_timeout() {
    aio::print(at(), "main: waits at most 3 s for a 10-second operation");
    try {
        std::string result = co_await aio::wait_for(slow_operation(), 3);
        aio::print(at(), "main:", result);
    } catch (const aio::TimeoutError& e) {
        aio::print(at(), "main: the operation timed out:", aio::repr(e));
    }
}

// ---- running the parts ----------------------------------------------------------------

aio::Coro<void> from_zero(aio::Coro<void> (*body)()) {
    part_start = aio::get_running_loop().time();
    co_await body();
}

// Prints the heading and the watch line, then runs the part as asyncio.run(main()) would.
void part(const char* title, const char* watch, aio::Coro<void> (*body)()) {
    static int number = 0;
    std::printf("%d. %s\n  watch: %s\n", ++number, title, watch);
    aio::run(from_zero(body));
}

}  // namespace

double demo::now() { return aio::get_running_loop().time() - part_start; }

std::string demo::at() {
    char stamp[32];
    std::snprintf(stamp, sizeof stamp, "  [%.2f]", now());
    return stamp;
}

int main() {
    ::setenv("AIO_CLOCK", "virtual", /*overwrite=*/0);
    part("gather twenty coroutines (tutorial 003)",
         "all twenty sleep at the same time, so one-second sleeps take 1.00 s in all, not 20",
         gather_twenty);
    part("Task.done() before and after an await (tutorial 004)",
         "done() is False right after create_task (Task A has not even started: it starts "
         "when main first awaits) and True after `co_await task`, 2.00 s later",
         task_state);
    part("cancel a task mid-sleep (tutorials 000 and 004)",
         "the cancel at [2.00] is a request: long_job gets CancelledError, with cancel()'s "
         "message, one iteration later at its co_await; it re-raises, so main's co_await "
         "throws too",
         cancel_a_task);
    part("wait_for with a timeout (tutorials 000 and 004)",
         "at [3.00] wait_for cancels the operation and waits for it to finish before main "
         "gets TimeoutError",
         wait_for_timeout);
    part("gather(..., return_exceptions=True) (tutorial 004)",
         "B's ValueError does not stop the gather: it comes back in B's place, between A's "
         "and C's results, at [1.00], and the list prints as Python prints it",
         demo::gather_return_exceptions);
    part("wait(..., return_when=FIRST_EXCEPTION) (tutorial 004)",
         "wait returns at [2.00], when B fails, not at 3: A and B are done, C is pending; "
         "wait raises nothing and cancels nothing (main cancels C itself)",
         demo::wait_first_exception);
    part("TaskGroup and except* (tutorial 004)",
         "C's failure at [1.00] cancels D, still sleeping, and the group ends then with one "
         "ExceptionGroup; split<aio::ValueError>() is `except* ValueError`",
         demo::task_group_except_star);
    part("run_in_executor and to_thread (tutorial 004)",
         "ticks keep coming every 0.10 s while each blocking call sleeps 0.25 s in a "
         "thread: the loop is never blocked (real time here, so the number of ticks varies)",
         demo::blocking_call_in_a_thread);
    return 0;
}
