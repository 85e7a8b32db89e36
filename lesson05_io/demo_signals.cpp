// demo_signals.cpp - lesson 5's demo, part 7: signals reach the loop as callbacks, and
// Ctrl+C in aio::run (asyncio: loop.add_signal_handler, and 3.11's Runner._on_sigint).
//
// The program sends itself the signals, as `kill -USR1 <pid>` from another terminal and
// the user's Ctrl+C would: SIGUSR1 at 0.50 runs a handler added with add_signal_handler,
// on the loop's thread; SIGINT at 1.00 cancels the main task, whose catch block and
// `async with` exit run before run() throws aio::KeyboardInterrupt, which main() catches
// and prints instead of dying of it.
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <exception>
#include <string>
#include <thread>

#include "lesson02_coroutines/context_managers.hpp"
#include "lesson02_coroutines/futures.hpp"
#include "lesson02_coroutines/sleep.hpp"
#include "lesson03_tasks/exceptions.hpp"
#include "lesson03_tasks/runners.hpp"
#include "lesson05_io/demo.hpp"
#include "lesson05_io/unix_signals.hpp"

namespace {

using demo::say;

bool is_default(int sig) {
    struct sigaction current {};
    ::sigaction(sig, nullptr, &current);
    return current.sa_handler == SIG_DFL;
}

const char* yes_no(bool b) { return b ? "yes" : "no"; }

// The handler: a plain function of the loop, given the arguments add_signal_handler got.
void on_usr1(std::thread::id loop_thread, std::string what, aio::Future<void> done) {
    bool on_loop = std::this_thread::get_id() == loop_thread;
    say("on_usr1('" + what + "') runs, on the loop's thread: " + yes_no(on_loop));
    done.set_result();
}

aio::Coro<void> usr1_main() {
    demo::start_clock();
    aio::EventLoop& loop = aio::get_running_loop();
    aio::Future<void> done(loop);
    loop.add_signal_handler(SIGUSR1, on_usr1, std::this_thread::get_id(), std::string("reload"),
                            done);
    say("add_signal_handler(SIGUSR1, on_usr1, 'reload')");
    loop.call_later(0.5, [] {
        say("kill(getpid(), SIGUSR1), as `kill -USR1 <pid>` would");
        ::kill(::getpid(), SIGUSR1);
    });
    co_await done;
    bool removed = loop.remove_signal_handler(SIGUSR1);
    say(std::string("remove_signal_handler(SIGUSR1) -> ") + (removed ? "true" : "false") +
        ", SIGUSR1 back to SIG_DFL: " + yes_no(is_default(SIGUSR1)));
}

// `async with` a resource whose exit awaits: it runs when Ctrl+C cancels the block.
struct Connection {
    aio::Coro<void> aenter() {
        say("async with: connection opened");
        co_return;
    }
    aio::Coro<void> aexit(std::exception_ptr) {
        co_await aio::sleep(0);
        say("async with: connection closed (its exit ran)");
    }
};

aio::Coro<void> work(Connection&) {
    say("main: working; Ctrl+C will come at 1.00");
    co_await aio::sleep(3600);
}

aio::Coro<void> ctrl_c_main() {
    demo::start_clock();
    aio::get_running_loop().call_later(1.0, [] {
        say("kill(getpid(), SIGINT), as if the user pressed Ctrl+C");
        ::kill(::getpid(), SIGINT);
    });
    try {
        co_await aio::async_with(Connection(), work);
    } catch (const aio::CancelledError&) {
        say("main: CancelledError at its await; cleanup runs, then it re-raises");
        throw;
    }
}

}  // namespace

void demo::signals_part() {
    aio::run(usr1_main());
    // A program started from a shell script in the background has SIGINT ignored, and
    // run() leaves an ignored SIGINT alone (asyncio too); the demo wants a terminal's.
    ::signal(SIGINT, SIG_DFL);
    try {
        aio::run(ctrl_c_main());
        std::printf("  run() returned (not expected)\n");
    } catch (const aio::KeyboardInterrupt&) {
        std::printf("  run() threw aio::KeyboardInterrupt; SIGINT back to SIG_DFL: %s\n",
                    yes_no(is_default(SIGINT)));
    }
}
