// bench_sync.cpp - lesson 4's hot paths: a queue ping-pong between two tasks and a
// contended Lock, plus two paths that never wait, for scale.
//
// usage: bench_sync [--json] [--samples] [--quick] [--ops N] [--reps N] [CASE...]
//   --json        one JSON line per case (for bench/report.py), else a markdown table
//   --samples     also print every repetition's ns/op on stderr
//   --quick       tiny sizes, a smoke test (the figures mean nothing)
//   --ops N       ops per repetition (default 1,000,000)
//   --reps N      timed repetitions after the warm-up (default 15)
//   CASE          run only these cases (names as in the table)
// Instructions per op under callgrind: run one CASE with two --ops values and divide
// the difference in Ir by the difference in ops ((reps + 1) * ops).
//
// The cases (bench/peers/sync_micro.py measures the same ones in asyncio; the first,
// second and fourth have the shape of the budget's asyncio micro-benchmarks queue,
// lock and lock_noyield):
//   queue_pingpong  two tasks, two Queue<int>(maxsize=1): ping puts i on q1 and gets the
//                   answer from q2, pong puts on q2 what it gets from q1. One op = one
//                   message (a put, the other task woken, its get): two per round trip
//   lock_contended  1,000 tasks, each N/1,000 times `{ auto held = co_await lock.guard();
//                   co_await sleep(0); }` on one Lock. The yield inside makes every
//                   acquisition wait: one op = a FIFO hand-off plus the sleep(0)
//   queue_nowait    put_nowait + get_nowait + task_done on one queue: nobody waits
//   lock_noyield    as lock_contended without the sleep(0): a task never suspends
//                   inside, so every acquisition takes the fast path
//
// allocs/op counts global operator new. get() and put() are coroutines whose frames come
// from the frame pool (lesson 2), not operator new; every repetition checks that the
// pool holds no more blocks after it than before.
#include <cstdint>
#include <vector>

#include "bench/bench_util.hpp"
#include "lesson01_loop/clocks.hpp"
#include "lesson02_coroutines/frame_pool.hpp"
#include "lesson02_coroutines/sleep.hpp"
#include "lesson03_tasks/tasks.hpp"
#include "lesson04_sync/locks.hpp"
#include "lesson04_sync/queues.hpp"

namespace {

using namespace aio;
using namespace aio::bench;
using aio::detail::pool_blocks_in_use;

constexpr double budget_message = 200;      // docs/design.md: queue ping-pong per message
constexpr double budget_acquisition = 200;  // docs/design.md: contended Lock acquire/release
constexpr std::uint64_t lock_tasks = 1000;
// cfg.size is --ops: ops per repetition.

// ---- queue_pingpong ---------------------------------------------------------------

Coro<void> pong(Queue<int>& in, Queue<int>& out, std::uint64_t rounds) {
    for (std::uint64_t i = 0; i < rounds; ++i) co_await out.put(co_await in.get());
}

Coro<std::uint64_t> ping(std::uint64_t messages) {
    Queue<int> q1(1), q2(1);
    std::uint64_t rounds = messages / 2;
    Task<void> other = create_task(pong(q1, q2, rounds));
    std::uint64_t sum = 0;
    for (std::uint64_t i = 0; i < rounds; ++i) {
        co_await q1.put(static_cast<int>(i & 0xff));
        sum += static_cast<std::uint64_t>(co_await q2.get());
    }
    co_await other;
    co_return sum;
}

Outcome bench_queue_pingpong(const Config& cfg) {
    auto loop = make_loop();
    std::uint64_t sum = 0;
    auto body = pool_checked([&] { sum = loop->run_until_complete(ping(cfg.size)); },
                             "queue_pingpong", pool_blocks_in_use);
    Result r = measure("queue_pingpong",
                       "two tasks, two Queue<int>(maxsize=1): a message is a put, the other "
                       "task woken, its get (two per round trip)",
                       cfg.size / 2 * 2, cfg.reps, body, budget_message);
    std::uint64_t rounds = cfg.size / 2, expected = 0;
    for (std::uint64_t i = 0; i < rounds; ++i) expected += i & 0xff;
    check(sum == expected, "queue_pingpong: wrong sum");
    return r;
}

// ---- lock_contended ---------------------------------------------------------------

Coro<void> contend(Lock& lock, std::uint64_t times, bool yield_inside, std::uint64_t& count) {
    for (std::uint64_t i = 0; i < times; ++i) {
        LockGuard held = co_await lock.guard();
        ++count;
        if (yield_inside) co_await aio::sleep(0);
    }
}

Coro<std::uint64_t> contend_all(std::uint64_t per_task, bool yield_inside) {
    Lock lock;
    std::uint64_t count = 0;
    std::vector<Task<void>> tasks;
    tasks.reserve(lock_tasks);
    for (std::uint64_t i = 0; i < lock_tasks; ++i)
        tasks.push_back(create_task(contend(lock, per_task, yield_inside, count)));
    for (Task<void>& t : tasks) co_await t;
    co_return count;
}

Result bench_lock(const Config& cfg, const char* name, bool yield_inside, const char* what,
                  double budget) {
    auto loop = make_loop();
    std::uint64_t per_task = cfg.size / lock_tasks ? cfg.size / lock_tasks : 1;
    std::uint64_t count = 0;
    auto body =
        pool_checked([&] { count = loop->run_until_complete(contend_all(per_task, yield_inside)); },
                     name, pool_blocks_in_use);
    Result r = measure(name, what, per_task * lock_tasks, cfg.reps, body, budget);
    check(count == per_task * lock_tasks, "lock: wrong count");
    return r;
}

Outcome bench_lock_contended(const Config& cfg) {
    return bench_lock(cfg, "lock_contended", true,
                      "1,000 tasks x N/1,000 `co_await lock.guard(); co_await sleep(0);` on one "
                      "Lock: a FIFO hand-off and a sleep(0) per acquisition",
                      budget_acquisition);
}

Outcome bench_lock_noyield(const Config& cfg) {
    return bench_lock(cfg, "lock_noyield", false,
                      "as lock_contended without the sleep(0): every acquisition takes the "
                      "fast path",
                      0);
}

// ---- the fast paths ---------------------------------------------------------------

Coro<std::uint64_t> nowait(std::uint64_t n) {
    Queue<int> q;
    std::uint64_t sum = 0;
    for (std::uint64_t i = 0; i < n; ++i) {
        q.put_nowait(1);
        sum += static_cast<std::uint64_t>(q.get_nowait());
        q.task_done();
    }
    co_return sum;
}

Outcome bench_queue_nowait(const Config& cfg) {
    auto loop = make_loop();
    std::uint64_t sum = 0;
    auto body = pool_checked([&] { sum = loop->run_until_complete(nowait(cfg.size)); },
                             "queue_nowait", pool_blocks_in_use);
    Result r =
        measure("queue_nowait", "put_nowait + get_nowait + task_done on one queue, nobody waiting",
                cfg.size, cfg.reps, body);
    check(sum == cfg.size, "queue_nowait: wrong sum");
    return r;
}

constexpr Case cases[] = {
    {"queue_pingpong", bench_queue_pingpong},
    {"lock_contended", bench_lock_contended},
    {"queue_nowait", bench_queue_nowait},
    {"lock_noyield", bench_lock_noyield},
};

}  // namespace

int main(int argc, char** argv) {
    // At least 2 ops: queue_pingpong's round trip is two.
    return aio::bench::run_cases(argc, argv, "bench_sync", cases,
                                 {.size = 1000000, .min_size = 2, .quick_size = 4000});
}
