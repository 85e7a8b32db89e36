// demo.cpp - lesson 4's tour: the tutorials' examples, ported.
//
//  1. Producer/consumer (tutorials 000 and 004): a producer puts 10 items into a
//     Queue(maxsize=5), three consumers take them, each calling task_done(); join()
//     returns once every item was handled, then the consumers are cancelled.
//  2. Limiting concurrency (tutorial 003): Semaphore(3) over sleeps [1, 2, 3, 2, 3].
//     Tasks 4 and 5 start the moment a permit comes free; everything takes 5.00 s.
// Time is virtual (instant, exact) unless you run it with AIO_CLOCK=monotonic.
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "lesson01_loop/events.hpp"
#include "lesson02_coroutines/sleep.hpp"
#include "lesson03_tasks/tasks.hpp"
#include "lesson04_sync/locks.hpp"
#include "lesson04_sync/queues.hpp"

namespace {

double part_start = 0;  // each part prints times relative to its start
double now() { return aio::get_running_loop().time() - part_start; }

// ---- 1. producer / consumer ------------------------------------------------------------

aio::Coro<void> producer(aio::Queue<int>& queue) {
    for (int i = 0; i < 10; ++i) {
        co_await queue.put(i);  // waits while 5 items are queued
        std::printf("  [%.2f] produced %d (queued: %zu)\n", now(), i, queue.qsize());
        co_await aio::sleep(0.1);
    }
}

aio::Coro<void> consumer(aio::Queue<int>& queue, int id) {
    for (;;) {
        int item = co_await queue.get();  // where the cancel at the end lands
        std::printf("  [%.2f] consumer %d handles %d\n", now(), id, item);
        co_await aio::sleep(0.3);
        queue.task_done();
    }
}

aio::Coro<void> producer_consumer() {
    aio::Queue<int> queue(5);
    std::vector<aio::Task<void>> consumers;
    for (int id = 1; id <= 3; ++id) consumers.push_back(aio::create_task(consumer(queue, id)));
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

// ---- 2. limiting concurrency -------------------------------------------------------------

aio::Coro<void> my_coroutine(int task_id, double seconds) {
    std::printf("  [%.2f] Task %d starts, sleeping %.0f s\n", now(), task_id, seconds);
    co_await aio::sleep(seconds);
    std::printf("  [%.2f] Task %d ends\n", now(), task_id);
}

// Python: `async with sem: await my_coroutine(task_id, sleep_time)`.
aio::Coro<void> sem_coroutine(aio::Semaphore& sem, int task_id, double seconds) {
    aio::SemaphoreGuard permit = co_await sem.guard();
    co_await my_coroutine(task_id, seconds);
}  // ~permit: released here

aio::Coro<void> limited() {
    aio::Semaphore sem(3);
    const double sleeps[] = {1, 2, 3, 2, 3};
    std::vector<aio::Task<void>> tasks;
    for (int i = 0; i < 5; ++i)
        tasks.push_back(aio::create_task(sem_coroutine(sem, i + 1, sleeps[i])));
    for (aio::Task<void>& t : tasks) co_await t;  // asyncio.gather(*tasks)
}

}  // namespace

int main() {
    ::setenv("AIO_CLOCK", "virtual", /*overwrite=*/0);
    std::unique_ptr<aio::EventLoop> loop = aio::new_event_loop();
    aio::set_event_loop(loop.get());

    std::printf("1. producer/consumer: Queue(maxsize=5), task_done() and join()\n");
    part_start = loop->time();
    loop->run_until_complete(producer_consumer());

    std::printf("2. Semaphore(3) over sleeps [1, 2, 3, 2, 3]\n");
    part_start = loop->time();
    loop->run_until_complete(limited());
    std::printf("  processing time: %.2f\n", loop->time() - part_start);

    aio::set_event_loop(nullptr);
    loop->close();
    return 0;
}
