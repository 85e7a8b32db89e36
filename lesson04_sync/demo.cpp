// demo.cpp - lesson 4's tour: the tutorials' examples of each primitive, ported.
//
//  1. Lock (tutorial 004): three tasks append to one list under `async with lock`; task 1
//     asks again the moment it releases, and parks behind the others (no barging).
//  2. Semaphore(3) over sleeps [1, 2, 3, 2, 3] (tutorial 003): tasks 4 and 5 start the
//     moment a permit is released; everything takes 5.00 s.
//  3. Event (tutorial 004): three waiters, one set() wakes them all, in the order they
//     began waiting.
//  4. Condition (tutorial 004): a producer appends and notify()s, two consumers
//     wait_for() a non-empty list; notify_all() ends them.
//  5. Queue(maxsize=5) (tutorials 000 and 004): the consumers are slower than the
//     producer, so the queue fills and put() waits for a free slot; task_done() and
//     join(), then the consumers are cancelled.
// Each part is its own program, run by aio::run (asyncio.run) on a fresh loop, and prints
// times from its own start. Time is virtual (instant, exact) unless you run it with
// AIO_CLOCK=monotonic.
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <string>
#include <vector>

#include "lesson02_coroutines/sleep.hpp"
#include "lesson03_tasks/gather.hpp"
#include "lesson03_tasks/runners.hpp"
#include "lesson03_tasks/tasks.hpp"
#include "lesson04_sync/locks.hpp"
#include "lesson04_sync/queues.hpp"

namespace {

double part_start = 0;
double now() { return aio::get_running_loop().time() - part_start; }
void start_clock() { part_start = aio::get_running_loop().time(); }

// ---- 1. Lock ---------------------------------------------------------------------------

// Python: `async with lock: shared.append(value); await asyncio.sleep(0.1)`.
aio::Coro<void> safe_append(aio::Lock& lock, std::vector<int>& shared, int task, int value) {
    std::printf("  [%.2f] task %d asks for the lock (locked() %s, waiters %zu)\n", now(), task,
                lock.locked() ? "true" : "false", lock.waiter_count());
    aio::LockGuard held = co_await lock.guard();
    std::printf("  [%.2f] task %d holds it, appends %d\n", now(), task, value);
    shared.push_back(value);
    co_await aio::sleep(0.1);
    held.release();  // what leaving the block does; done here to print the state after it
    std::printf("  [%.2f] task %d released it\n", now(), task);
}

// Task 1 appends twice: its second acquire comes in the same step as its release.
aio::Coro<void> greedy(aio::Lock& lock, std::vector<int>& shared) {
    co_await safe_append(lock, shared, 1, 1);
    co_await safe_append(lock, shared, 1, 4);
}

aio::Coro<void> lock_part() {
    start_clock();
    aio::Lock lock;
    std::vector<int> shared;
    co_await aio::gather(greedy(lock, shared), safe_append(lock, shared, 2, 2),
                         safe_append(lock, shared, 3, 3));
    std::printf("  [%.2f] result: [%d, %d, %d, %d]\n", now(), shared[0], shared[1], shared[2],
                shared[3]);
}

// ---- 2. Semaphore ----------------------------------------------------------------------

// Python: `async with sem: await my_coroutine(task_id, sleep_time)`.
aio::Coro<void> sem_coroutine(aio::Semaphore& sem, int task_id, double seconds) {
    aio::SemaphoreGuard permit = co_await sem.guard();
    std::printf("  [%.2f] Task %d starts, sleeping %.0f s (free permits: %d)\n", now(), task_id,
                seconds, sem.value());
    co_await aio::sleep(seconds);
    permit.release();
    std::printf("  [%.2f] Task %d ends (free permits: %d)\n", now(), task_id, sem.value());
}

aio::Coro<void> semaphore_part() {
    start_clock();
    aio::Semaphore sem(3);
    std::vector<aio::Coro<void>> coros;
    const double sleeps[] = {1, 2, 3, 2, 3};
    for (int i = 0; i < 5; ++i) coros.push_back(sem_coroutine(sem, i + 1, sleeps[i]));
    co_await aio::gather(std::move(coros));
    std::printf("  processing time: %.2f\n", now());
}

// ---- 3. Event --------------------------------------------------------------------------

aio::Coro<void> event_waiter(aio::Event& event, std::string name) {
    std::printf("  [%.2f] %s waits for the event\n", now(), name.c_str());
    co_await event.wait();
    std::printf("  [%.2f] %s: the event is set\n", now(), name.c_str());
}

aio::Coro<void> event_setter(aio::Event& event) {
    co_await aio::sleep(2);
    std::printf("  [%.2f] setter: set(), %zu waiting\n", now(), event.waiter_count());
    event.set();
    co_await event.wait();  // set: returns at once, without suspending
    std::printf("  [%.2f] setter: wait() after set() returns at once\n", now());
}

aio::Coro<void> event_part() {
    start_clock();
    aio::Event event;
    co_await aio::gather(event_waiter(event, "A"), event_waiter(event, "B"),
                         event_waiter(event, "C"), event_setter(event));
}

// ---- 4. Condition ----------------------------------------------------------------------

struct Shelf {
    aio::Condition cond;
    std::deque<int> items;
    bool done = false;
};

aio::Coro<void> cond_producer(Shelf& shelf) {
    for (int i = 0; i < 5; ++i) {
        {
            aio::LockGuard held = co_await shelf.cond.guard();  // async with cond:
            shelf.items.push_back(i);
            std::printf("  [%.2f] producer: %d, notify()\n", now(), i);
            shelf.cond.notify();
        }
        co_await aio::sleep(0.5);
    }
    aio::LockGuard held = co_await shelf.cond.guard();
    shelf.done = true;
    std::printf("  [%.2f] producer: done, notify_all()\n", now());
    shelf.cond.notify_all();
}

aio::Coro<void> cond_consumer(Shelf& shelf, int id) {
    for (;;) {
        aio::LockGuard held = co_await shelf.cond.guard();  // async with cond:
        if (shelf.items.empty() && !shelf.done)
            std::printf("  [%.2f] consumer %d waits\n", now(), id);
        co_await shelf.cond.wait_for([&shelf] { return !shelf.items.empty() || shelf.done; });
        if (shelf.items.empty()) {
            std::printf("  [%.2f] consumer %d: done\n", now(), id);
            co_return;
        }
        std::printf("  [%.2f] consumer %d takes %d\n", now(), id, shelf.items.front());
        shelf.items.pop_front();
    }
}

aio::Coro<void> condition_part() {
    start_clock();
    Shelf shelf;
    aio::Task<void> c1 = aio::create_task(cond_consumer(shelf, 1));
    aio::Task<void> c2 = aio::create_task(cond_consumer(shelf, 2));
    co_await cond_producer(shelf);
    co_await c1;
    co_await c2;
}

// ---- 5. Queue --------------------------------------------------------------------------

aio::Coro<void> producer(aio::Queue<int>& queue) {
    for (int i = 0; i < 10; ++i) {
        if (queue.full()) {
            std::printf("  [%.2f] put %d waits: queue full\n", now(), i);
            co_await queue.put(i);
            std::printf("  [%.2f] put %d got through (queued: %zu)\n", now(), i, queue.qsize());
        } else {
            co_await queue.put(i);
            std::printf("  [%.2f] produced %d (queued: %zu)\n", now(), i, queue.qsize());
        }
        co_await aio::sleep(0.1);
    }
}

aio::Coro<void> consumer(aio::Queue<int>& queue, int id, double seconds) {
    for (;;) {
        int item = co_await queue.get();  // where the cancel at the end lands
        std::printf("  [%.2f] consumer %d handles %d (queued: %zu)\n", now(), id, item,
                    queue.qsize());
        co_await aio::sleep(seconds);
        queue.task_done();
    }
}

aio::Coro<void> queue_part() {
    start_clock();
    aio::Queue<int> queue(5);
    std::vector<aio::Task<void>> consumers;
    const double seconds[] = {1.0, 1.5, 2.0};  // per item: slower than the producer
    for (int id = 1; id <= 3; ++id)
        consumers.push_back(aio::create_task(consumer(queue, id, seconds[id - 1])));
    co_await producer(queue);
    co_await queue.join();  // every item put has been task_done()'d
    std::printf("  [%.2f] join() returned: all 10 items handled\n", now());
    for (aio::Task<void>& c : consumers) c.cancel();
    for (aio::Task<void>& c : consumers) {
        try {
            co_await c;
        } catch (const aio::CancelledError&) {
        }
    }
    std::printf("  [%.2f] consumers cancelled: %s\n", now(),
                consumers[0].cancelled() ? "yes" : "no");
}

void heading(const char* title, const char* watch) {
    std::printf("%s\n  watch: %s\n", title, watch);
}

}  // namespace

int main() {
    ::setenv("AIO_CLOCK", "virtual", /*overwrite=*/0);

    heading("1. Lock: three tasks append under `async with lock` (tutorial 004)",
            "task 1 releases at 0.10 and asks again in the same step: locked() is false, yet "
            "it parks, because task 2 was already woken; it gets the lock last, at 0.30");
    aio::run(lock_part());

    heading("2. Semaphore(3) over sleeps [1, 2, 3, 2, 3] (tutorial 003)",
            "task 4 starts at 1.00 and task 5 at 2.00, the moments tasks 1 and 2 release: "
            "the permit goes straight to the first waiter (free permits stays 0)");
    aio::run(semaphore_part());

    heading("3. Event: three waiters, one set() (tutorial 004)",
            "one set() at 2.00 wakes A, B and C, in the order they began waiting; the "
            "setter goes on first, since a woken task runs in a later step");
    aio::run(event_part());

    heading("4. Condition: a producer notify()s, consumers wait_for() an item (tutorial 004)",
            "item 0 is taken at once (nobody waits yet); then each notify() wakes the "
            "consumer waiting longest, so items 1-4 go to consumers 1, 2, 1, 2; notify_all() "
            "at 2.50 wakes both, and wait_for() returns because done is set");
    aio::run(condition_part());

    heading("5. Queue(maxsize=5): a producer faster than its consumers (tutorials 000, 004)",
            "the queue fills (queued: 5) at 0.70; put 8 waits at 0.80 and gets through at "
            "1.00, right after consumer 1 takes item 3: that get() frees a slot and wakes "
            "the parked put");
    aio::run(queue_part());
    return 0;
}
