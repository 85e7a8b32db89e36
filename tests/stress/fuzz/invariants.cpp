// invariants.cpp - the checks of invariants.hpp. Each reads only public observables
// (locked(), waiter_count(), value(), qsize(), getter_count()...) and the World's model.
#include "tests/stress/fuzz/invariants.hpp"

#include <algorithm>

namespace fuzz {

namespace {

std::string nth(const char* what, std::size_t i) { return what + std::to_string(i); }

void check_locks(World& w) {
    for (std::size_t i = 0; i < w.locks.size(); ++i) {
        ModelLock& m = *w.locks[i];
        std::string name = nth("lock", i);
        w.check(
            m.lock.locked() == (m.holder != -1),
            name + (m.holder == -1 ? " is locked but no task holds it"
                                   : " is free but T" + std::to_string(m.holder) + " holds it"));
        w.check(m.lock.locked() || m.lock.waiter_count() == 0,
                name + " is free while tasks wait for it (lost wake-up)");
    }
}

void check_events(World& w) {
    for (std::size_t i = 0; i < w.events.size(); ++i) {
        aio::Event& e = *w.events[i];
        w.check(!e.is_set() || e.waiter_count() == 0,
                nth("event", i) + " is set while tasks wait for it (lost wake-up)");
    }
}

void check_semaphores(World& w) {
    for (std::size_t i = 0; i < w.semaphores.size(); ++i) {
        ModelSemaphore& s = *w.semaphores[i];
        std::string name = nth("semaphore", i);
        w.check(s.sem->value() == s.initial - s.lent,
                name + ": value " + std::to_string(s.sem->value()) + " but " +
                    std::to_string(s.lent) + " of " + std::to_string(s.initial) + " permits lent");
        w.check(s.sem->value() == 0 || s.sem->waiter_count() == 0,
                name + " has permits while tasks wait for one (lost wake-up)");
    }
}

void check_barriers(World& w) {
    for (std::size_t i = 0; i < w.barriers.size(); ++i) {
        aio::Barrier& b = *w.barriers[i];
        w.check(b.n_waiting() < b.parties(), nth("barrier", i) + " is full but nobody passes");
    }
}

std::size_t items_in(const ModelQueue& q) {
    return static_cast<std::size_t>(std::count_if(q.ledger.begin(), q.ledger.end(),
                                                  [](const auto& e) { return e.second == 1; }));
}

void check_queues(World& w) {
    for (std::size_t i = 0; i < w.queues.size(); ++i) {
        ModelQueue& q = *w.queues[i];
        std::string name = std::string(q.name()) + std::to_string(i);
        w.check(q.qsize() == items_in(q),
                name + ": holds " + std::to_string(q.qsize()) + " items, the ledger says " +
                    std::to_string(items_in(q)) + " (items not conserved)");
        w.check(q.empty() || q.base().getter_count() == 0,
                name + " has items while getters wait (lost wake-up)");
        w.check(q.full() || q.base().putter_count() == 0,
                name + " has room while putters wait (lost wake-up)");
    }
}

// What closing a loop over pending tasks may log, as CPython does when it collects them:
// each destroyed pending task, and a failed future whose only reader was in a frame
// that close() destroyed (a task woken by a failed gather, not yet run).
bool expected_from_close(const std::string& line) {
    return line.rfind("ERROR: Task was destroyed but it is pending!", 0) == 0 ||
           line.find(" exception was never retrieved") != std::string::npos;
}

}  // namespace

void check_idle(World& w) {
    check_locks(w);
    check_events(w);
    check_semaphores(w);
    check_barriers(w);
    check_queues(w);
}

void check_end(World& w) {
    check_idle(w);
    for (std::size_t i = 0; i < w.tasks.size(); ++i)
        w.check(w.tasks[i].done(), nth("the program ended with T", i) + " still pending");
    for (std::size_t i = 0; i < w.locks.size(); ++i)
        w.check(!w.locks[i]->lock.locked(), nth("the program ended holding lock", i));
    for (std::size_t i = 0; i < w.semaphores.size(); ++i) {
        ModelSemaphore& s = *w.semaphores[i];
        w.check(s.sem->value() == s.initial,
                nth("the program ended with permits out of semaphore", i));
    }
}

void check_logs(World& w) {
    // Before close() nothing may be logged; a run stopped by a failure closes over
    // pending tasks too, like close mode.
    for (; w.logs_checked < w.logs.size(); ++w.logs_checked) {
        const std::string& line = w.logs[w.logs_checked];
        bool ok = w.logs_checked >= w.logs_at_close && expected_from_close(line);
        w.check(ok, "unexpected log line: " + line);
    }
}

}  // namespace fuzz
