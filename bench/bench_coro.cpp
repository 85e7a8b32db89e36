// bench_coro.cpp - lesson 2's hot paths: awaiting a coroutine, waking on a future,
// sleep(0), and spawning a driver.
//
// usage: bench_coro [--json] [--samples] [--quick] [--batches N] [--reps N] [CASE...]
//   --json        one JSON line per case (for bench/report.py), else a markdown table
//   --samples     also print every repetition's ns/op on stderr
//   --quick       tiny sizes, a smoke test (the figures mean nothing)
//   --batches N   ops per repetition = N * 1000 (default 200)
//   --reps N      timed repetitions after the warm-up (default 15)
//   CASE          run only these cases (names as in the table)
// Instructions per op under callgrind: run one CASE with two --batches values and
// divide the difference in Ir by the difference in ops ((reps + 1) * batches * 1000).
//
// The cases (bench/peers/coro_micro.py measures the same ones in asyncio):
//   coro_await           one driven coroutine awaits `Coro<int> nop() { co_return 1; }`
//                        N times: a frame from the pool, two symmetric transfers, no hop
//   future_wake          one driven coroutine, N times: make a Future<int>, call_soon a
//                        setter, co_await the future; two loop iterations per op
//   sleep0               one driven coroutine, N times: co_await sleep(0); one iteration
//   driver_spawn_finish  drive(loop, nop()) x1000, then one run_once() runs all 1000 to
//                        completion (and frees them); lesson 3's spawn in embryo
//
// allocs/op counts global operator new, which the frame pool (frame_pool.hpp) calls
// only to grow: frames, future states and drivers come from the pool and are not seen
// there. So each case also reports `pool_blocks`: how many pool blocks one op holds at
// its deepest point, probed once outside the timed runs; and every timed repetition
// checks that the pool holds no more blocks after it than before (nothing leaked).
#include <cstddef>
#include <cstdint>

#include "bench/bench_util.hpp"
#include "lesson02_coroutines/coroutines.hpp"
#include "lesson02_coroutines/driver.hpp"
#include "lesson02_coroutines/frame_pool.hpp"
#include "lesson02_coroutines/futures.hpp"
#include "lesson02_coroutines/sleep.hpp"

namespace {

using namespace aio;
using namespace aio::bench;
using aio::detail::pool_blocks_in_use;

constexpr std::uint64_t batch = 1000;  // cfg.size is --batches: batches * batch ops
constexpr double budget_sleep0 = 100;  // docs/design.md: sleep(0) switch
constexpr double budget_spawn = 100;   // docs/design.md: create_task + run + await

// A pool_blocks_in_use() reading taken inside an op, for the pool_blocks column.
std::size_t g_probe = 0;

Coro<int> nop() { co_return 1; }
Coro<int> nop_probe() {
    g_probe = pool_blocks_in_use();
    co_return 1;
}

// ---- coro_await -------------------------------------------------------------------

Coro<std::uint64_t> await_nops(std::uint64_t n) {
    std::uint64_t sum = 0;
    for (std::uint64_t i = 0; i < n; ++i) sum += static_cast<std::uint64_t>(co_await nop());
    co_return sum;
}

Coro<std::size_t> probe_await() {
    std::size_t before = pool_blocks_in_use();
    co_await nop_probe();
    co_return g_probe - before;
}

Outcome bench_coro_await(const Config& cfg) {
    auto loop = make_loop();
    std::uint64_t n = cfg.size * batch;
    std::uint64_t sum = 0;
    auto body = pool_checked([&] { sum = loop->run_until_complete(await_nops(n)); }, "coro_await",
                             pool_blocks_in_use);
    Outcome o{measure("coro_await",
                      "`co_await nop()` in a loop, nop() = `co_return 1`: frame from the pool, "
                      "symmetric transfer in and out, no loop hop",
                      n, cfg.reps, body)};
    check(sum == n, "coro_await: wrong sum");
    o.pool_blocks = loop->run_until_complete(probe_await());
    return o;
}

// ---- future_wake ------------------------------------------------------------------

Coro<std::uint64_t> await_futures(EventLoop& loop, std::uint64_t n) {
    std::uint64_t sum = 0;
    for (std::uint64_t i = 0; i < n; ++i) {
        Future<int> f(loop);
        loop.call_soon([f]() mutable { f.set_result(1); });
        sum += static_cast<std::uint64_t>(co_await f);
    }
    co_return sum;
}

// Blocks held while the future is pending, relative to before it was made.
Coro<std::size_t> probe_future(EventLoop& loop) {
    std::size_t before = pool_blocks_in_use();
    Future<int> f(loop);
    loop.call_soon([f]() mutable {
        g_probe = pool_blocks_in_use();
        f.set_result(1);
    });
    co_await f;
    co_return g_probe - before;
}

Outcome bench_future_wake(const Config& cfg) {
    auto loop = make_loop();
    std::uint64_t n = cfg.size * batch;
    std::uint64_t sum = 0;
    auto body = pool_checked([&] { sum = loop->run_until_complete(await_futures(*loop, n)); },
                             "future_wake", pool_blocks_in_use);
    Outcome o{measure("future_wake",
                      "Future<int>(loop), call_soon a set_result(1), co_await it: one pool "
                      "block for the state, two iterations",
                      n, cfg.reps, body)};
    check(sum == n, "future_wake: wrong sum");
    o.pool_blocks = loop->run_until_complete(probe_future(*loop));
    return o;
}

// ---- sleep0 -----------------------------------------------------------------------

Coro<std::uint64_t> sleep0s(std::uint64_t n) {
    std::uint64_t i = 0;
    for (; i < n; ++i) co_await aio::sleep(0);
    co_return i;
}

Coro<std::size_t> probe_sleep0(EventLoop& loop) {
    std::size_t before = pool_blocks_in_use();
    loop.call_soon([] { g_probe = pool_blocks_in_use(); });
    co_await aio::sleep(0);
    co_return g_probe - before;
}

Outcome bench_sleep0(const Config& cfg) {
    auto loop = make_loop();
    std::uint64_t n = cfg.size * batch;
    std::uint64_t iterations = 0, done = 0;
    auto body = pool_checked(
        [&] {
            std::uint64_t it0 = loop->iterations();
            done = loop->run_until_complete(sleep0s(n));
            iterations = loop->iterations() - it0;
        },
        "sleep0", pool_blocks_in_use);
    Outcome o{measure("sleep0", "`co_await sleep(0)` in a loop: one iteration per op", n, cfg.reps,
                      body, budget_sleep0)};
    check(done == n && iterations >= n && iterations <= n + 2,
          "sleep0: not one iteration per sleep(0)");
    o.pool_blocks = loop->run_until_complete(probe_sleep0(*loop));
    return o;
}

// ---- driver_spawn_finish --------------------------------------------------------

Outcome bench_driver_spawn_finish(const Config& cfg) {
    auto loop = make_loop();
    auto& drivers = loop->extension<detail::DriverList>();
    std::uint64_t leftover = 0;
    auto body = pool_checked(
        [&] {
            for (std::uint64_t b = 0; b < cfg.size; ++b) {
                for (std::uint64_t i = 0; i < batch; ++i) (void)drive(*loop, nop());
                loop->run_once();
                leftover += drivers.size();
            }
        },
        "driver_spawn_finish", pool_blocks_in_use);
    Outcome o{measure("driver_spawn_finish",
                      "drive(loop, nop()) x1000 (dropping the Ref), then one run_once() runs "
                      "all 1000 to completion and frees them",
                      cfg.size * batch, cfg.reps, body, budget_spawn)};
    check(leftover == 0, "driver_spawn_finish: drivers left pending after run_once()");
    std::size_t before = pool_blocks_in_use();
    detail::Ref<Driver> d = drive(*loop, nop());
    o.pool_blocks = pool_blocks_in_use() - before;
    loop->run_once();
    check(d->done() && take_result<int>(*d) == 1, "driver_spawn_finish: the probe did not finish");
    return o;
}

constexpr Case cases[] = {
    {"coro_await", bench_coro_await},
    {"future_wake", bench_future_wake},
    {"sleep0", bench_sleep0},
    {"driver_spawn_finish", bench_driver_spawn_finish},
};

}  // namespace

int main(int argc, char** argv) {
    return aio::bench::run_cases(argc, argv, "bench_coro", cases,
                                 {.size_flag = "--batches", .size = 200, .quick_size = 2});
}
