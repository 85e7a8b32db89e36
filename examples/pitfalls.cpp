// pitfalls.cpp - tutorial 000's table of pitfalls, one small demonstration per row,
// ported line for line from pitfalls.py; both print pitfalls.expected. What the two
// write to stderr (warnings, log lines) is compared message by message (README.md).
//
//  1. run() where a loop already runs: RuntimeError, in asyncio's words.
//  2. A forgotten co_await: the coroutine never runs; destroying it logs "coroutine
//     'fetch_data' was never awaited".
//  3. A blocking call in a coroutine (time.sleep): the whole loop waits. Debug mode names
//     the step that held it ("Executing <Task ...> took 0.300 seconds"). The blocking is
//     simulated on the virtual clock (time_sleep below), so the run stays instant.
//  4. Too many tasks at once: a Semaphore bounds how many run together.
//  5. A resource not closed (a ClientSession): an exception skips the close() after it;
//     async_with (`async with`) closes it anyway.
// The clock is virtual unless AIO_CLOCK=monotonic.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "lesson01_loop/clocks.hpp"
#include "lesson02_coroutines/context_managers.hpp"
#include "lesson02_coroutines/sleep.hpp"
#include "lesson03_tasks/gather.hpp"
#include "lesson03_tasks/runners.hpp"
#include "lesson04_sync/locks.hpp"

namespace {

// ---- 1. run() inside a running loop ---------------------------------------------------

aio::Coro<int> nested() { co_return 1; }

aio::Coro<void> run_inside_run() {
    try {
        aio::run(nested());
    } catch (const aio::RuntimeError& e) {
        std::printf("1. asyncio.run() inside a running loop: RuntimeError: %s\n", e.what());
    }
    co_return;
}

// ---- 2. a forgotten co_await ------------------------------------------------------------

aio::Coro<std::string> fetch_data() {
    std::printf("   (never printed: nobody awaited fetch_data)\n");
    co_return "data";
}

aio::Coro<void> forget_await() {
    aio::Coro<std::string> result = fetch_data();  // no co_await: it never runs
    std::printf("2. forgetting await: got the coroutine %s(), not its result\n", result.name());
    co_return;
}

// ---- 3. blocking the loop ---------------------------------------------------------------

// Python's time.sleep: holds the thread, so the loop runs nothing else meanwhile. On the
// virtual clock the time passes without the wait.
void time_sleep(double seconds) {
    aio::Clock& clock = aio::get_running_loop().clock();
    if (auto* virtual_clock = dynamic_cast<aio::VirtualClock*>(&clock))
        virtual_clock->advance(seconds);
    else
        std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
}

aio::Coro<void> blocking_job() {
    time_sleep(0.3);  // holds the thread: no other task runs meanwhile
    co_return;
}

aio::Coro<void> polite_job() {
    co_await aio::sleep(0.3);  // gives the loop back while it waits
}

aio::Coro<double> two_side_by_side(aio::Coro<void> (*job)()) {
    aio::EventLoop& loop = aio::get_running_loop();
    double start = loop.time();
    co_await aio::gather(job(), job());
    co_return loop.time() - start;
}

aio::Coro<void> block_the_loop() {
    aio::EventLoop& loop = aio::get_running_loop();
    loop.set_debug(true);  // logs each step that holds the loop over 0.1 s
    double blocked = co_await two_side_by_side(blocking_job);
    loop.set_debug(false);
    double polite = co_await two_side_by_side(polite_job);
    std::printf("3. two blocking_job() gathered: %.1f s; two polite_job(): %.1f s\n", blocked,
                polite);
}

// ---- 4. too many tasks ------------------------------------------------------------------

int running = 0;  // jobs between their start and their end
int peak = 0;     // the most that ever ran together

aio::Coro<void> job() {
    running += 1;
    peak = std::max(peak, running);
    co_await aio::sleep(0.001);  // its I/O
    running -= 1;
}

aio::Coro<void> limited_job(aio::Semaphore& sem) {
    aio::SemaphoreGuard permit = co_await sem.guard();  // `async with sem:`
    co_await job();
}

aio::Coro<void> too_many_tasks() {
    peak = 0;
    std::vector<aio::Coro<void>> jobs;
    for (int i = 0; i < 1000; ++i) jobs.push_back(job());
    co_await aio::gather(std::move(jobs));
    int unlimited = peak;
    peak = 0;
    aio::Semaphore sem(10);
    std::vector<aio::Coro<void>> limited_jobs;
    for (int i = 0; i < 1000; ++i) limited_jobs.push_back(limited_job(sem));
    co_await aio::gather(std::move(limited_jobs));
    std::printf("4. 1000 jobs gathered: %d ran together; under Semaphore(10): %d\n", unlimited,
                peak);
}

// ---- 5. a resource left open ------------------------------------------------------------

class ConnectionResetError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

int open_sessions = 0;

// Stands in for aiohttp.ClientSession: open from creation until close().
class Session {
public:
    Session() { open_sessions += 1; }
    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;

    aio::Coro<void> aenter() { co_return; }
    aio::Coro<void> aexit(std::exception_ptr) { co_await close(); }

    aio::Coro<void> close() {
        open_sessions -= 1;
        co_return;
    }

    aio::Coro<void> get(std::string url) {
        co_await aio::sleep(0.01);
        throw ConnectionResetError(url + ": connection reset by peer");
    }
};

aio::Coro<void> leaky(std::string url) {
    Session session;
    co_await session.get(url);  // throws: the close() below never runs
    co_await session.close();
}

aio::Coro<void> tidy(std::string url) {
    co_await aio::async_with(Session(), [&](Session& session) -> aio::Coro<void> {
        co_await session.get(url);  // closed on the way out, even by an exception
    });
}

// How many sessions fetch leaves open when its request fails.
aio::Coro<int> left_open(aio::Coro<void> (*fetch)(std::string)) {
    open_sessions = 0;
    try {
        co_await fetch("https://example.com/");
    } catch (const ConnectionResetError&) {
    }
    co_return open_sessions;
}

aio::Coro<void> resources_left_open() {
    int leaked = co_await left_open(leaky);
    int kept = co_await left_open(tidy);
    std::printf("5. sessions left open by a failed get: leaky() %d, tidy() %d\n", leaked, kept);
}

aio::Coro<void> main_coroutine() {
    co_await run_inside_run();
    co_await forget_await();
    co_await block_the_loop();
    co_await too_many_tasks();
    co_await resources_left_open();
}

}  // namespace

int main() {
    ::setenv("AIO_CLOCK", "virtual", /*overwrite=*/0);
    aio::run(main_coroutine());
    return 0;
}
