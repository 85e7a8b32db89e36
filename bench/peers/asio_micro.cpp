// Copied from the project's shared bench harness (bench_peers/src/asio_micro.cpp), 2026-12-04;
// reformatted with the repo's .clang-format (bench/ is linted), otherwise unchanged.
// Built by bench/meson.build when standalone Asio (libasio-dev 1.22) is installed; run by
// bench/peers/asio_peer.py, which turns its one JSON line per run into report.py's rows.
// asio_micro.cpp - Asio (standalone 1.22, C++20 coroutines) equivalents of the
// asyncio task-level microbenchmarks. Single io_context, single thread.
//   spawn      : co_spawn N trivial coroutines in batches of 10k, wait for each batch
//   queue      : N ping-pong round trips between two coroutines through two
//                experimental::channel<void(error_code,int)> of capacity 1
//   sleep_many : N coroutines each waiting on a steady_timer of random 0..1 s
//   sleep0     : N x co_await asio::post(ex)  (yield to the scheduler)
//   lock       : T coroutines x I acquire/release of a channel used as a mutex
//                (capacity-1 channel: send = acquire, try_receive = release),
//                holding it across one post() yield, like the asyncio variant
// Output: one JSON line like micro.py.
// usage: asio_micro BENCH [N]
#include <asio.hpp>
#include <asio/experimental/channel.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <string>
#include <vector>

using asio::awaitable;
using asio::use_awaitable;
using clk = std::chrono::steady_clock;

static long rss_kib(const char* key) {
    std::ifstream f("/proc/self/status");
    std::string line;
    while (std::getline(f, line))
        if (line.rfind(key, 0) == 0) return std::atol(line.c_str() + std::strlen(key));
    return -1;
}

struct Waiter {  // "gather": the last child cancels the parent's timer
    asio::steady_timer t;
    long remaining = 0;
    explicit Waiter(asio::any_io_executor ex) : t(ex, clk::time_point::max()) {}
    void done() {
        if (--remaining == 0) t.cancel();
    }
    awaitable<void> wait() {
        while (remaining > 0) {
            asio::error_code ec;
            co_await t.async_wait(asio::redirect_error(use_awaitable, ec));
        }
    }
};

static awaitable<void> nop(Waiter* w) {
    w->done();
    co_return;
}

static awaitable<void> b_spawn(long n) {
    auto ex = co_await asio::this_coro::executor;
    const long B = 10000;
    for (long i = 0; i < n / B; i++) {
        Waiter w(ex);
        w.remaining = B;
        for (long j = 0; j < B; j++) asio::co_spawn(ex, nop(&w), asio::detached);
        co_await w.wait();
    }
}

using chan_t = asio::experimental::channel<void(asio::error_code, long)>;

static awaitable<void> b_queue(long n) {
    auto ex = co_await asio::this_coro::executor;
    chan_t q1(ex, 1), q2(ex, 1);
    Waiter w(ex);
    w.remaining = 2;
    auto ping = [&]() -> awaitable<void> {
        for (long i = 0; i < n; i++) {
            co_await q1.async_send(asio::error_code{}, i, use_awaitable);
            co_await q2.async_receive(use_awaitable);
        }
        w.done();
    };
    auto pong = [&]() -> awaitable<void> {
        for (long i = 0; i < n; i++) {
            long v = co_await q1.async_receive(use_awaitable);
            co_await q2.async_send(asio::error_code{}, v, use_awaitable);
        }
        w.done();
    };
    asio::co_spawn(ex, ping(), asio::detached);
    asio::co_spawn(ex, pong(), asio::detached);
    co_await w.wait();
}

static awaitable<void> sleeper(double d, Waiter* w) {
    asio::steady_timer t(
        co_await asio::this_coro::executor,
        std::chrono::duration_cast<clk::duration>(std::chrono::duration<double>(d)));
    co_await t.async_wait(use_awaitable);
    w->done();
}

static double g_max_delay = 0;
static awaitable<void> b_sleep_many(long n) {
    auto ex = co_await asio::this_coro::executor;
    std::mt19937_64 rng(42);
    std::uniform_real_distribution<double> U(0.0, 1.0);
    Waiter w(ex);
    w.remaining = n;
    for (long i = 0; i < n; i++) {
        double d = U(rng);
        if (d > g_max_delay) g_max_delay = d;
        asio::co_spawn(ex, sleeper(d, &w), asio::detached);
    }
    co_await w.wait();
}

static awaitable<void> b_sleep0(long n) {
    auto ex = co_await asio::this_coro::executor;
    for (long i = 0; i < n; i++) co_await asio::post(ex, use_awaitable);
}

// (Asio 1.22 cannot instantiate channel<void(error_code)>, so a dummy long rides along)
using mutex_chan_t = chan_t;
static awaitable<void> locker(mutex_chan_t* m, long iters, Waiter* w) {
    auto ex = co_await asio::this_coro::executor;
    for (long i = 0; i < iters; i++) {
        co_await m->async_send(asio::error_code{}, 0L, use_awaitable);  // acquire
        co_await asio::post(ex, use_awaitable);                         // yield while holding
        m->try_receive([](asio::error_code, long) {});                  // release
    }
    w->done();
}
static awaitable<void> b_lock(long tasks, long iters) {
    auto ex = co_await asio::this_coro::executor;
    mutex_chan_t m(ex, 1);
    Waiter w(ex);
    w.remaining = tasks;
    for (long i = 0; i < tasks; i++) asio::co_spawn(ex, locker(&m, iters, &w), asio::detached);
    co_await w.wait();
}

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: %s spawn|queue|sleep_many|sleep0|lock [N]\n", argv[0]);
        return 2;
    }
    std::string b = argv[1];
    long n = argc > 2 ? std::atol(argv[2]) : 0;
    asio::io_context ctx(1);
    long ops = 0;
    long base = rss_kib("VmRSS:");
    auto t0 = clk::now();
    if (b == "spawn") {
        ops = n ? n : 1000000;
        asio::co_spawn(ctx, b_spawn(ops), asio::detached);
    } else if (b == "queue") {
        ops = n ? n : 1000000;
        asio::co_spawn(ctx, b_queue(ops), asio::detached);
    } else if (b == "sleep_many") {
        ops = n ? n : 100000;
        asio::co_spawn(ctx, b_sleep_many(ops), asio::detached);
    } else if (b == "sleep0") {
        ops = n ? n : 1000000;
        asio::co_spawn(ctx, b_sleep0(ops), asio::detached);
    } else if (b == "lock") {
        ops = 1000L * (n ? n : 1000);
        asio::co_spawn(ctx, b_lock(1000, n ? n : 1000), asio::detached);
    } else {
        std::fprintf(stderr, "unknown bench %s\n", b.c_str());
        return 2;
    }
    ctx.run();
    double wall = std::chrono::duration<double>(clk::now() - t0).count();
    std::printf(
        "{\"impl\": \"asio-cpp20\", \"bench\": \"%s\", \"ops\": %ld, \"wall_s\": %.6f, "
        "\"ns_per_op\": %.1f, "
        "\"base_rss_kib\": %ld, \"hwm_kib\": %ld, \"max_delay_s\": %.6f}\n",
        b.c_str(), ops, wall, wall * 1e9 / (double)ops, base, rss_kib("VmHWM:"), g_max_delay);
}
