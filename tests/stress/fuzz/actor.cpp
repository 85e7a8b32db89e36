// actor.cpp - the tasks of a fuzzed program: the root, the actors that perform random
// operations, and the workers they wait for (see ops.hpp for the design).
//
// What an actor does with an exception from an operation is the fuzzer's contract with
// the library: the errors an operation may legitimately end with (TimeoutError,
// FuzzError from a failed child, ExceptionGroup, QueueShutDown...) are taken in
// stride; a CancelledError is either swallowed (at most twice, sometimes with
// uncancel()) or ends the actor; anything else is a failure of the seed.
#include <exception>

#include "lesson03_tasks/exceptions.hpp"
#include "lesson03_tasks/gather.hpp"
#include "lesson03_tasks/tasks.hpp"
#include "lesson04_sync/exceptions.hpp"
#include "tests/stress/fuzz/ops.hpp"

namespace fuzz {

namespace {

// Root's patience once the program is over: rounds of "cancel everyone".
constexpr int cancel_rounds = 40;
constexpr double cancel_interval = 0.5;

const OpEntry& pick_op(World& w) {
    int total = 0;
    for (const auto* table : {&task_ops(), &sync_ops()})
        for (const OpEntry& e : *table) total += e.weight;
    auto r = static_cast<int>(w.below(static_cast<std::uint64_t>(total)));
    for (const auto* table : {&task_ops(), &sync_ops()})
        for (const OpEntry& e : *table) {
            if (r < e.weight) return e;
            r -= e.weight;
        }
    return task_ops().front();
}

// The errors an operation may end with, by design of the program; a TaskGroup's
// ExceptionGroup only if each of its members is one.
bool expected_error(std::exception_ptr e) {
    try {
        std::rethrow_exception(e);
    } catch (const aio::TimeoutError&) {
    } catch (const FuzzError&) {
    } catch (const aio::ExceptionGroup& group) {
        for (const std::exception_ptr& member : group.exceptions())
            if (!expected_error(member)) return false;
    } catch (const aio::QueueShutDown&) {
    } catch (const aio::QueueFull&) {
    } catch (const aio::QueueEmpty&) {
    } catch (const aio::BrokenBarrierError&) {
    } catch (...) {
        return false;
    }
    return true;
}

std::string describe(std::exception_ptr e) {
    try {
        std::rethrow_exception(e);
    } catch (const std::exception& x) {
        return typeid(x).name() + std::string(": ") + x.what();
    } catch (...) {
        return "a non-std exception";
    }
}

// A CancelledError reached the actor's loop. Returns true to swallow it.
bool swallow_cancel(Actor& a) {
    aio::TaskBase* self = aio::current_task();
    if (self->cancelling() == 0) return true;  // a child's or future's, not ours
    if (a.swallowed >= 2 || !a.w.chance(30)) return false;
    ++a.swallowed;
    bool uncancel = a.w.chance(70);
    if (uncancel) self->uncancel();
    a.w.note(a.id, uncancel ? "swallows the cancel (uncancel)" : "swallows the cancel");
    return true;
}

// Every task but the root, the program's and those gather made: aio::all_tasks.
std::vector<aio::TaskBase*> others(World& w) {
    std::vector<aio::TaskBase*> pending = aio::all_tasks(w.loop);
    std::erase(pending, w.tasks[0].get());
    return pending;
}

bool all_done(World& w) { return others(w).empty(); }

// The root's last duty: read every outcome, so that nothing is left unretrieved.
void retrieve_outcomes(World& w) {
    for (std::size_t i = 1; i < w.tasks.size(); ++i) {
        aio::Task<void>& t = w.tasks[i];
        if (!t.done() || t.cancelled()) continue;
        if (std::exception_ptr e = t.exception(); e && !expected_error(e))
            w.fail("T" + std::to_string(i) + " ended with " + describe(e));
    }
    for (aio::Future<int>& f : w.futures)
        if (f.done() && !f.cancelled()) (void)f.exception();
}

aio::Coro<void> cancel_everyone(World& w) {
    for (int round = 0; round < cancel_rounds && !all_done(w); ++round) {
        for (aio::TaskBase* t : others(w)) {
            ++w.counters.cancellations;
            t->cancel(round % 2 ? "program over" : "");
        }
        co_await aio::sleep(cancel_interval);
    }
    if (!all_done(w))
        w.fail("tasks still pending after " + std::to_string(cancel_rounds) +
               " rounds of cancelling them all: a lost wake-up or cancel");
}

}  // namespace

aio::Coro<void> root(World& w) {
    w.note(0, "starts " + std::to_string(w.shape.initial_tasks) + " actors");
    for (int i = 0; i < w.shape.initial_tasks; ++i) spawn_actor(w, 0);
    while (w.loop->time() < w.shape.program_end && !all_done(w)) co_await aio::sleep(0.25);
    w.note(0, "program over: cancels every pending task");
    co_await cancel_everyone(w);
    retrieve_outcomes(w);
    w.note(0, "done");
}

aio::Coro<void> actor(World& w, int id, int depth) {
    Actor a{w, id, depth};
    for (int n = 0; n < w.shape.ops_per_task; ++n) {
        const OpEntry& op = pick_op(w);
        w.note(id, op.name, true);
        std::exception_ptr error;
        try {
            co_await op.run(a);
        } catch (const aio::CancelledError&) {
            if (!swallow_cancel(a)) throw;
        } catch (...) {
            error = std::current_exception();
        }
        if (error && !expected_error(error))
            w.fail("T" + std::to_string(id) + " " + op.name + " threw " + describe(error));
    }
}

aio::Coro<void> worker(World& w, int id, double delay, bool fails) {
    co_await aio::sleep(delay);
    if (fails) {
        w.note(id, "fails");
        throw FuzzError();
    }
}

// The draws are separate statements: the order in which a call's arguments are
// evaluated differs between GCC and Clang, and a seed must mean one program.
aio::Coro<void> random_worker(World& w, int id) {
    double delay = w.delay();
    bool fails = w.chance(25);
    return worker(w, id, delay, fails);
}

int spawn_actor(World& w, int depth) {
    if (!w.may_spawn()) return -1;
    auto id = static_cast<int>(w.tasks.size());
    w.adopt(aio::create_task(*w.loop, actor(w, id, depth), "T" + std::to_string(id)));
    return id;
}

int spawn_worker(World& w, int parent) {
    auto id = static_cast<int>(w.tasks.size());
    double delay = w.delay();
    bool fails = w.chance(25);
    w.adopt(aio::create_task(*w.loop, worker(w, id, delay, fails), "T" + std::to_string(id)));
    w.note(parent, "spawns worker T" + std::to_string(id) + (fails ? " (fails)" : ""));
    return id;
}

}  // namespace fuzz
