// bench_loop.cpp - lesson 1's hot paths: call_soon + dispatch, and timers.
//
// usage: bench_loop [--json] [--samples] [--quick] [--batches N] [--reps N] [CASE...]
//   --json        one JSON line per case (for bench/report.py), else a markdown table
//   --samples     also print every repetition's ns/op on stderr
//   --quick       tiny sizes, a smoke test (the figures mean nothing)
//   --batches N   ops per repetition = N * 1000 (default 200)
//   --reps N      timed repetitions after the warm-up (default 15)
//   CASE          run only these cases (names as in the table)
// Instructions per op under callgrind: run one CASE with two --batches values and
// divide the difference in Ir by the difference in ops ((reps + 1) * batches * 1000).
//
// An op is always "schedule one callback and have the loop run it". Callbacks are
// scheduled in batches of 1,000 so that one loop iteration's fixed cost is shared the
// way it is in a busy program; the *_chain cases instead pay one whole iteration per
// op, which is what a coroutine's steps look like (lessons 2 and 3).
// bench/peers/loop_micro.py measures the same cases, by the same names, in asyncio.
#include <memory>
#include <thread>
#include <utility>
#include <vector>

#include "bench/bench_util.hpp"
#include "lesson01_loop/event_loop.hpp"

namespace {

using namespace aio;
using namespace aio::bench;

constexpr std::uint64_t batch = 1000;    // cfg.size is --batches: batches * batch ops
constexpr double budget_call_soon = 25;  // docs/design.md: call_soon + dispatch
constexpr double budget_timer = 80;      // docs/design.md: timer schedule + fire

// 0..n-1 shuffled by Fisher-Yates on a 64-bit LCG; peers/loop_micro.py draws the same.
std::vector<std::uint64_t> shuffled(std::uint64_t n) {
    std::vector<std::uint64_t> v(n);
    for (std::uint64_t i = 0; i < n; ++i) v[i] = i;
    std::uint64_t state = 42;
    for (std::uint64_t i = n - 1; i > 0; --i) std::swap(v[i], v[(lcg_next(state) >> 33) % (i + 1)]);
    return v;
}

// call_soon x1000 of a lambda capturing one reference, then one run_once() runs them.
// `bytes` of padding make the callable too big for a CallbackHandle's inline buffer: the
// out-of-line path, one allocation per op (it also shows the counter works).
template <std::size_t padding>
Result bench_call_soon_sized(const Config& cfg, const char* name, const char* what, double budget) {
    auto loop = make_loop();
    std::uint64_t ran = 0;
    struct Callback {
        std::uint64_t* ran;
        char pad[padding];
        void operator()() const { ++*ran; }
    };
    auto body = [&] {
        for (std::uint64_t b = 0; b < cfg.size; ++b) {
            for (std::uint64_t i = 0; i < batch; ++i) loop->call_soon(Callback{&ran, {}});
            loop->run_once();
        }
    };
    Result r = measure(name, what, cfg.size * batch, cfg.reps, body, budget);
    check(ran == cfg.size * batch * static_cast<std::uint64_t>(cfg.reps + 1),
          "call_soon: wrong number of callbacks ran");
    return r;
}

Outcome bench_call_soon(const Config& cfg) {
    return bench_call_soon_sized<1>(cfg, "call_soon",
                                    "call_soon x1000 of a 16-byte callable, then one "
                                    "run_once() runs them",
                                    budget_call_soon);
}

Outcome bench_call_soon_large(const Config& cfg) {
    static_assert(CallbackHandle::inline_size < 72, "call_soon_large must not fit inline");
    return bench_call_soon_sized<64>(cfg, "call_soon_large",
                                     "as call_soon, with a 72-byte callable: too big to "
                                     "store inline, so one allocation each",
                                     0);
}

// A callback that call_soon's its successor until N have run, then stops the loop:
// one loop iteration per op.
Outcome bench_call_soon_chain(const Config& cfg) {
    auto loop = make_loop();
    struct Chain {
        EventLoop* loop;
        std::uint64_t left = 0;
        void step() {
            if (--left > 0)
                loop->call_soon([this] { step(); });
            else
                loop->stop();
        }
    } chain{loop.get()};
    std::uint64_t n = cfg.size * batch;
    auto body = [&] {
        chain.left = n;
        loop->call_soon([&chain] { chain.step(); });
        loop->run_forever();
    };
    Result r = measure("call_soon_chain", "a callback call_soon's the next; one iteration per op",
                       n, cfg.reps, body, budget_call_soon);
    check(chain.left == 0, "call_soon_chain: the chain did not finish");
    return r;
}

// The same chain through a Handle embedded in its owner and EventLoop::schedule: the
// allocation-free path a Task's step takes (docs/design.md, choice 2). No asyncio peer.
struct EmbeddedChain {
    explicit EmbeddedChain(EventLoop* l) : loop(l), step(&ops, this) {}
    static void invoke(Handle& h) {
        auto* c = static_cast<EmbeddedChain*>(h.owner());
        if (--c->left > 0)
            c->loop->schedule(h);
        else
            c->loop->stop();
    }
    static constexpr HandleOps ops = {invoke, nullptr, nullptr};

    EventLoop* loop;
    std::uint64_t left = 0;
    Handle step;
};

Outcome bench_schedule_chain(const Config& cfg) {
    auto loop = make_loop();
    EmbeddedChain chain(loop.get());
    std::uint64_t n = cfg.size * batch;
    auto body = [&] {
        chain.left = n;
        loop->schedule(chain.step);
        loop->run_forever();
    };
    Result r = measure("schedule_chain", "an embedded Handle re-schedule()s itself (task step)", n,
                       cfg.reps, body, budget_call_soon);
    check(chain.left == 0, "schedule_chain: the chain did not finish");
    return r;
}

// call_later x1000 with distinct delays in shuffled order on a VirtualClock, then run
// until all fired: the clock jumps to each deadline, so one timer fires per iteration.
Outcome bench_call_later_virtual(const Config& cfg) {
    auto loop = make_loop(std::make_unique<VirtualClock>());
    std::vector<std::uint64_t> perm = shuffled(batch);
    std::vector<double> delays(batch);
    for (std::uint64_t i = 0; i < batch; ++i) delays[i] = static_cast<double>(perm[i] + 1) * 1e-6;
    std::uint64_t fired = 0, target = 0;
    EventLoop* lp = loop.get();
    auto body = [&] {
        for (std::uint64_t b = 0; b < cfg.size; ++b) {
            target += batch;
            for (double d : delays)
                loop->call_later(d, [&fired, &target, lp] {
                    if (++fired == target) lp->stop();
                });
            loop->run_forever();
        }
    };
    Result r = measure("call_later_virtual",
                       "call_later x1000, shuffled distinct delays, VirtualClock; one fires per "
                       "iteration",
                       cfg.size * batch, cfg.reps, body, budget_timer);
    check(fired == target && loop->timer_count() == 0, "call_later_virtual: timers left over");
    return r;
}

// call_later x1000 on the monotonic clock with delays that are already due (so
// nothing waits), then one run_once() fires them all. `delays` sets their order.
Result bench_call_later_mono(const Config& cfg, const char* name, const char* what,
                             const std::vector<double>& delays) {
    auto loop = make_loop();
    std::uint64_t fired = 0;
    auto body = [&] {
        for (std::uint64_t b = 0; b < cfg.size; ++b) {
            for (double d : delays) loop->call_later(d, [&fired] { ++fired; });
            loop->run_once();
        }
    };
    Result r = measure(name, what, cfg.size * batch, cfg.reps, body, budget_timer);
    check(fired == cfg.size * batch * static_cast<std::uint64_t>(cfg.reps + 1) &&
              loop->timer_count() == 0,
          "call_later_mono: not every timer fired in its run_once()");
    return r;
}

Outcome bench_call_later_mono_neg(const Config& cfg) {
    std::vector<std::uint64_t> perm = shuffled(batch);
    std::vector<double> delays(batch);
    for (std::uint64_t i = 0; i < batch; ++i) delays[i] = -static_cast<double>(perm[i] + 1) * 1e-6;
    return bench_call_later_mono(cfg, "call_later_mono_neg",
                                 "call_later x1000, shuffled distinct delays < 0, monotonic; "
                                 "one run_once() fires all",
                                 delays);
}

Outcome bench_call_later_mono_0(const Config& cfg) {
    return bench_call_later_mono(cfg, "call_later_mono_0",
                                 "call_later(0) x1000, monotonic; one run_once() fires all",
                                 std::vector<double>(batch, 0.0));
}

// Another thread posts N callbacks with call_soon_threadsafe while the loop runs them;
// the last one stops the loop. The loop is woken (a write to its eventfd) only when no
// batch is pending already, not once per call; each call still allocates its handle.
Outcome bench_call_soon_threadsafe(const Config& cfg) {
    auto loop = make_loop();
    std::uint64_t n = cfg.size * batch;
    std::uint64_t ran = 0, target = 0;  // loop thread only
    EventLoop* lp = loop.get();
    auto body = [&] {
        target += n;
        std::thread producer([&] {
            for (std::uint64_t i = 0; i < n; ++i)
                lp->call_soon_threadsafe([&ran, &target, lp] {
                    if (++ran == target) lp->stop();
                });
        });
        loop->run_forever();
        producer.join();
    };
    Result r = measure("call_soon_threadsafe",
                       "another thread posts callbacks while the loop runs them; per callback", n,
                       cfg.reps, body, 0);
    check(ran == target, "call_soon_threadsafe: wrong number of callbacks ran");
    return r;
}

constexpr Case cases[] = {
    {"call_soon", bench_call_soon},
    {"call_soon_large", bench_call_soon_large},
    {"call_soon_chain", bench_call_soon_chain},
    {"schedule_chain", bench_schedule_chain},
    {"call_later_virtual", bench_call_later_virtual},
    {"call_later_mono_neg", bench_call_later_mono_neg},
    {"call_later_mono_0", bench_call_later_mono_0},
    {"call_soon_threadsafe", bench_call_soon_threadsafe},
};

}  // namespace

int main(int argc, char** argv) {
    return aio::bench::run_cases(argc, argv, "bench_loop", cases,
                                 {.size_flag = "--batches", .size = 200, .quick_size = 2});
}
