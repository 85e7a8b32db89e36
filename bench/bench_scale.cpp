// bench_scale.cpp - how our costs grow with the work (issue 13's scaling charts), and
// the overhead of 100,000 tasks sleeping random 0-1 s beyond the sleeps themselves.
//
// usage: bench_scale [--quick]
// Prints one JSON line per point, {"series", "system": "aio", "n", "value", "unit"}, for
// bench/scale_report.py, which puts them beside bench/peers/scale_micro.py's (CPython,
// uvloop) and bench/peers/asio_peer.py's, writes the tables and draws the SVG charts.
// The third chart, memory per sleeping task, is bench_tasks' sleep_many at each size
// (bench/run.sh runs `bench_tasks --ops N --reps 1 sleep_many`).
//   spawn     N tasks made with create_task(nop()) at once, then co_await each: ns per
//             task, median of 3 runs after a warm-up up to 10^5, one cold run at 10^6, as
//             the CPython peer (whose 10^6 runs take ~10 s each). At 10^6 the pool holds
//             2 x 10^6 blocks: what grows is the cache misses, not the instructions
//   timers    call_later(d, cb) N times, d in [0, 1) from the shared LCG, on the virtual
//             clock, run until all fired: ns per timer scheduled and fired (O(log N));
//             runs as spawn
//   overhead  100,000 tasks, each co_await sleep(d), d in [0, 1), then co_await each:
//             seconds of wall time beyond the longest delay, on the monotonic clock
//             (real sleeping; median of 3 fresh loops) and on the virtual clock (all of
//             the wall time is overhead: no time is slept)
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <vector>

#include "bench/bench_util.hpp"
#include "lesson01_loop/clocks.hpp"
#include "lesson02_coroutines/sleep.hpp"
#include "lesson03_tasks/tasks.hpp"

namespace {

using namespace aio;
using namespace aio::bench;

void point(const char* series, std::uint64_t n, double value, const char* unit) {
    std::printf(
        "{\"series\": \"%s\", \"system\": \"aio\", \"n\": %llu, \"value\": %.6g, "
        "\"unit\": \"%s\"}\n",
        series, static_cast<unsigned long long>(n), value, unit);
    std::fflush(stdout);
}

std::vector<double> make_delays(std::uint64_t n) {  // bench_tasks' sequence
    std::vector<double> delays(n);
    std::uint64_t state = 42;
    for (double& d : delays) d = static_cast<double>(lcg_next(state) >> 11) * 0x1.0p-53;
    return delays;
}

// As the peer's runs_for(): 3 timed runs after a warm-up up to 10^5, one cold run above.
int runs_for(std::uint64_t n) { return n <= 100000 ? 3 : 1; }

template <class Body>
double median_seconds(int runs, Body body) {
    std::vector<double> s;
    for (int i = 0; i < runs; ++i) {
        std::uint64_t t0 = now_ns();
        body();
        s.push_back(static_cast<double>(now_ns() - t0) * 1e-9);
    }
    return median(s);
}

Coro<void> nop() { co_return; }

Coro<std::uint64_t> spawn_all(std::uint64_t n, std::vector<Task<void>>& tasks) {
    for (std::uint64_t i = 0; i < n; ++i) tasks.push_back(create_task(nop()));
    std::uint64_t awaited = 0;
    for (Task<void>& t : tasks) {
        co_await t;
        ++awaited;
    }
    tasks.clear();
    co_return awaited;
}

void scale_spawn(std::uint64_t n) {
    auto loop = make_loop();
    std::vector<Task<void>> tasks;
    tasks.reserve(n);
    auto once = [&] { check(loop->run_until_complete(spawn_all(n, tasks)) == n, "spawn"); };
    if (runs_for(n) > 1) once();  // warm-up: the pool grows to n tasks
    point("spawn", n, median_seconds(runs_for(n), once) * 1e9 / static_cast<double>(n), "ns/task");
}

void scale_timers(std::uint64_t n) {
    auto loop = make_loop(std::make_unique<VirtualClock>());
    std::vector<double> delays = make_delays(n);
    std::uint64_t fired = 0;
    auto once = [&] {
        fired = 0;
        for (double d : delays)
            (void)loop->call_later(d, [&fired, &loop, n] {
                if (++fired == n) loop->stop();
            });
        loop->run_forever();
        check(fired == n, "timers: not every timer fired");
    };
    if (runs_for(n) > 1) once();
    point("timers", n, median_seconds(runs_for(n), once) * 1e9 / static_cast<double>(n),
          "ns/timer");
}

Coro<void> sleeper(double delay) { co_await aio::sleep(delay); }

Coro<std::uint64_t> sleep_all(const std::vector<double>* delays) {
    std::vector<Task<void>> tasks;
    tasks.reserve(delays->size());
    for (double d : *delays) tasks.push_back(create_task(sleeper(d)));
    std::uint64_t awaited = 0;
    for (Task<void>& t : tasks) {
        co_await t;
        ++awaited;
    }
    co_return awaited;
}

// A fresh loop each run, as a program that starts 100,000 sleepers would have.
void overhead(std::uint64_t n, int runs) {
    std::vector<double> delays = make_delays(n);
    double longest = *std::max_element(delays.begin(), delays.end());
    auto run_on = [&](std::unique_ptr<Clock> clock) {
        auto loop = make_loop(std::move(clock));
        check(loop->run_until_complete(sleep_all(&delays)) == n, "overhead");
    };
    double mono = median_seconds(runs, [&] { run_on(std::make_unique<MonotonicClock>()); });
    point("overhead_monotonic", n, mono - longest, "s");
    double virt = median_seconds(runs, [&] { run_on(std::make_unique<VirtualClock>()); });
    point("overhead_virtual", n, virt, "s");
}

}  // namespace

int main(int argc, char** argv) {
    bool quick = argc > 1 && std::strcmp(argv[1], "--quick") == 0;
    if (argc > 1 && !quick) {
        std::fprintf(stderr, "usage: bench_scale [--quick]\n");
        return 2;
    }
    warn_if_unoptimised();
    std::vector<std::uint64_t> sizes = {1000, 10000, 100000, 1000000};
    if (quick) sizes = {1000, 10000};
    for (std::uint64_t n : sizes) scale_spawn(n);
    for (std::uint64_t n : sizes) scale_timers(n);
    overhead(quick ? 1000 : 100000, quick ? 1 : 3);
    return 0;
}
