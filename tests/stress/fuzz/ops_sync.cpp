// ops_sync.cpp - the operations over lesson 4: Lock, Event, Condition, Semaphore,
// BoundedSemaphore, Barrier, and the three queues.
//
// Each operation keeps the World's model in step with what it did, at the moment the
// library says it happened: a lock's holder is set when acquire() returns and cleared
// just before the release (a ModelHold declared after the Guard dies before it); a
// semaphore's lent permits likewise; a queue item enters the ledger when put()
// returns and is marked got when get() returns. The checks made here are the ones
// that hold at once ("no lock held twice", "an item is got once"); the ones that hold
// only when the loop is idle are in invariants.cpp.
#include "lesson04_sync/exceptions.hpp"
#include "tests/stress/fuzz/ops.hpp"

namespace fuzz {

namespace {

template <class T>
T& pick(World& w, std::vector<std::unique_ptr<T>>& all, int* index = nullptr) {
    auto i = static_cast<int>(w.below(all.size()));
    if (index) *index = i;
    return *all[static_cast<std::size_t>(i)];
}

// The model's side of holding a lock: taken on construction, given back on
// destruction (also when close() destroys the frame).
class HeldLock {
public:
    HeldLock(Actor& a, ModelLock& m) : m_(m) {
        a.w.check(m.holder == -1, "Lock: acquired by T" + std::to_string(a.id) +
                                      " while the model says T" + std::to_string(m.holder) +
                                      " holds it");
        a.w.check(m.lock.locked() && m.lock.held_by_current_task(),
                  "Lock: acquire() returned but the lock is not held by this task");
        m.holder = a.id;
    }
    HeldLock(const HeldLock&) = delete;
    HeldLock& operator=(const HeldLock&) = delete;
    ~HeldLock() { m_.holder = -1; }

private:
    ModelLock& m_;
};

class LentPermit {
public:
    explicit LentPermit(ModelSemaphore& s) : s_(s) { ++s_.lent; }
    LentPermit(const LentPermit&) = delete;
    LentPermit& operator=(const LentPermit&) = delete;
    ~LentPermit() { --s_.lent; }

private:
    ModelSemaphore& s_;
};

// ---- Lock ------------------------------------------------------------------------------

aio::Coro<void> op_lock_guard(Actor& a) {
    ModelLock& m = pick(a.w, a.w.locks);
    aio::LockGuard held = co_await m.lock.guard();
    HeldLock model(a, m);
    co_await aio::sleep(a.w.delay());
}

// acquire() ... release() by hand, releasing on every way out.
aio::Coro<void> op_lock_acquire(Actor& a) {
    ModelLock& m = pick(a.w, a.w.locks);
    co_await m.lock.acquire();
    std::exception_ptr error;
    {
        HeldLock model(a, m);
        try {
            co_await aio::sleep(a.w.delay());
        } catch (...) {
            error = std::current_exception();
        }
    }
    m.lock.release();
    if (error) std::rethrow_exception(error);
}

// ---- Event -----------------------------------------------------------------------------

aio::Coro<void> op_event_wait(Actor& a) {
    aio::Event& e = pick(a.w, a.w.events);
    bool ok = co_await e.wait();
    a.w.check(ok, "Event.wait() returned false");
}

aio::Coro<void> op_event_set(Actor& a) {
    aio::Event& e = pick(a.w, a.w.events);
    if (a.w.chance(70))
        e.set();
    else
        e.clear();
    co_return;
}

// ---- Condition -------------------------------------------------------------------------

// Waits on the condition of lock i (notified, or until an event is set). wait()
// releases the lock and takes it back, also when cancelled: the model follows.
aio::Coro<void> op_condition_wait(Actor& a) {
    int i = 0;
    aio::Condition& c = pick(a.w, a.w.conditions, &i);
    ModelLock& m = *a.w.locks[static_cast<std::size_t>(i)];
    aio::Event& flag = *a.w.events[static_cast<std::size_t>(i)];
    aio::LockGuard held = co_await c.guard();
    HeldLock model(a, m);
    m.holder = -1;  // wait() lets go of it
    try {
        if (a.w.chance(50))
            co_await c.wait();
        else
            (void)co_await c.wait_for([&flag] { return flag.is_set(); });
    } catch (...) {
        a.w.check(m.lock.held_by_current_task(), "Condition.wait() threw without the lock");
        m.holder = a.id;
        throw;
    }
    a.w.check(m.lock.held_by_current_task(), "Condition.wait() returned without the lock");
    m.holder = a.id;
}

aio::Coro<void> op_condition_notify(Actor& a) {
    int i = 0;
    aio::Condition& c = pick(a.w, a.w.conditions, &i);
    aio::LockGuard held = co_await c.guard();
    HeldLock model(a, *a.w.locks[static_cast<std::size_t>(i)]);
    if (a.w.chance(30))
        c.notify_all();
    else
        c.notify(1 + a.w.below(2));
}

// ---- Semaphore, BoundedSemaphore ---------------------------------------------------

aio::Coro<void> op_semaphore(Actor& a) {
    ModelSemaphore& s = pick(a.w, a.w.semaphores);
    if (a.w.chance(50)) {
        aio::SemaphoreGuard held = co_await s.sem->guard();
        LentPermit model(s);
        co_await aio::sleep(a.w.delay());
        co_return;
    }
    co_await s.sem->acquire();
    std::exception_ptr error;
    {
        LentPermit model(s);
        try {
            co_await aio::sleep(a.w.delay());
        } catch (...) {
            error = std::current_exception();
        }
    }
    s.sem->release();
    if (error) std::rethrow_exception(error);
}

// A BoundedSemaphore at its initial value refuses a release.
aio::Coro<void> op_semaphore_overrelease(Actor& a) {
    ModelSemaphore& s = *a.w.semaphores.back();
    if (s.sem->value() != s.initial) co_return;
    bool refused = false;
    try {
        s.sem->release();
    } catch (const aio::ValueError&) {
        refused = true;
    }
    a.w.check(refused, "BoundedSemaphore released past its initial value without ValueError");
}

// ---- Barrier ---------------------------------------------------------------------------

aio::Coro<void> op_barrier_wait(Actor& a) {
    aio::Barrier& b = pick(a.w, a.w.barriers);
    int index = co_await b.wait();
    a.w.check(index >= 0 && index < b.parties(), "Barrier.wait(): arrival index out of range");
}

aio::Coro<void> op_barrier_break(Actor& a) {
    aio::Barrier& b = pick(a.w, a.w.barriers);
    if (a.w.chance(80)) {
        co_await b.reset();
    } else {
        a.w.note(a.id, "  aborts the barrier");
        co_await b.abort();
    }
}

// ---- queues ------------------------------------------------------------------------------

void ledger_put(Actor& a, ModelQueue& q, int item) {
    a.w.check(!q.ledger.count(item), "queue: item put twice");
    q.ledger[item] = 1;
}

void ledger_got(Actor& a, ModelQueue& q, int item) {
    auto it = q.ledger.find(item);
    bool queued = it != q.ledger.end() && it->second == 1;
    a.w.check(queued, std::string(q.name()) + ": got item " + std::to_string(item) +
                          ", which was " + (it == q.ledger.end() ? "never put" : "not in it"));
    if (it != q.ledger.end()) it->second = 2;
    if (a.w.chance(80)) q.base().task_done();
}

aio::Coro<void> op_queue_put(Actor& a) {
    ModelQueue& q = pick(a.w, a.w.queues);
    int item = a.w.next_item++;
    if (a.w.chance(70)) {
        co_await q.put(item);
    } else {
        q.put_nowait(item);  // QueueFull and QueueShutDown are expected outcomes
    }
    ledger_put(a, q, item);
}

aio::Coro<void> op_queue_get(Actor& a) {
    ModelQueue& q = pick(a.w, a.w.queues);
    int item = 0;
    if (a.w.chance(70))
        item = co_await q.get();
    else
        item = q.get_nowait();
    ledger_got(a, q, item);
}

aio::Coro<void> op_queue_join(Actor& a) {
    ModelQueue& q = pick(a.w, a.w.queues);
    co_await q.base().join();
}

// Rare: a shut-down queue refuses every put from then on.
aio::Coro<void> op_queue_shutdown(Actor& a) {
    ModelQueue& q = pick(a.w, a.w.queues);
    bool immediate = a.w.chance(50);
    a.w.note(a.id, std::string("  shuts down ") + q.name() + (immediate ? " (immediate)" : ""));
    if (immediate) {
        for (auto& [item, state] : q.ledger)
            if (state == 1) state = 3;  // dropped
    }
    q.shutdown(immediate);
    a.w.check(!immediate || q.empty(), "shutdown(immediate=true) left items in the queue");
    co_return;
}

}  // namespace

const std::vector<OpEntry>& sync_ops() {
    static const std::vector<OpEntry> table = {
        {"lock guard", op_lock_guard, 6},
        {"lock acquire/release", op_lock_acquire, 4},
        {"event wait", op_event_wait, 4},
        {"event set/clear", op_event_set, 4},
        {"condition wait", op_condition_wait, 4},
        {"condition notify", op_condition_notify, 4},
        {"semaphore", op_semaphore, 5},
        {"bounded semaphore over-release", op_semaphore_overrelease, 1},
        {"barrier wait", op_barrier_wait, 3},
        {"barrier reset/abort", op_barrier_break, 1},
        {"queue put", op_queue_put, 7},
        {"queue get", op_queue_get, 7},
        {"queue join", op_queue_join, 2},
        {"queue shutdown", op_queue_shutdown, 1},
    };
    return table;
}

}  // namespace fuzz
