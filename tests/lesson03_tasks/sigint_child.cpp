// sigint_child.cpp - programs that run aio::run(main) and get Ctrl+C, run as child
// processes by test_runner_sigint.cpp, which waits for "started", then sends SIGINT.
// Each is the C++ port of a five-line Python script; the comment says what CPython 3.11
// does with it.
//
// usage: sigint_child finally|caught|twice|stuck
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "lesson01_loop/builtins.hpp"
#include "lesson02_coroutines/context_managers.hpp"
#include "lesson02_coroutines/exceptions.hpp"
#include "lesson02_coroutines/sleep.hpp"
#include "lesson03_tasks/runners.hpp"

namespace {

void started() {
    aio::print("started");
    std::fflush(stdout);
}

// An `async with` resource whose exit awaits (and says so).
struct Resource {
    aio::Coro<void> aenter() { co_return; }
    aio::Coro<void> aexit(std::exception_ptr) {
        co_await aio::sleep(0);
        aio::print("aexit ran");
    }
};

aio::Coro<void> wait_long(Resource&) { co_await aio::sleep(10); }

// async def main(): async with R(): try: await sleep(10) finally: print("finally ran")
// -> "finally ran", "aexit ran", traceback ending KeyboardInterrupt, killed by SIGINT.
aio::Coro<void> finally_main() {
    started();
    try {
        co_await aio::async_with(Resource(), wait_long);
    } catch (...) {
        aio::print("finally ran");
        throw;
    }
}

// async def main(): try: await sleep(10) except CancelledError: print("caught"); return 7
// -> run() returns 7 and SIGINT has its default action again.
aio::Coro<int> caught_main() {
    started();
    try {
        co_await aio::sleep(10);
    } catch (const aio::CancelledError&) {
        aio::print("caught");
    }
    co_return 7;
}

// The same, but main goes on waiting after the first Ctrl+C: the second one ends it.
aio::Coro<void> twice_main() {
    started();
    try {
        co_await aio::sleep(10);
    } catch (const aio::CancelledError&) {
        aio::print("caught");
        std::fflush(stdout);
    }
    co_await aio::sleep(10);
}

// A main that blocks the loop: the first Ctrl+C cannot be read, the second ends it.
aio::Coro<void> stuck_main() {
    started();
    for (;;) ::pause();
    co_return;
}

bool sigint_is_default() {
    struct sigaction current {};
    ::sigaction(SIGINT, nullptr, &current);
    return current.sa_handler == SIG_DFL;
}

}  // namespace

int main(int argc, char** argv) {
    std::string mode = argc > 1 ? argv[1] : "";
    if (mode == "finally") aio::run(finally_main());
    if (mode == "caught") {
        int result = aio::run(caught_main());
        aio::print("result", result, "SIGINT default:", sigint_is_default() ? "yes" : "no");
        return 0;
    }
    if (mode == "twice") aio::run(twice_main());
    if (mode == "stuck") aio::run(stuck_main());
    std::fprintf(stderr, "usage: sigint_child finally|caught|twice|stuck\n");
    return 2;
}
