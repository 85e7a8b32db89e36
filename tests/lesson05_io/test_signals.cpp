// test_signals.cpp - loop.add_signal_handler / remove_signal_handler with real signals
// (asyncio: unix_events.py; Lib/test/test_asyncio/test_unix_events.py's
// SelectorEventLoopSignalTests, which mock the signal module; these send the signals).
// One case raises a signal on another thread, so the file also runs under TSan.
#include <doctest/doctest.h>
#include <pthread.h>
#include <unistd.h>

#include <csignal>
#include <string>
#include <thread>
#include <vector>

#include "helpers.hpp"
#include "lesson02_coroutines/futures.hpp"
#include "lesson03_tasks/signal_wakeup.hpp"
#include "lesson05_io/unix_signals.hpp"

namespace {

// The signal's action, as the kernel has it, is SIG_DFL.
bool is_default(int sig) {
    struct sigaction current {};
    REQUIRE(::sigaction(sig, nullptr, &current) == 0);
    return current.sa_handler == SIG_DFL;
}

aio::Coro<std::string> wait_for_it(aio::Future<std::string> fut) { co_return co_await fut; }

// What the handler sees: its arguments and whether it runs on the loop's thread.
struct Seen {
    mutable aio::Future<std::string> fut;
    std::thread::id loop_thread = std::this_thread::get_id();
    void operator()(int n, std::string word) const {
        bool on_loop_thread = std::this_thread::get_id() == loop_thread;
        if (!fut.done())
            fut.set_result(word + " " + std::to_string(n) +
                           (on_loop_thread ? " on loop" : " off loop"));
    }
};

aio::Coro<void> no_op() { co_return; }

}  // namespace

TEST_SUITE("lesson05") {
    TEST_CASE_FIXTURE(test::LoopFixture,
                      "signal handler runs as a loop callback with its arguments") {
        aio::EventLoop& l = *loop;
        aio::Future<std::string> fut(l);
        l.add_signal_handler(SIGUSR1, Seen{fut}, 42, std::string("usr1"));
        CHECK(!is_default(SIGUSR1));
        ::kill(::getpid(), SIGUSR1);
        CHECK(test::run(l, wait_for_it(fut)) == "usr1 42 on loop");
        CHECK(l.remove_signal_handler(SIGUSR1));
    }

    TEST_CASE_FIXTURE(test::LoopFixture,
                      "a signal that lands on another thread still runs on the loop") {
        aio::EventLoop& l = *loop;
        aio::Future<std::string> fut(l);
        l.add_signal_handler(SIGUSR2, Seen{fut}, 7, std::string("usr2"));
        std::thread other([] { ::pthread_kill(::pthread_self(), SIGUSR2); });  // this thread's
        other.join();
        CHECK(test::run(l, wait_for_it(fut)) == "usr2 7 on loop");
        CHECK(l.remove_signal_handler(SIGUSR2));
    }

    TEST_CASE_FIXTURE(test::LoopFixture,
                      "remove_signal_handler says whether it removed and restores SIG_DFL") {
        loop->add_signal_handler(SIGUSR1, [] {});
        CHECK(loop->remove_signal_handler(SIGUSR1) == true);
        CHECK(is_default(SIGUSR1));
        CHECK(loop->remove_signal_handler(SIGUSR1) == false);
        CHECK(loop->remove_signal_handler(SIGUSR2) == false);
        // SIGINT too goes back to SIG_DFL (asyncio: default_int_handler; C++ has none).
        loop->add_signal_handler(SIGINT, [] {});
        CHECK(loop->remove_signal_handler(SIGINT));
        CHECK(is_default(SIGINT));
    }

    TEST_CASE_FIXTURE(test::LoopFixture, "adding again replaces the handler") {
        aio::EventLoop& l = *loop;
        aio::Future<std::string> fut(l);
        std::vector<std::string> calls;
        l.add_signal_handler(SIGUSR1, [&calls] { calls.push_back("first"); });
        l.add_signal_handler(SIGUSR1, Seen{fut}, 2, std::string("second"));
        ::kill(::getpid(), SIGUSR1);
        CHECK(test::run(l, wait_for_it(fut)) == "second 2 on loop");
        CHECK(calls.empty());
        CHECK(l.remove_signal_handler(SIGUSR1));
        CHECK(l.remove_signal_handler(SIGUSR1) == false);
    }

    TEST_CASE_FIXTURE(test::LoopFixture, "signals that come together each run their own handler") {
        aio::EventLoop& l = *loop;
        aio::Future<std::string> fut(l);
        int usr1 = 0;
        l.add_signal_handler(SIGUSR1, [&usr1] { ++usr1; });
        l.add_signal_handler(SIGUSR2, Seen{fut}, 1, std::string("usr2"));
        ::kill(::getpid(), SIGUSR1);
        ::kill(::getpid(), SIGUSR2);
        CHECK(test::run(l, wait_for_it(fut)) == "usr2 1 on loop");
        CHECK(usr1 == 1);
        l.close();
    }

    TEST_CASE_FIXTURE(test::LoopFixture,
                      "a handler's exception goes to the loop's exception handler") {
        aio::EventLoop& l = *loop;
        std::vector<std::string> reported;
        l.set_exception_handler([&reported](aio::EventLoop&, const aio::ExceptionContext& c) {
            reported.push_back(c.message + " | " + aio::describe_exception(c.exception));
        });
        l.add_signal_handler(SIGUSR1, [] { throw aio::ValueError("bad signal"); });
        ::kill(::getpid(), SIGUSR1);
        for (int i = 0; i < 100 && reported.empty(); ++i) {
            l.call_later(0.01, [&l] { l.stop(); });
            l.run_forever();
        }
        REQUIRE(reported.size() == 1);
        CHECK(reported[0].find("ValueError: bad signal") != std::string::npos);
        CHECK(l.remove_signal_handler(SIGUSR1));
    }

    TEST_CASE_FIXTURE(test::LoopFixture, "loop.close() removes every signal handler") {
        loop->add_signal_handler(SIGUSR1, [] {});
        loop->add_signal_handler(SIGUSR2, [] {});
        loop->add_signal_handler(SIGTERM, [] {});
        loop->close();
        CHECK(is_default(SIGUSR1));
        CHECK(is_default(SIGUSR2));
        CHECK(is_default(SIGTERM));
        CHECK(loop->remove_signal_handler(SIGUSR1) == false);
    }

    TEST_CASE_FIXTURE(test::LoopFixture,
                      "add_signal_handler's errors have asyncio's types and texts") {
        aio::EventLoop& l = *loop;
        CHECK_THROWS_WITH_AS(l.add_signal_handler(99, [] {}), "invalid signal number 99",
                             aio::ValueError);
        CHECK_THROWS_WITH_AS(l.add_signal_handler(0, [] {}), "invalid signal number 0",
                             aio::ValueError);
        CHECK_THROWS_WITH_AS(l.add_signal_handler(SIGKILL, [] {}), "sig 9 cannot be caught",
                             aio::RuntimeError);
        CHECK_THROWS_WITH_AS(l.add_signal_handler(SIGSTOP, [] {}), "sig 19 cannot be caught",
                             aio::RuntimeError);
        CHECK_THROWS_WITH_AS(l.add_signal_handler(SIGUSR1, no_op),
                             "coroutines cannot be used with add_signal_handler()", aio::TypeError);
        CHECK_THROWS_WITH_AS(l.remove_signal_handler(99), "invalid signal number 99",
                             aio::ValueError);
        CHECK(is_default(SIGKILL));
        std::string off_main;
        std::thread other([&off_main] {
            auto other_loop = aio::new_event_loop();
            try {
                other_loop->add_signal_handler(SIGUSR1, [] {});
            } catch (const aio::RuntimeError& e) {
                off_main = e.what();
            }
            other_loop->close();
        });
        other.join();
        CHECK(off_main == "set_wakeup_fd only works in main thread of the main interpreter");
        CHECK(is_default(SIGUSR1));
        l.close();
        CHECK_THROWS_WITH_AS(l.add_signal_handler(SIGUSR1, [] {}), "Event loop is closed",
                             aio::RuntimeError);
    }

    TEST_CASE_FIXTURE(test::LoopFixture, "a handler removed before its callback ran does not run") {
        aio::EventLoop& l = *loop;
        int calls = 0;
        l.add_signal_handler(SIGUSR1, [&calls] { ++calls; });
        l.add_signal_handler(SIGUSR2, [&l] { l.remove_signal_handler(SIGUSR1); });
        // pthread_kill to this thread: each is taken before the call returns, in order
        // (kill() to the process may be taken by another thread, a little later).
        ::pthread_kill(::pthread_self(), SIGUSR2);  // read first: removes SIGUSR1's handler
        ::pthread_kill(::pthread_self(), SIGUSR1);  // ...before this one's callback runs
        for (int i = 0; i < 5; ++i) {
            l.call_later(0.01, [&l] { l.stop(); });
            l.run_forever();
        }
        CHECK(calls == 0);
        CHECK(is_default(SIGUSR1));
    }

}  // TEST_SUITE
