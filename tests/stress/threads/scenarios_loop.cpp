// scenarios_loop.cpp - lesson 1's one thread-safe door, hammered: many threads calling
// call_soon_threadsafe on one running loop (each callback runs once, in its thread's
// order), HandleRef.cancel() from the creating thread between runs of the loop, and
// the loop closed while threads are still calling (what ran is a prefix of what each
// thread queued, the rest is destroyed unrun, a HandleRef stays usable after close).
#include <algorithm>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "lesson01_loop/exceptions.hpp"
#include "tests/stress/threads/hammer.hpp"

namespace hammer {

namespace {

// `ran` holds, per producer, the sequence numbers of its callbacks in the order the
// loop ran them: a prefix of 0, 1, 2, ... when nothing was cancelled.
bool is_prefix_in_order(const std::vector<int>& ran, int queued) {
    if (static_cast<int>(ran.size()) > queued) return false;
    for (std::size_t i = 0; i < ran.size(); ++i)
        if (ran[i] != static_cast<int>(i)) return false;
    return true;
}

std::string producer(int p) { return "producer " + std::to_string(p); }

}  // namespace

// Producers queue callbacks as fast as they can while the loop runs them.
void call_soon_threadsafe_fifo(const Round& round) {
    Rng rng(round.seed);
    int producers = rng.between(2, 6);
    std::vector<int> counts;
    for (int p = 0; p < producers; ++p) counts.push_back(rng.between(1, 800));
    std::vector<std::vector<int>> ran(producers);  // the loop thread's until joined
    {
        LoopThread lt;
        std::vector<std::thread> threads;
        for (int p = 0; p < producers; ++p)
            threads.emplace_back([&, p, seed = rng.next()] {
                Rng mine(seed);
                for (int i = 0; i < counts[p]; ++i) {
                    lt.loop().call_soon_threadsafe([&ran, p, i] { ran[p].push_back(i); });
                    if (mine.chance(2)) std::this_thread::yield();
                }
            });
        for (std::thread& t : threads) t.join();
        lt.stop_and_join();  // after every producer's last callback: all have run
    }
    for (int p = 0; p < producers; ++p) {
        operations(counts[p]);
        check(round,
              static_cast<int>(ran[p].size()) == counts[p] && is_prefix_in_order(ran[p], counts[p]),
              producer(p) + ": " + std::to_string(counts[p]) + " callbacks queued, " +
                  std::to_string(ran[p].size()) + " ran, each once and in order expected");
    }
}

// Producers queue callbacks and keep their HandleRefs; the loop is stopped at a random
// moment, and while it is not running (no race with it) the producers cancel some. A
// cancelled callback that had not run never runs; every other one runs exactly once;
// cancel() on one that ran (its handle maybe recycled for another callback) does nothing.
void handle_cancel_racing(const Round& round) {
    Rng rng(round.seed);
    int producers = rng.between(2, 4);
    int per_producer = rng.between(10, 400);
    int cancel_percent = rng.between(5, 60);
    int stop_after = rng.between(0, producers * per_producer);
    int n = producers * per_producer;
    auto runs = std::make_unique<std::atomic<int>[]>(n);
    std::atomic<int> total{0};
    std::vector<std::vector<aio::HandleRef>> refs(producers);
    LoopThread lt;
    std::vector<std::thread> threads;
    for (int p = 0; p < producers; ++p)
        threads.emplace_back([&, p] {
            for (int i = 0; i < per_producer; ++i) {
                std::atomic<int>* mine = &runs[p * per_producer + i];
                refs[p].push_back(lt.loop().call_soon_threadsafe([mine, &total] {
                    ++*mine;
                    ++total;
                }));
            }
        });
    while (total.load() < stop_after) std::this_thread::yield();
    lt.stop_and_join();  // some callbacks ran, others wait in the queue
    for (std::thread& t : threads) t.join();
    std::vector<int> ran_before(n);
    for (int k = 0; k < n; ++k) ran_before[k] = runs[k].load();
    std::vector<std::vector<int>> to_cancel(producers);
    for (int p = 0; p < producers; ++p)
        for (int i = 0; i < per_producer; ++i)
            if (rng.chance(cancel_percent)) to_cancel[p].push_back(i);
    threads.clear();
    for (int p = 0; p < producers; ++p)
        threads.emplace_back([&, p] {
            for (int i : to_cancel[p]) refs[p][i].cancel();  // from the creating thread
        });
    for (std::thread& t : threads) t.join();
    aio::EventLoop& loop = lt.loop();
    loop.call_soon([&loop] { loop.stop(); });
    loop.run_forever();  // what is still queued runs now, on this thread
    int cancelled = 0;
    for (int p = 0; p < producers; ++p) {
        for (int i = 0; i < per_producer; ++i) {
            int k = p * per_producer + i;
            bool was_cancelled = std::binary_search(to_cancel[p].begin(), to_cancel[p].end(), i);
            int expected = was_cancelled ? ran_before[k] : 1;
            cancelled += was_cancelled && ran_before[k] == 0;
            check(round, runs[k].load() == expected,
                  producer(p) + " callback " + std::to_string(i) + " ran " +
                      std::to_string(runs[k].load()) + " times, expected " +
                      std::to_string(expected) + (was_cancelled ? " (cancelled)" : ""));
        }
    }
    loop.close();
    operations(n);
    cancellations(cancelled);
}

// Outside the loop's contract (only call_soon_threadsafe may be called from another
// thread), so not in the random mix: producers cancel their HandleRefs while the loop
// runs them, as asyncio code does relying on the GIL. Each callback must run at most
// once; ThreadSanitizer reports whether cancel() races with the loop.
void handle_cancel_direct(const Round& round) {
    Rng rng(round.seed);
    int producers = rng.between(1, 4);
    int per_producer = rng.between(10, 400);
    int n = producers * per_producer;
    auto runs = std::make_unique<std::atomic<int>[]>(n);
    {
        LoopThread lt;
        std::vector<std::thread> threads;
        for (int p = 0; p < producers; ++p)
            threads.emplace_back([&, p, seed = rng.next()] {
                Rng mine(seed);
                for (int i = 0; i < per_producer; ++i) {
                    std::atomic<int>* mine_runs = &runs[p * per_producer + i];
                    aio::HandleRef ref =
                        lt.loop().call_soon_threadsafe([mine_runs] { ++*mine_runs; });
                    if (mine.chance(50)) ref.cancel();  // races the loop running it
                }
            });
        for (std::thread& t : threads) t.join();
        lt.stop_and_join();
        lt.loop().close();
    }
    for (int k = 0; k < n; ++k)
        check(
            round, runs[k].load() <= 1,
            "callback " + std::to_string(k) + " ran " + std::to_string(runs[k].load()) + " times");
    operations(n);
}

// Producers keep queueing while the loop is stopped and closed under them. Each call
// either queues (and the callback runs once or is destroyed unrun) or throws "Event
// loop is closed"; what ran of each producer is a prefix of what it queued; once close()
// has returned, cancel() on every HandleRef it got is harmless. (Not before: a thread
// refused by a closing loop that cancels its HandleRefs at once races close()'s own
// teardown of the queued handles: ThreadSanitizer reports it, see the report.)
void loop_closing_over_callbacks(const Round& round) {
    Rng rng(round.seed);
    int producers = rng.between(1, 5);
    int close_after = rng.between(0, 2000);  // callbacks run before the close, roughly
    std::vector<std::vector<int>> ran(producers);
    std::vector<int> queued(producers, 0);
    std::atomic<int> total_ran{0};
    std::atomic<bool> close_returned{false};
    auto lt = std::make_unique<LoopThread>();
    aio::EventLoop& loop = lt->loop();
    std::vector<std::thread> threads;
    for (int p = 0; p < producers; ++p)
        threads.emplace_back([&, p] {
            std::vector<aio::HandleRef> refs;
            for (int i = 0;; ++i) {
                try {
                    refs.push_back(loop.call_soon_threadsafe([&, p, i, probe = Probe()] {
                        ran[p].push_back(i);
                        ++total_ran;
                    }));
                } catch (const aio::RuntimeError& e) {
                    check(round, std::string(e.what()) == "Event loop is closed",
                          producer(p) + ": call_soon_threadsafe threw: " + e.what());
                    break;
                }
                ++queued[p];
            }
            while (!close_returned.load()) std::this_thread::yield();
            for (aio::HandleRef& ref : refs) ref.cancel();  // after close: nothing to do
        });
    while (total_ran.load() < close_after) std::this_thread::yield();
    lt->stop_and_join();
    loop.close();
    close_returned = true;
    for (std::thread& t : threads) t.join();
    lt.reset();
    check(round, Probe::alive.load() == 0,
          std::to_string(Probe::alive.load()) + " callbacks never destroyed after close");
    for (int p = 0; p < producers; ++p) {
        operations(queued[p]);
        cancellations(queued[p] - static_cast<int>(ran[p].size()));
        check(round, is_prefix_in_order(ran[p], queued[p]),
              producer(p) + ": what ran is not a prefix, in order, of the " +
                  std::to_string(queued[p]) + " callbacks queued");
    }
}

}  // namespace hammer
