// demo.cpp - lesson 1's tour: the event loop alone, running plain callbacks.
//
// Five parts, each on a fresh loop (aio::new_event_loop()), so that in every part the
// iterations count from 1 and the clock from 0. A callback prints its line as it runs:
// the loop's time, the iteration that ran it, and what it is ("[0.10] iteration 2:
// ..."); a line with no iteration was printed before or after the loop ran.
//   1. call_soon: callbacks run in the order they were scheduled; one scheduled by a
//      callback runs in the next iteration, never in the one that scheduled it.
//   2. call_later / call_at: timers run in deadline order, whatever order they were
//      scheduled in; a cancelled timer never runs; call_later(0.3, stop) ends the run.
//   3. add_reader: a pipe's reader runs in the iteration after the timer that wrote.
//   4. run_forever / stop / close: stop() lets the iteration in progress finish.
//   5. call_soon_threadsafe: another thread wakes a loop that is waiting in select().
// Time is virtual (instant, exact) unless you run it with AIO_CLOCK=monotonic.
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>

#include "lesson01_loop/events.hpp"
#include "lesson01_loop/exceptions.hpp"

namespace {

double part_start = 0;  // the loop's time when the current part began

// A line from a callback: "[0.10] iteration 3: tick 1".
void say(const std::string& what) {
    aio::EventLoop& loop = aio::get_running_loop();  // asyncio: get_running_loop()
    std::printf("  [%.2f] iteration %llu: %s\n", loop.time() - part_start,
                static_cast<unsigned long long>(loop.iterations()), what.c_str());
}

// A line from outside the loop (before or after it runs): "[0.00] ...".
void note(aio::EventLoop& loop, const std::string& what) {
    std::printf("  [%.2f] %s\n", loop.time() - part_start, what.c_str());
}

// Prints the part's heading and what to watch for, and makes the part's own loop.
std::unique_ptr<aio::EventLoop> begin_part(int number, const char* title, const char* watch) {
    std::printf("\n%d. %s\n  watch: %s\n", number, title, watch);
    std::unique_ptr<aio::EventLoop> loop = aio::new_event_loop();
    part_start = loop->time();
    return loop;
}

// ---- 1. call_soon ---------------------------------------------------------------------

void after_hello() {
    say("scheduled by hello");
    aio::get_running_loop().stop();
}

void hello() {
    say("hello");
    aio::get_running_loop().call_soon(after_hello);  // queued for the next iteration
}

void part_call_soon() {
    auto loop = begin_part(1, "call_soon: a callback scheduled in iteration N runs in N+1",
                           "\"hello\" and \"world\" run in iteration 1, in the order they "
                           "were scheduled; \"hello\" schedules a third callback, which "
                           "runs in iteration 2");
    loop->call_soon(hello);
    std::string word = "world";
    loop->call_soon([word] { say(word); });  // Python: loop.call_soon(say, word)
    loop->run_forever();
}

// ---- 2. timers ------------------------------------------------------------------------

void part_timers() {
    auto loop = begin_part(2, "call_later and call_at: timers run in deadline order",
                           "scheduled as 3, 1, 2, the ticks run as 1, 2, 3, at 0.10, "
                           "0.20 and 0.30, one per iteration; the timer cancelled before "
                           "0.15 never runs; stop(), due at 0.30 too, runs after tick 3");
    aio::EventLoop* l = loop.get();
    loop->call_later(0.3, [] { say("tick 3"); });
    loop->call_later(0.1, [] { say("tick 1"); });
    loop->call_at(loop->time() + 0.2, [] { say("tick 2"); });
    aio::TimerHandle never = loop->call_later(0.15, [] { say("cancelled, never runs"); });
    never.cancel();
    loop->call_later(0.3, [l] {  // Python: loop.call_later(0.3, loop.stop)
        say("stop()");
        l->stop();
    });
    note(*loop, "scheduled tick 3, tick 1, tick 2 (call_at), one at 0.15 (cancelled), stop()");
    loop->run_forever();
}

// ---- 3. a pipe's reader ---------------------------------------------------------------

void part_reader() {
    auto loop = begin_part(3, "add_reader: the loop runs a reader when its pipe has data",
                           "each timer writes into the pipe in some iteration N; the "
                           "reader runs in iteration N+1, at the same time: an iteration "
                           "looks at the fds (phase 3) before it runs callbacks (phase 6)");
    int fds[2];
    if (::pipe(fds) != 0) std::exit(1);
    ::fcntl(fds[0], F_SETFL, O_NONBLOCK);
    struct Write {
        double when;
        const char* word;
    };
    for (Write w : {Write{0.1, "ping"}, Write{0.2, "pong"}}) {
        loop->call_later(w.when, [fd = fds[1], word = w.word] {
            bool ok = ::write(fd, word, 4) == 4;
            say(std::string(ok ? "timer wrote '" : "write failed: '") + word + "'");
        });
    }
    aio::EventLoop* l = loop.get();
    loop->add_reader(fds[0], [l, fd = fds[0]] {
        char buf[16];
        ssize_t n = ::read(fd, buf, sizeof buf);
        std::string got(buf, n > 0 ? static_cast<std::size_t>(n) : 0);
        say("reader got '" + got + "'");
        if (got != "pong") return;
        l->remove_reader(fd);
        l->stop();
    });
    note(*loop, "add_reader(pipe), timers to write 'ping' at 0.10 and 'pong' at 0.20");
    loop->run_forever();
    loop->close();
    ::close(fds[0]);
    ::close(fds[1]);
}

// ---- 4. run_forever, stop, close ------------------------------------------------------

void a_stops() {
    say("a: stop(), then call_soon(c)");
    aio::EventLoop& loop = aio::get_running_loop();
    loop.stop();
    loop.call_soon([] { say("c"); });
}

void part_stop() {
    auto loop = begin_part(4, "run_forever, stop, close: stop() lets the iteration finish",
                           "\"a\" calls stop() in iteration 1, yet \"b\", queued behind it, "
                           "still runs in iteration 1; \"c\", scheduled by \"a\", waits "
                           "for the next run_forever() and runs in iteration 2");
    loop->call_soon(a_stops);
    loop->call_soon([] { say("b"); });
    loop->run_forever();
    note(*loop, "run_forever() returned; stop() then run_forever(): one more iteration");
    loop->stop();
    loop->run_forever();
    loop->close();
    try {
        loop->call_soon([] {});
    } catch (const aio::RuntimeError& e) {
        note(*loop, std::string("call_soon after close(): RuntimeError: ") + e.what());
    }
}

// ---- 5. call_soon_threadsafe ----------------------------------------------------------

void part_threadsafe() {
    auto loop = begin_part(5, "call_soon_threadsafe: another thread wakes a waiting loop",
                           "with nothing to run, no timer and no fd, iteration 1 waits in "
                           "select(); the worker's call_soon_threadsafe wakes it, and the "
                           "callback runs in that same iteration 1");
    aio::EventLoop* l = loop.get();
    std::thread worker([l] {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        l->call_soon_threadsafe([l] {
            say("sent by the worker thread");
            l->stop();
        });
    });
    note(*loop, "run_forever() with nothing to do; a worker thread sends a callback in 0.1 s");
    loop->run_forever();
    worker.join();
}

}  // namespace

int main() {
    ::setenv("AIO_CLOCK", "virtual", /*overwrite=*/0);
    {
        auto loop = aio::new_event_loop();
        std::printf("selector: %s, clock: %s\n", loop->selector_name(), loop->clock().name());
    }
    part_call_soon();
    part_timers();
    part_reader();
    part_stop();
    part_threadsafe();
    return 0;
}
