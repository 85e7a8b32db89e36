// scenarios_executor.cpp - run_in_executor and to_thread with their awaiting tasks
// cancelled at random moments, and whole loops created and closed with thread work,
// run_coroutine_threadsafe calls and sleeping tasks still in flight. Checks: each
// function runs at most once, a task that got a result got its own function's, every
// run ends (no hang), and every callable and frame is destroyed once its executor is
// joined (Probe).
#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "lesson02_coroutines/sleep.hpp"
#include "lesson03_tasks/tasks.hpp"
#include "lesson03_tasks/threads.hpp"
#include "tests/stress/threads/hammer.hpp"

namespace hammer {

namespace {

// What the worker runs: count the run, take a few microseconds, give 3 * i.
struct Work {
    std::atomic<int>* runs;
    int i;
    int micros;
    Probe probe;
    int operator()() const {
        ++*runs;
        if (micros > 0) std::this_thread::sleep_for(std::chrono::microseconds(micros));
        return 3 * i;
    }
};

aio::Coro<int> await_work(aio::Executor* executor, Work work, bool via_to_thread) {
    if (via_to_thread) co_return co_await aio::to_thread(work);
    aio::EventLoop& loop = aio::get_running_loop();
    co_return co_await aio::run_in_executor(loop, executor, work);
}

aio::Coro<void> cancel_at_random(std::vector<aio::Task<int>>* tasks, std::uint64_t seed,
                                 int cancels, int* done) {
    Rng rng(seed);
    for (int c = 0; c < cancels; ++c) {
        for (int y = rng.between(0, 6); y > 0; --y) co_await aio::sleep(0);
        aio::Task<int>& victim = (*tasks)[rng.between(0, static_cast<int>(tasks->size()) - 1)];
        *done += victim.cancel() ? 1 : 0;
    }
}

struct Spawned {
    std::vector<aio::Task<int>> tasks;
    std::vector<int> outcome;  // 3 * i, or -1: cancelled
};

aio::Coro<void> spawn_and_cancel(Round round, aio::Executor* executor, Spawned* s,
                                 std::atomic<int>* runs, int* cancelled) {
    Rng rng(round.seed + 2);
    int n = static_cast<int>(s->outcome.size());
    for (int i = 0; i < n; ++i) {
        Work work{&runs[i], i, rng.between(0, 100), Probe()};
        s->tasks.push_back(aio::create_task(await_work(executor, work, rng.chance(30))));
    }
    auto canceller =
        aio::create_task(cancel_at_random(&s->tasks, rng.next(), rng.between(0, n), cancelled));
    for (int i = 0; i < n; ++i) {
        try {
            s->outcome[i] = co_await s->tasks[i];
        } catch (const aio::CancelledError&) {
            s->outcome[i] = -1;
        }
    }
    co_await canceller;
}

}  // namespace

// Tasks await thread work (their own executor or the default one, through
// run_in_executor or to_thread) while another task cancels some at random moments.
void executor_cancelled_awaiters(const Round& round) {
    Rng rng(round.seed);
    int n = rng.between(1, 60);
    auto runs = std::make_unique<std::atomic<int>[]>(n);
    auto own = std::make_shared<aio::ThreadPoolExecutor>(rng.between(1, 4));
    aio::Executor* executor = rng.chance(50) ? own.get() : nullptr;
    Spawned s;
    s.outcome.assign(n, -2);
    int cancelled = 0;
    {
        aio::EventLoop loop(nullptr, std::make_unique<aio::VirtualClock>());
        loop.run_until_complete(spawn_and_cancel(round, executor, &s, runs.get(), &cancelled));
        loop.run_until_complete(aio::shutdown_default_executor(loop));
        s.tasks.clear();
        loop.close();
    }
    own->shutdown(true);
    for (int i = 0; i < n; ++i) {
        int r = runs[i].load();
        check(round, r <= 1, "work " + std::to_string(i) + " ran " + std::to_string(r) + " times");
        check(round, s.outcome[i] == -1 || (s.outcome[i] == 3 * i && r == 1),
              "task " + std::to_string(i) + " gave " + std::to_string(s.outcome[i]));
    }
    check(round, Probe::alive.load() == 0,
          std::to_string(Probe::alive.load()) + " work items never destroyed");
    operations(n);
    cancellations(cancelled);
}

namespace {

aio::Coro<int> sleeper(double seconds, Probe probe) {
    (void)probe;
    co_await aio::sleep(seconds);
    co_return 1;
}

// Another thread sends coroutines until the loop refuses; waits for none of them. After
// the first thousand it sends one per millisecond: a sender faster than the loop (the
// loop runs each one as a task, the sender only queues it; under ThreadSanitizer the
// gap is wide) would otherwise grow every turn's batch past the last, without bound.
void send_until_refused(aio::EventLoop& loop, std::vector<aio::ConcurrentFuture<int>>* sent) {
    for (int i = 0;; ++i) {
        try {
            sent->push_back(aio::run_coroutine_threadsafe(sleeper(0.001 * (i % 7), Probe()), loop));
        } catch (const aio::RuntimeError&) {
            return;
        }
        if (i >= 1000)
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        else if (i % 16 == 15)
            std::this_thread::yield();
    }
}

}  // namespace

// On a fresh thread: a loop gets thread work, sleeping tasks and coroutines from another
// thread, turns a few times, and is closed with all of it in flight.
void loops_created_and_closed(const Round& round) {
    Rng rng(round.seed);
    int n = rng.between(0, 30);
    int turns = rng.between(0, 20);
    auto runs = std::make_unique<std::atomic<int>[]>(n > 0 ? n : 1);
    auto executor = std::make_shared<aio::ThreadPoolExecutor>(rng.between(1, 3));
    std::vector<aio::ConcurrentFuture<int>> sent;
    std::thread owner([&, seed = rng.next()] {
        Rng mine(seed);
        aio::EventLoop loop(nullptr, std::make_unique<aio::VirtualClock>());
        aio::set_default_executor(loop, executor);
        for (int i = 0; i < n; ++i) {
            Work work{&runs[i], i, mine.between(0, 200), Probe()};
            aio::create_task(loop, await_work(nullptr, work, false));
            aio::create_task(loop, sleeper(mine.between(0, 5) * 0.01, Probe()));
        }
        std::thread sender([&loop, &sent] { send_until_refused(loop, &sent); });
        for (int t = 0; t < turns; ++t) {
            loop.call_soon([] {});  // never block: a turn is one pass over what is ready
            loop.run_once();
        }
        loop.close();
        sender.join();
    });
    owner.join();
    executor->shutdown(true);
    int broken = 0;
    for (aio::ConcurrentFuture<int>& f : sent) {
        try {
            check(round, f.result(std::chrono::duration<double>(hang_limit).count()) == 1,
                  "a sleeper gave a wrong value");
        } catch (const aio::TimeoutError&) {
            check(round, false, "a run_coroutine_threadsafe future hangs after its loop closed");
        } catch (const aio::CancelledError&) {
            ++broken;  // the loop closed before its task finished
        }
    }
    for (int i = 0; i < n; ++i)
        check(round, runs[i].load() <= 1, "work " + std::to_string(i) + " ran more than once");
    check(round, Probe::alive.load() == 0,
          std::to_string(Probe::alive.load()) + " callables or frames never destroyed");
    operations(2 * n + static_cast<int>(sent.size()));
    cancellations(broken);
}

}  // namespace hammer
