// demo.cpp - lesson 1's tour: callbacks, timers and a pipe reader interleaving.
//
// The loop is turned by hand, one run_once() at a time, and after each turn we print
// one line: the iteration, the loop's time, and what ran. Watch for three things:
//   - a callback scheduled during an iteration runs in the next one, never the same;
//   - timers run when their time comes, in deadline order;
//   - the pipe's reader runs in the iteration after a timer writes into the pipe.
// Time is virtual (instant, exact) unless you run it with AIO_CLOCK=monotonic.
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "lesson01_loop/events.hpp"

namespace {

std::vector<std::string> ran;  // what ran during the current iteration

void note(std::string what) { ran.push_back(std::move(what)); }

void print_iteration(aio::EventLoop& loop) {
    std::string line;
    for (const std::string& what : ran) line += (line.empty() ? "" : ", ") + what;
    std::printf("iteration %2llu  t=%.3f  %s\n", static_cast<unsigned long long>(loop.iterations()),
                loop.time(), line.empty() ? "(nothing ran)" : line.c_str());
    ran.clear();
}

}  // namespace

int main() {
    ::setenv("AIO_CLOCK", "virtual", /*overwrite=*/0);
    std::unique_ptr<aio::EventLoop> loop = aio::new_event_loop();
    std::printf("selector: %s, clock: %s\n", loop->selector_name(), loop->clock().name());

    int pipe_fds[2];
    if (::pipe(pipe_fds) != 0) return 1;
    ::fcntl(pipe_fds[0], F_SETFL, O_NONBLOCK);

    // Two callbacks for the first iteration; the first schedules a third for the next.
    loop->call_soon([&] {
        note("hello");
        loop->call_soon([] { note("scheduled by hello"); });
    });
    loop->call_soon([] { note("world"); });

    // A timer every 0.1 s, three times.
    for (int i = 1; i <= 3; ++i)
        loop->call_later(0.1 * i, [i] { note("tick " + std::to_string(i)); });

    // Timers that write into the pipe; the reader wakes up when there is data.
    for (double when : {0.15, 0.25})
        loop->call_later(when, [&] {
            ssize_t n = ::write(pipe_fds[1], "ping", 4);
            note(n == 4 ? "wrote ping" : "write failed");
        });
    int pings = 0;
    loop->add_reader(pipe_fds[0], [&] {
        char buf[16];
        ssize_t n = ::read(pipe_fds[0], buf, sizeof buf);
        note("reader got '" + std::string(buf, n > 0 ? static_cast<std::size_t>(n) : 0) + "'");
        if (++pings == 2) loop->remove_reader(pipe_fds[0]);
    });

    // A cancelled timer never runs.
    aio::TimerHandle never = loop->call_later(0.2, [] { note("never printed"); });
    never.cancel();

    bool done = false;
    loop->call_later(0.4, [&] {
        note("stop");
        done = true;
    });
    while (!done) {
        loop->run_once();
        print_iteration(*loop);
    }
    loop->close();
    ::close(pipe_fds[0]);
    ::close(pipe_fds[1]);
    return 0;
}
