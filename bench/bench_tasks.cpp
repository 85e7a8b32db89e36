// bench_tasks.cpp - lesson 3's hot paths: spawning and awaiting tasks, sleep(0) in a
// task, and what a sleeping task costs in memory.
//
// usage: bench_tasks [--json] [--samples] [--quick] [--ops N] [--reps N] [CASE...]
//   --json        one JSON line per case (for bench/report.py), else a markdown table
//   --samples     also print every repetition's ns/op on stderr
//   --quick       tiny sizes, a smoke test (the figures mean nothing)
//   --ops N       ops per repetition of every case run (default: each case's own)
//   --reps N      timed repetitions after the warm-up (default 15)
//   CASE          run only these cases (names as in the table)
// Instructions per op under callgrind: run one CASE with two --ops values and divide
// the difference in Ir by the difference in ops ((reps + 1) * ops). For sleep_many,
// whose warm-up grows the pool with the tasks and which runs once more for its probe,
// keep --ops and vary --reps instead (difference in reps * ops).
//
// The cases (bench/peers/tasks_micro.py measures the same ones in asyncio):
//   spawn       create_task(nop()) x10,000, then co_await each; 1,000,000 per repetition
//   sleep0      co_await sleep(0) 1,000,000 times in one task: one iteration per op
//   sleep_many  100,000 tasks, each co_await sleep(d), d in [0, 1) from a seeded LCG, on
//               the virtual clock (instant); then co_await each. One op = one task.
//
// Memory per sleeping task (sleep_many), measured once, first, in a forked child whose
// loop has never run:
// (a) the peak of the bytes malloc has handed out and not taken back (this file wraps
// malloc/free with the linker's --wrap, see bench/meson.build, and adds up
// malloc_usable_size), minus before, per task: the Task, its frame, the timer heap (an
// entry, and the slot its parked step is reached through: sleep makes no timer handle),
// the ready queue, and the harness's two vectors (16 B);
// (b) VmHWM minus VmRSS before, per task (HWM reset through /proc/self/clear_refs).
#include <malloc.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "bench/bench_util.hpp"
#include "lesson01_loop/clocks.hpp"
#include "lesson02_coroutines/frame_pool.hpp"
#include "lesson02_coroutines/sleep.hpp"
#include "lesson03_tasks/tasks.hpp"

// ---- bytes in use: malloc and free wrapped at link time ----------------------------
// bench_util.cpp's counting operator new calls malloc; -Wl,--wrap=malloc sends those
// calls here. Single-threaded: the bench runs everything on its main thread.
namespace {
std::uint64_t g_live = 0;   // bytes handed out by malloc and not freed (usable sizes)
std::uint64_t g_peak = 0;   // the highest g_live since the last reset
std::uint64_t g_calls = 0;  // how many allocations passed through the wrapper

void note_alloc(void* p) noexcept {
    if (!p) return;
    ++g_calls;
    g_live += malloc_usable_size(p);
    if (g_live > g_peak) g_peak = g_live;
}
}  // namespace

extern "C" {
void* __real_malloc(std::size_t size);
void* __real_aligned_alloc(std::size_t align, std::size_t size);
void __real_free(void* p);

void* __wrap_malloc(std::size_t size) {
    void* p = __real_malloc(size);
    note_alloc(p);
    return p;
}
void* __wrap_aligned_alloc(std::size_t align, std::size_t size) {
    void* p = __real_aligned_alloc(align, size);
    note_alloc(p);
    return p;
}
void __wrap_free(void* p) {
    if (p) g_live -= malloc_usable_size(p);
    __real_free(p);
}
}

namespace {

using namespace aio;
using namespace aio::bench;
using aio::detail::pool_blocks_in_use;

constexpr double budget_spawn = 100;   // docs/design.md: create_task + run + await
constexpr double budget_sleep0 = 100;  // docs/design.md: sleep(0) switch
constexpr double budget_bytes = 256;   // docs/design.md: an idle (sleeping) task
constexpr std::uint64_t spawn_batch = 10000;

// cfg.size is --ops, 0 by default: each case's own count, a hundredth of it with --quick.
std::uint64_t ops_or(const Config& cfg, std::uint64_t fallback) {
    return cfg.size ? cfg.size : cfg.quick ? fallback / 100 : fallback;
}

// ---- spawn --------------------------------------------------------------------------

Coro<void> nop() { co_return; }

// asyncio peer: tasks = [create_task(nop()) for _ in range(10000)]; await gather(*tasks)
Coro<std::uint64_t> spawn_batches(std::uint64_t n, std::uint64_t batch,
                                  std::vector<Task<void>>& tasks) {
    std::uint64_t awaited = 0;
    for (std::uint64_t b = 0; b < n / batch; ++b) {
        for (std::uint64_t i = 0; i < batch; ++i) tasks.push_back(create_task(nop()));
        for (Task<void>& t : tasks) {
            co_await t;
            ++awaited;
        }
        tasks.clear();
    }
    co_return awaited;
}

Coro<std::size_t> probe_spawn() {
    std::size_t before = pool_blocks_in_use();
    Task<void> t = create_task(nop());
    std::size_t held = pool_blocks_in_use() - before;
    co_await t;
    co_return held;
}

Outcome bench_spawn(const Config& cfg) {
    auto loop = make_loop();
    std::uint64_t n = ops_or(cfg, 1000000);
    std::uint64_t batch = std::min(spawn_batch, n);  // fewer only for --ops below 10,000
    n = n / batch * batch;
    std::vector<Task<void>> tasks;
    tasks.reserve(batch);
    std::uint64_t awaited = 0;
    auto body =
        pool_checked([&] { awaited = loop->run_until_complete(spawn_batches(n, batch, tasks)); },
                     "spawn", pool_blocks_in_use);
    Outcome o{measure("spawn",
                      "create_task(nop()) x10,000, then co_await each: one pool block per task "
                      "(its frame, the Task in the room before it), two iterations per batch",
                      n, cfg.reps, body, budget_spawn)};
    check(awaited == n, "spawn: not every task was awaited");
    o.pool_blocks = loop->run_until_complete(probe_spawn());
    return o;
}

// ---- sleep0 -----------------------------------------------------------------------

Coro<std::uint64_t> sleep0s(std::uint64_t n) {
    std::uint64_t i = 0;
    for (; i < n; ++i) co_await aio::sleep(0);
    co_return i;
}

Outcome bench_sleep0(const Config& cfg) {
    auto loop = make_loop();
    std::uint64_t n = ops_or(cfg, 1000000);
    std::uint64_t iterations = 0, done = 0;
    auto body = pool_checked(
        [&] {
            std::uint64_t it0 = loop->iterations();
            done = loop->run_until_complete(sleep0s(n));
            iterations = loop->iterations() - it0;
        },
        "sleep0", pool_blocks_in_use);
    Outcome o{measure("sleep0", "`co_await sleep(0)` in a loop, in a Task: one iteration per op", n,
                      cfg.reps, body, budget_sleep0)};
    check(done == n && iterations >= n && iterations <= n + 2,
          "sleep0: not one iteration per sleep(0)");
    o.pool_blocks = 0;  // the awaiter lives in the sleeping frame (bench_coro probes it)
    return o;
}

// ---- sleep_many -------------------------------------------------------------------

// Uniform in [0, 1), from the 64-bit LCG that bench_loop.cpp and the peer share.
std::vector<double> make_delays(std::uint64_t n) {
    std::vector<double> delays(n);
    std::uint64_t state = 42;
    for (double& d : delays) d = static_cast<double>(lcg_next(state) >> 11) * 0x1.0p-53;
    return delays;
}

Coro<void> sleeper(double delay) { co_await aio::sleep(delay); }

// Readings taken once every task has made its first step and sleeps.
struct PeakProbe {
    std::size_t pool_blocks = 0;
};

// The delays by pointer: a coroutine does not take a const& (lesson 2's coroutines.hpp).
Coro<std::uint64_t> sleep_all(const std::vector<double>* delays, std::vector<Task<void>>& tasks,
                              PeakProbe* probe) {
    std::size_t blocks_before = pool_blocks_in_use();
    for (double d : *delays) tasks.push_back(create_task(sleeper(d)));
    if (probe) {
        co_await aio::sleep(0);  // every task's first step runs before this one resumes
        probe->pool_blocks = pool_blocks_in_use() - blocks_before;
    }
    std::uint64_t awaited = 0;
    for (Task<void>& t : tasks) {
        co_await t;
        ++awaited;
    }
    tasks.clear();
    co_return awaited;
}

Outcome bench_sleep_many(const Config& cfg) {
    auto loop = make_loop(std::make_unique<VirtualClock>());
    std::vector<double> delays = make_delays(ops_or(cfg, 100000));
    std::vector<Task<void>> tasks;
    tasks.reserve(delays.size());
    std::uint64_t awaited = 0;
    auto body = pool_checked(
        [&] { awaited = loop->run_until_complete(sleep_all(&delays, tasks, nullptr)); },
        "sleep_many", pool_blocks_in_use);
    Outcome o{measure("sleep_many",
                      "100,000 tasks x co_await sleep(U[0,1)) on the virtual clock, then co_await "
                      "each; op = one task made, asleep, woken by its timer, awaited",
                      delays.size(), cfg.reps, body)};
    check(awaited == delays.size(), "sleep_many: not every task was awaited");
    PeakProbe probe;
    (void)loop->run_until_complete(sleep_all(&delays, tasks, &probe));
    o.pool_blocks = probe.pool_blocks / delays.size();
    return o;
}

// ---- memory per sleeping task ---------------------------------------------------------

long status_kib(const char* key) {
    std::FILE* f = std::fopen("/proc/self/status", "r");
    if (!f) return -1;
    char line[256];
    long kib = -1;
    std::size_t len = std::strlen(key);
    while (std::fgets(line, sizeof line, f))
        if (std::strncmp(line, key, len) == 0) kib = std::strtol(line + len, nullptr, 10);
    std::fclose(f);
    return kib;
}

// Resets VmHWM to the current VmRSS (Linux 4.0+); harmless if refused.
void reset_peak_rss() {
    if (std::FILE* f = std::fopen("/proc/self/clear_refs", "w")) {
        std::fputs("5", f);
        std::fclose(f);
    }
}

struct Memory {
    double heap_per_task = -1;  // (a): -1 if malloc was not wrapped
    double rss_per_task = -1;   // (b)
    std::size_t pool_blocks = 0;
};

// sleep_many once, on a loop that has never run: every pool, queue and heap grows here.
Memory sleeping_task_memory(std::uint64_t n) {
    auto loop = make_loop(std::make_unique<VirtualClock>());
    reset_peak_rss();
    long rss0 = status_kib("VmRSS:");
    std::uint64_t live0 = g_live, calls0 = g_calls;
    g_peak = g_live;
    Memory m;
    {
        std::vector<double> delays = make_delays(n);
        std::vector<Task<void>> tasks;
        tasks.reserve(n);
        PeakProbe probe;
        std::uint64_t awaited = loop->run_until_complete(sleep_all(&delays, tasks, &probe));
        check(awaited == n, "sleep_many: not every task was awaited");
        m.pool_blocks = probe.pool_blocks;
    }
    long hwm = status_kib("VmHWM:");
    auto per_task = [n](double bytes) { return bytes / static_cast<double>(n); };
    if (g_calls > calls0) m.heap_per_task = per_task(static_cast<double>(g_peak - live0));
    if (rss0 > 0 && hwm > 0) m.rss_per_task = per_task(static_cast<double>(hwm - rss0) * 1024);
    return m;
}

// The same in a forked child, so that this process's pool is left as it was: 100,000
// blocks freed in deadline order would leave its free lists in random address order,
// and spawn, run after it, measured 96 ns/op instead of 77 (cache misses).
Memory sleeping_task_memory_in_child(std::uint64_t n) {
    Memory m;
    int fds[2];
    if (pipe(fds) != 0) return m;
    std::fflush(nullptr);  // nothing buffered may be written twice
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        Memory child = sleeping_task_memory(n);
        bool ok = write(fds[1], &child, sizeof child) == static_cast<ssize_t>(sizeof child);
        _exit(ok ? 0 : 1);
    }
    close(fds[1]);
    Memory got;
    bool ok = pid > 0 && read(fds[0], &got, sizeof got) == static_cast<ssize_t>(sizeof got);
    close(fds[0]);
    int status = 0;
    if (pid > 0) waitpid(pid, &status, 0);
    check(ok && WIFEXITED(status) && WEXITSTATUS(status) == 0,
          "sleep_many: the memory probe failed");
    return got;
}

// ---- static sizes: where a sleeping task's bytes are --------------------------------

// The frame size the compiler asks for is seen only by the promise's operator new.
// These copies of sleeper() and nop() take an empty tag, which selects (through
// std::coroutine_traits) a promise that is Promise<void> with an operator new that
// records the size: same members, same frame layout. The empty tag takes no room (with
// GCC 12 a second tag leaves the size unchanged; an extra int adds 8 B).
struct FrameSizeTag {};
std::size_t g_frame_size = 0;

struct SizedPromise : detail::Promise<void> {
    SizedPromise() = default;
    static void* operator new(std::size_t size) {
        g_frame_size = size;
        return detail::frame_allocate(size);  // with the room in front (frame_room.hpp)
    }
};

}  // namespace

template <>
struct std::coroutine_traits<aio::Coro<void>, double, FrameSizeTag> {
    using promise_type = SizedPromise;
};
template <>
struct std::coroutine_traits<aio::Coro<void>, FrameSizeTag> {
    using promise_type = SizedPromise;
};

namespace {

Coro<void> sized_sleeper(double delay, FrameSizeTag) { co_await aio::sleep(delay); }
Coro<void> sized_nop(FrameSizeTag) { co_return; }

// Out of line: a caller that visibly destroys the frame lets Clang elide its allocation.
[[gnu::noinline]] std::size_t frame_size_of(Coro<void> coro) {
    coro.close();  // never started: destroyed on purpose, no warning
    return g_frame_size;
}

// The pool's block for an object of `size` bytes (64-byte classes up to 1 KiB).
std::size_t pool_block(std::size_t size) { return detail::pool_block_bytes(size); }

std::string static_sizes() {
    std::size_t task = sizeof(TaskBase);
    std::size_t room = detail::frame_room_now;
    std::size_t sleeper_frame = frame_size_of(sized_sleeper(1.0, FrameSizeTag{}));
    std::size_t nop_frame = frame_size_of(sized_nop(FrameSizeTag{}));
    char text[512];
    std::snprintf(
        text, sizeof text,
        "sizeof(TaskBase) %zu B, in the %zu-B room in front of its frame; sleeper(d)'s "
        "frame %zu B (room + frame: pool block %zu); nop()'s frame %zu B (pool block %zu); "
        "no timer handle (sleep parks the task's step); timer heap entry 24 B + its parked "
        "slot 12 B; malloc adds 8-16 B to each allocation",
        task, room, sleeper_frame, pool_block(room + sleeper_frame), nop_frame,
        pool_block(room + nop_frame));
    return text;
}

Memory g_memory;  // measure_memory_first()'s figures

// First, while no loop has run yet: the memory figures include every pool's growth.
void measure_memory_first(const Config& cfg) {
    g_memory = sleeping_task_memory_in_child(ops_or(cfg, 100000));
}

Outcome bench_sleep_many_with_memory(const Config& cfg) {
    const Memory& m = g_memory;
    Outcome o = bench_sleep_many(cfg);
    char json[256];
    std::snprintf(json, sizeof json,
                  "\"bytes_per_task_heap\": %.1f, \"bytes_per_task_rss\": %.1f, "
                  "\"budget_bytes\": %.0f, \"tasks\": %llu",
                  m.heap_per_task, m.rss_per_task, budget_bytes,
                  static_cast<unsigned long long>(ops_or(cfg, 100000)));
    o.memory_json = std::string(json) + ", \"memory_note\": \"" + static_sizes() + "\"";
    check(m.pool_blocks == ops_or(cfg, 100000), "sleep_many: not 1 pool block per task");
    return o;
}

constexpr Case cases[] = {
    {"spawn", bench_spawn},
    {"sleep0", bench_sleep0},
    {"sleep_many", bench_sleep_many_with_memory, measure_memory_first},
};

}  // namespace

int main(int argc, char** argv) {
    return aio::bench::run_cases(argc, argv, "bench_tasks", cases, {.size_flag = "--ops"});
}
