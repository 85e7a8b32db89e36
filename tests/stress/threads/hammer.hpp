// hammer.hpp - what every scenario of stress_threads shares: the counters it reports,
// the check that records a failure with the command that replays it, a seeded random
// source per round, and a loop running on its own thread.
//
// A round is one scenario with random sizes drawn from the round's seed. Threads make
// the interleaving differ from run to run, so a replay re-runs the same round (same
// scenario, same sizes) and usually, not always, the same failure: run it a few times.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <future>
#include <memory>
#include <random>
#include <string>
#include <thread>

#include "lesson01_loop/clocks.hpp"
#include "lesson01_loop/event_loop.hpp"

namespace hammer {

// What the last line reports. Any thread may add.
struct Stats {
    std::atomic<std::uint64_t> rounds{0};
    std::atomic<std::uint64_t> operations{0};
    std::atomic<std::uint64_t> cancellations{0};
    std::atomic<std::uint64_t> checks{0};
    std::atomic<std::uint64_t> failures{0};
};
Stats& stats();

// The round being run: named in every failure's replay line.
struct Round {
    std::uint64_t seed;
    const char* scenario;
};

// Any thread. Counts a check; on failure prints what failed and how to replay it.
bool check(const Round& round, bool ok, const std::string& what);

inline void operations(std::uint64_t n) { stats().operations.fetch_add(n); }
inline void cancellations(std::uint64_t n) { stats().cancellations.fetch_add(n); }

// A small seeded generator; each thread of a round makes its own from the round seed.
class Rng {
public:
    explicit Rng(std::uint64_t seed) : engine_(seed) {}
    // Uniform in [lo, hi].
    int between(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(engine_); }
    bool chance(int percent) { return between(1, 100) <= percent; }
    std::uint64_t next() { return engine_(); }

private:
    std::mt19937_64 engine_;
};

// Counts the callables and coroutine frames alive that carry one: every one made must
// be destroyed, run or not, once its loop is closed.
struct Probe {
    static inline std::atomic<long> alive{0};
    Probe() noexcept { ++alive; }
    Probe(const Probe&) noexcept { ++alive; }
    Probe& operator=(const Probe&) = default;
    ~Probe() { --alive; }
};

// How long a caller waits on a future before calling it a hang.
constexpr auto hang_limit = std::chrono::seconds(20);

// A loop (virtual clock: nothing here waits on real time) whose run_forever runs on a
// thread of its own from construction until stop_and_join().
class LoopThread {
public:
    LoopThread()
        : loop_(std::make_unique<aio::EventLoop>(nullptr, std::make_unique<aio::VirtualClock>())),
          thread_([this] { loop_->run_forever(); }) {}
    ~LoopThread() { stop_and_join(); }
    LoopThread(const LoopThread&) = delete;
    LoopThread& operator=(const LoopThread&) = delete;

    aio::EventLoop& loop() { return *loop_; }
    // Stops the loop after what is queued now, and waits for its thread.
    void stop_and_join() {
        if (!thread_.joinable()) return;
        loop_->call_soon_threadsafe([this] { loop_->stop(); });
        thread_.join();
    }

private:
    std::unique_ptr<aio::EventLoop> loop_;
    std::thread thread_;
};

// One scenario per file section; each runs one round and records its checks.
void call_soon_threadsafe_fifo(const Round& round);
void handle_cancel_racing(const Round& round);
void handle_cancel_direct(const Round& round);
void loop_closing_over_callbacks(const Round& round);
void coroutines_threadsafe(const Round& round);
void coroutines_threadsafe_closing(const Round& round);
void executor_cancelled_awaiters(const Round& round);
void loops_created_and_closed(const Round& round);

}  // namespace hammer
