// bench_floor.cpp - the physical floor under bench_tasks' spawn and sleep0: the bare
// mechanism with no asyncio semantics, so every run shows how far the real thing is
// from what this machine can do at that moment (issue 13's "floor row").
//
// Plain C++20, no aio header in the mechanism (bench_util.hpp is only the harness):
// - the ready queue is a ring of coroutine handles (a power-of-two array, head/tail);
// - a task IS its coroutine frame, allocated from a size-class free list (16-B classes);
// - awaiting a task parks the awaiter's handle in the task's promise; the task's final
//   suspend pushes it on the ring. No futures, no cancellation, no names, no exceptions.
// Cases (the same names, ops and batches as bench_tasks):
//   spawn   spawn(nop()) x10,000, then co_await each; one op = one task
//   sleep0  co_await yield0() in one task: the handle goes round the ring; one op = one switch
#include <coroutine>
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <vector>

#include "bench/bench_util.hpp"

namespace floor_ {

struct Ring {  // the ready queue: handles only, grows by doubling (never in steady state)
    std::vector<std::coroutine_handle<>> slots = std::vector<std::coroutine_handle<>>(1024);
    std::size_t head = 0, tail = 0;
    void push(std::coroutine_handle<> h) {
        if (tail - head == slots.size()) grow();
        slots[tail++ & (slots.size() - 1)] = h;
    }
    void grow() {
        std::vector<std::coroutine_handle<>> bigger(slots.size() * 2);
        for (std::size_t i = head; i != tail; ++i) bigger[i - head] = slots[i & (slots.size() - 1)];
        tail -= head, head = 0, slots.swap(bigger);
    }
    void run() {  // the whole loop: pop and resume until empty
        while (head != tail) slots[head++ & (slots.size() - 1)].resume();
    }
};
inline Ring ring;

struct Pool {  // size classes of 16 B; a block is never returned to malloc
    void* heads[64] = {};
    void* take(std::size_t n) {
        std::size_t c = (n + 15) / 16;
        if (c >= 64) return std::malloc(n);
        if (void* p = heads[c]) return heads[c] = *static_cast<void**>(p), p;
        return std::malloc(c * 16);
    }
    void give(void* p, std::size_t n) {
        std::size_t c = (n + 15) / 16;
        if (c >= 64) return std::free(p);
        *static_cast<void**>(p) = heads[c], heads[c] = p;
    }
};
inline Pool pool;

struct Task {  // the task is its frame: the handle is the whole object
    struct promise_type {
        std::coroutine_handle<> waiter;  // who co_awaits this task
        bool done = false;
        static void* operator new(std::size_t n) { return pool.take(n); }
        static void operator delete(void* p, std::size_t n) { pool.give(p, n); }
        Task get_return_object() {
            return {std::coroutine_handle<promise_type>::from_promise(*this)};
        }
        std::suspend_always initial_suspend() noexcept { return {}; }
        auto final_suspend() noexcept {
            struct Wake {  // on completion the awaiter's handle goes on the ring
                bool await_ready() noexcept { return false; }
                void await_suspend(std::coroutine_handle<promise_type> h) noexcept {
                    h.promise().done = true;
                    if (h.promise().waiter) ring.push(h.promise().waiter);
                }
                void await_resume() noexcept {}
            };
            return Wake{};
        }
        void return_void() {}
        void unhandled_exception() { std::terminate(); }
    };
    std::coroutine_handle<promise_type> h;
    bool await_ready() const noexcept { return h.promise().done; }
    void await_suspend(std::coroutine_handle<> w) noexcept { h.promise().waiter = w; }
    void await_resume() const noexcept {}
};

Task spawn(Task t) {  // schedule its first step; the caller keeps the handle
    ring.push(t.h);
    return t;
}

struct Yield0 {  // sleep(0): back on the ring, behind whatever is ready
    bool await_ready() noexcept { return false; }
    void await_suspend(std::coroutine_handle<> h) noexcept { ring.push(h); }
    void await_resume() noexcept {}
};

Task nop() { co_return; }

Task spawn_batches(std::uint64_t n, std::uint64_t batch, std::vector<Task>* tasks) {
    for (std::uint64_t b = 0; b < n / batch; ++b) {
        for (std::uint64_t i = 0; i < batch; ++i) tasks->push_back(spawn(nop()));
        for (Task& t : *tasks) {
            co_await t;
            t.h.destroy();
        }
        tasks->clear();
    }
}

Task sleep0s(std::uint64_t n, std::uint64_t* done) {
    for (std::uint64_t i = 0; i < n; ++i) co_await Yield0{};
    *done = n;
}

void run_top(Task top) {  // run_until_complete: schedule, drain the ring, free the frame
    ring.push(top.h);
    ring.run();
    top.h.destroy();
}

}  // namespace floor_

namespace {

using namespace aio::bench;

std::uint64_t ops_or(const Config& cfg, std::uint64_t fallback) {
    return cfg.size ? cfg.size : cfg.quick ? fallback / 100 : fallback;
}

Outcome bench_spawn(const Config& cfg) {
    std::uint64_t batch = 10000, n = ops_or(cfg, 1000000);
    batch = std::min(batch, n), n = n / batch * batch;
    std::vector<floor_::Task> tasks;
    tasks.reserve(batch);
    return measure("spawn", "floor: a frame from a 16-B size class, its handle on a ring", n,
                   cfg.reps, [&] { floor_::run_top(floor_::spawn_batches(n, batch, &tasks)); });
}

Outcome bench_sleep0(const Config& cfg) {
    std::uint64_t n = ops_or(cfg, 1000000), done = 0;
    Outcome o = measure("sleep0", "floor: the handle pushed on the ring and popped", n, cfg.reps,
                        [&] { floor_::run_top(floor_::sleep0s(n, &done)); });
    check(done == n, "sleep0: not every yield ran");
    return o;
}

constexpr Case cases[] = {{"spawn", bench_spawn}, {"sleep0", bench_sleep0}};

}  // namespace

int main(int argc, char** argv) {
    Options options;
    options.size_flag = "--ops";
    return run_cases(argc, argv, "bench_floor", cases, options);
}
