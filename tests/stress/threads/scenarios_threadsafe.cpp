// scenarios_threadsafe.cpp - run_coroutine_threadsafe hammered: threads send coroutines
// that return, throw, cancel themselves, sleep or wait forever to one loop, keeping a
// window of concurrent futures in flight; in the closing scenario the loop is stopped and
// closed under them. Each future must become done (never hang) with the outcome its
// coroutine chose, or cancelled when the loop closed first; every coroutine
// frame is destroyed (counted by a Probe it carries); a frame made on a caller thread
// and freed on the loop thread goes back to the caller's pool (frame_pool.hpp).
#include <atomic>
#include <chrono>
#include <deque>
#include <exception>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "lesson02_coroutines/sleep.hpp"
#include "lesson03_tasks/tasks.hpp"
#include "lesson03_tasks/threads.hpp"
#include "tests/stress/threads/hammer.hpp"

namespace hammer {

namespace {

enum class Kind { value, error, self_cancel, sleep_value, forever };
constexpr int kinds_without_forever = 4;

aio::Coro<int> job(Kind kind, int x, int yields, Probe probe) {
    (void)probe;  // lives as long as the frame
    for (int i = 0; i < yields; ++i) co_await aio::sleep(0);
    switch (kind) {
        case Kind::error: throw std::runtime_error(std::to_string(x));
        case Kind::self_cancel:
            aio::current_task()->cancel();
            co_await aio::sleep(0);  // CancelledError here
            co_return -1;
        case Kind::sleep_value:
            co_await aio::sleep(0.25 * (yields + 1));  // virtual seconds
            co_return 2 * x;
        case Kind::forever: {
            aio::Future<int> never(aio::get_running_loop());
            co_return co_await never;
        }
        case Kind::value: break;
    }
    co_return 2 * x;
}

struct Sent {
    Kind kind;
    int x;
    aio::ConcurrentFuture<int> result;
};

// What one caller thread saw.
struct Tally {
    int sent = 0;
    int cancelled = 0;  // CancelledError or broken by the close
    bool refused = false;
    std::vector<std::exception_ptr> held;  // see settle()
};

std::string describe(const Sent& s) {
    static const char* const names[] = {"value", "error", "self_cancel", "sleep_value", "forever"};
    return std::string("run_coroutine_threadsafe(job(") + names[static_cast<int>(s.kind)] + ", " +
           std::to_string(s.x) + "))";
}

// What an exception says, and whether it is the one expected.
bool classify(const std::exception_ptr& error, const Sent& s, bool may_close, std::string& got) {
    try {
        std::rethrow_exception(error);
    } catch (const aio::CancelledError&) {
        got = "CancelledError";
        return s.kind == Kind::self_cancel || may_close;
    } catch (const std::runtime_error& e) {
        got = std::string("runtime_error: ") + e.what();
        return s.kind == Kind::error && e.what() == std::to_string(s.x);
    } catch (...) {
        got = "an unexpected exception";
        return false;
    }
}

// Waits for one concurrent future and checks its outcome against what the coroutine chose.
// An exception is kept in tally.held until every thread of the round is joined:
// ThreadSanitizer cannot see libstdc++'s exception_ptr reference count, so the thread
// that drops the last reference must be one that is ordered after every reader.
void settle(const Round& round, Sent& s, bool may_close, Tally& tally) {
    std::string got;
    bool ok = false;
    try {
        int v = s.result.result(std::chrono::duration<double>(hang_limit).count());
        got = "value " + std::to_string(v);
        ok = (s.kind == Kind::value || s.kind == Kind::sleep_value) && v == 2 * s.x;
    } catch (const aio::TimeoutError&) {
        check(round, false, describe(s) + ": the future hangs");
        return;
    } catch (...) {
        tally.held.push_back(std::current_exception());
        ok = classify(tally.held.back(), s, may_close, got);
        tally.cancelled += got == "CancelledError";
    }
    check(round, ok, describe(s) + " gave " + got);
}

// One caller: `calls` sends, at most `window` unsettled at a time.
void caller(const Round& round, aio::EventLoop& loop, std::uint64_t seed, int calls, bool may_close,
            Tally& tally, std::atomic<int>& sent) {
    Rng rng(seed);
    std::size_t window = static_cast<std::size_t>(rng.between(1, 16));
    std::deque<Sent> pending;
    for (int i = 0; i < calls; ++i) {
        Kind kind = static_cast<Kind>(rng.between(0, kinds_without_forever - (may_close ? 0 : 1)));
        int yields = rng.between(0, 3);
        try {
            auto result = aio::run_coroutine_threadsafe(job(kind, i, yields, Probe()), loop);
            pending.push_back(Sent{kind, i, std::move(result)});
            ++tally.sent;
            ++sent;
        } catch (const aio::RuntimeError& e) {
            check(round, may_close && std::string(e.what()) == "Event loop is closed",
                  std::string("run_coroutine_threadsafe threw: ") + e.what());
            tally.refused = true;
            break;
        }
        while (pending.size() > window || (!pending.empty() && rng.chance(20))) {
            settle(round, pending.front(), may_close, tally);
            pending.pop_front();
        }
    }
    for (Sent& s : pending) settle(round, s, may_close, tally);
}

// Callers on `threads` threads; `close_after` < 0: the loop stays open until they end,
// else it is stopped and closed once that many calls were sent (or after a few ms: the
// callers may all be waiting on coroutines that wait forever).
void run_callers(const Round& round, int threads, int calls, int close_after) {
    Rng rng(round.seed);
    std::vector<Tally> tallies(threads);
    auto lt = std::make_unique<LoopThread>();
    aio::EventLoop& loop = lt->loop();
    bool may_close = close_after >= 0;
    std::atomic<int> sent{0};
    std::vector<std::thread> callers;
    for (int t = 0; t < threads; ++t)
        callers.emplace_back([&, t, seed = rng.next()] {
            caller(round, loop, seed, may_close ? 1 << 30 : calls, may_close, tallies[t], sent);
        });
    if (may_close) {
        auto give_up = std::chrono::steady_clock::now() + std::chrono::milliseconds(20);
        while (sent.load() < close_after && std::chrono::steady_clock::now() < give_up)
            std::this_thread::yield();
        lt->stop_and_join();
        loop.close();  // destroys what is pending: their futures are cancelled
    }
    for (std::thread& t : callers) t.join();
    lt.reset();
    check(round, Probe::alive.load() == 0,
          std::to_string(Probe::alive.load()) + " coroutine frames never destroyed");
    for (const Tally& t : tallies) {
        operations(t.sent);
        cancellations(t.cancelled);
        if (may_close) check(round, t.refused, "a caller was never refused by the closed loop");
    }
}

}  // namespace

void coroutines_threadsafe(const Round& round) {
    Rng rng(round.seed + 1);
    run_callers(round, rng.between(1, 4), rng.between(1, 300), -1);
}

void coroutines_threadsafe_closing(const Round& round) {
    Rng rng(round.seed + 1);
    run_callers(round, rng.between(1, 4), 0, rng.between(0, 40));
}

}  // namespace hammer
