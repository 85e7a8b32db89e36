// ops_tasks.cpp - the operations over lessons 2 and 3: sleep, futures, tasks and their
// cancellation, gather, wait, wait_for, timeout, shield, TaskGroup and as_completed.
//
// Cancellation is injected four ways, as a program would: a task cancels another
// directly, from a call_soon callback, from a call_later callback, or from the
// destructor of a guard in its frame (CancelOnExit, the shape of issue 9's first
// defect: a loop closed over such a frame runs the destructor during close()).
// A child to wait for is a fresh worker (ops.hpp), so that every await ends.
#include "lesson02_coroutines/context_managers.hpp"
#include "lesson03_tasks/gather.hpp"
#include "lesson03_tasks/taskgroups.hpp"
#include "lesson03_tasks/timeouts.hpp"
#include "lesson03_tasks/wait.hpp"
#include "tests/stress/fuzz/ops.hpp"

namespace fuzz {

namespace {

std::string cancel_message(World& w) {
    return w.chance(50) ? "" : "msg" + std::to_string(w.below(100));
}

void cancel_now(World& w, aio::Task<void> task) {
    ++w.counters.cancellations;
    task.cancel(cancel_message(w));
}

// Cancels a task when it goes out of scope (a destructor cannot throw: a loop that
// refuses the cancel because it is closed is fine).
class CancelOnExit {
public:
    CancelOnExit(World& w, aio::Task<void> target) : w_(w), target_(std::move(target)) {}
    CancelOnExit(const CancelOnExit&) = delete;
    CancelOnExit& operator=(const CancelOnExit&) = delete;
    ~CancelOnExit() {
        ++w_.counters.cancellations;
        try {
            target_.cancel("guard");
        } catch (const aio::RuntimeError&) {
        }
    }

private:
    World& w_;
    aio::Task<void> target_;
};

std::vector<aio::Task<void>> spawn_workers(Actor& a) {
    std::vector<aio::Task<void>> kids;
    auto n = 1 + a.w.below(3);
    for (std::uint64_t i = 0; i < n; ++i) kids.push_back(a.w.tasks[spawn_worker(a.w, a.id)]);
    return kids;
}

aio::Coro<void> sleep_for(double delay) { co_await aio::sleep(delay); }

// ---- the operations ------------------------------------------------------------------

aio::Coro<void> op_sleep(Actor& a) { co_await aio::sleep(a.w.delay()); }

aio::Coro<void> op_yield(Actor&) { co_await aio::sleep(0); }

aio::Coro<void> op_spawn(Actor& a) {
    int id = spawn_actor(a.w, a.depth + 1);
    if (id >= 0) a.w.note(a.id, "spawns actor T" + std::to_string(id));
    co_return;
}

// create_task + await it, bare or through wait_for.
aio::Coro<void> op_await_child(Actor& a) {
    World& w = a.w;
    int id = w.chance(30) ? spawn_actor(w, a.depth + 1) : -1;
    if (id < 0) id = spawn_worker(w, a.id);
    aio::Task<void> child = w.tasks[id];
    std::optional<double> timeout = w.maybe_timeout();
    w.note(a.id, "awaits T" + std::to_string(id) + (timeout ? " with wait_for" : ""));
    if (timeout)
        co_await aio::wait_for(child, timeout);
    else
        co_await child;
}

aio::Coro<void> op_cancel(Actor& a) {
    World& w = a.w;
    int target = w.pick_pending_task(a.id);
    if (target < 0) co_return;
    aio::Task<void> task = w.tasks[target];
    std::string who = "T" + std::to_string(target);
    switch (w.below(3)) {
        case 0:
            w.note(a.id, "cancels " + who);
            cancel_now(w, task);
            break;
        case 1:
            w.note(a.id, "call_soon(cancel " + who + ")");
            w.loop->call_soon([&w, task] { cancel_now(w, task); });
            break;
        default: {
            double delay = w.delay();
            w.note(a.id, "call_later(" + std::to_string(delay) + ", cancel " + who + ")");
            w.loop->call_later(delay, [&w, task] { cancel_now(w, task); });
        }
    }
}

// The task cancels itself; the CancelledError comes at its next await.
aio::Coro<void> op_cancel_self(Actor& a) {
    cancel_now(a.w, a.w.tasks[a.id]);
    co_await aio::sleep(a.w.chance(50) ? 0.0 : a.w.delay());
}

aio::Coro<void> op_cancel_on_exit(Actor& a) {
    int target = a.w.pick_pending_task(a.id);
    if (target < 0) co_return;
    a.w.note(a.id, "holds a guard that will cancel T" + std::to_string(target));
    CancelOnExit guard(a.w, a.w.tasks[target]);
    co_await aio::sleep(a.w.delay());
}

aio::Coro<void> op_gather(Actor& a) {
    World& w = a.w;
    bool outcomes = w.chance(50);
    if (w.chance(25)) {  // from coroutines: gather makes (and owns) the tasks
        std::vector<aio::Coro<void>> coros;
        for (std::uint64_t i = 0, n = 1 + w.below(3); i < n; ++i)
            coros.push_back(random_worker(w, -1));
        if (outcomes) {
            auto out = co_await aio::gather(aio::return_exceptions, std::move(coros));
            for (auto& o : out) (void)o.exception();
        } else {
            co_await aio::gather(std::move(coros));
        }
        co_return;
    }
    std::vector<aio::Task<void>> kids = spawn_workers(a);
    if (outcomes) {
        auto out = co_await aio::gather(aio::return_exceptions, kids);
        w.check(out.size() == kids.size(), "gather(return_exceptions): one outcome per child");
    } else {
        co_await aio::gather(kids);
    }
}

aio::Coro<void> op_wait(Actor& a) {
    World& w = a.w;
    std::vector<aio::Task<void>> kids = spawn_workers(a);
    static const aio::ReturnWhen modes[] = {aio::FIRST_COMPLETED, aio::FIRST_EXCEPTION,
                                            aio::ALL_COMPLETED};
    aio::ReturnWhen when = modes[w.below(3)];
    std::optional<double> timeout =
        w.chance(50) ? std::optional<double>(w.delay() + 0.05) : std::nullopt;
    auto r = co_await aio::wait(kids, timeout, when);
    w.check(r.done.size() + r.pending.size() == kids.size(), "wait: done + pending = all children");
    for (auto& t : r.done) w.check(t.done(), "wait: a child in done is done");
    bool all = when == aio::ALL_COMPLETED && !timeout;
    w.check(!all || r.pending.empty(), "wait(ALL_COMPLETED) without timeout: nothing pending");
}

aio::Coro<void> op_wait_for_coro(Actor& a) {
    World& w = a.w;
    std::optional<double> timeout = w.maybe_timeout();
    co_await aio::wait_for(random_worker(w, -1), timeout);
}

aio::Coro<void> op_timeout(Actor& a) {
    World& w = a.w;
    double limit = w.delay();
    double work = w.delay();
    if (w.chance(50)) {
        co_await aio::timeout(limit, [work] { return sleep_for(work); });
    } else {  // nested scopes that may expire together
        double inner = w.delay();
        co_await aio::timeout_at(w.loop->time() + limit, [inner, work] {
            return aio::timeout(inner, [work] { return sleep_for(work); });
        });
    }
}

aio::Coro<void> op_shield(Actor& a) {
    World& w = a.w;
    aio::Task<void> child = w.tasks[spawn_worker(w, a.id)];
    aio::Future<void> outer = aio::shield(child);
    if (w.chance(50))
        co_await aio::wait_for(outer, w.delay());
    else
        co_await outer;
}

aio::Coro<void> group_body(Actor& a, aio::TaskGroup& tg) {
    World& w = a.w;
    for (std::uint64_t i = 0, n = 1 + w.below(3); i < n; ++i) {
        auto id = static_cast<int>(w.tasks.size());
        if (w.chance(30) && w.may_spawn())
            w.adopt(tg.create_task(actor(w, id, a.depth + 1), "T" + std::to_string(id)));
        else
            w.adopt(tg.create_task(random_worker(w, id), "T" + std::to_string(id)));
        w.note(a.id, "task group starts T" + std::to_string(id));
    }
    co_await aio::sleep(w.delay());
}

aio::Coro<void> op_task_group(Actor& a) {
    co_await aio::task_group([&a](aio::TaskGroup& tg) { return group_body(a, tg); });
}

aio::Coro<void> op_as_completed(Actor& a) {
    World& w = a.w;
    std::vector<aio::Task<void>> kids = spawn_workers(a);
    std::optional<double> timeout = w.chance(50) ? std::optional<double>(w.delay()) : std::nullopt;
    for (auto& next : aio::as_completed(kids, timeout)) {
        try {
            co_await next;
        } catch (const FuzzError&) {
        }
    }
}

// ---- futures ---------------------------------------------------------------------------

int pick_future(World& w, bool pending_only) {
    std::vector<int> ids;
    for (std::size_t i = 0; i < w.futures.size(); ++i)
        if (!pending_only || !w.futures[i].done()) ids.push_back(static_cast<int>(i));
    return ids.empty() ? -1 : ids[w.below(ids.size())];
}

aio::Coro<void> op_future_wait(Actor& a) {
    World& w = a.w;
    if (w.futures.empty() || (w.futures.size() < 6 && w.chance(40)))
        w.futures.emplace_back(*w.loop);
    int i = pick_future(w, false);
    aio::Future<int> f = w.futures[i];
    std::optional<double> timeout = w.maybe_timeout();
    w.note(a.id, "awaits future F" + std::to_string(i) + (timeout ? " with wait_for" : ""));
    if (timeout)
        (void)co_await aio::wait_for(f, timeout);
    else
        (void)co_await f;
}

aio::Coro<void> op_future_resolve(Actor& a) {
    World& w = a.w;
    int i = pick_future(w, true);
    if (i < 0) co_return;
    aio::Future<int>& f = w.futures[i];
    std::string what = "F" + std::to_string(i);
    switch (w.below(3)) {
        case 0:
            w.note(a.id, "set_result " + what);
            f.set_result(i);
            break;
        case 1:
            w.note(a.id, "set_exception " + what);
            f.set_exception(FuzzError());
            break;
        default: w.note(a.id, "cancel " + what); f.cancel(cancel_message(w));
    }
}

// Any other operation under a deadline: timeouts around lock waits, queue gets...
aio::Coro<void> op_under_timeout(Actor& a);
aio::Coro<void> op_async_with_timeout(Actor& a);

// `async with TaskGroup() as tg:` in lesson 2's form: the group is a local of this frame.
aio::Coro<void> op_async_with_group(Actor& a) {
    aio::TaskGroup tg;
    co_await aio::async_with(tg, [&a, &tg] { return group_body(a, tg); });
}

// An await chain `depth` coroutines deep, suspended at its leaf: closing the loop over
// it destroys the frames one inside the other.
aio::Coro<void> chain(World& w, int depth, double leaf_sleep) {
    if (depth == 0)
        co_await aio::sleep(leaf_sleep);
    else
        co_await chain(w, depth - 1, leaf_sleep);
}

// In close mode, now and then as deep as the README promises chains may be (100,000):
// closing the loop over it must not recurse once per frame (issue 9, defect 3). Only
// there: a chain that simply returns tests nothing more at that depth, and costs.
aio::Coro<void> op_deep_chain(Actor& a) {
    bool deep = a.w.shape.close_mode && a.w.chance(6);
    auto depth = deep ? 100000 : static_cast<int>(a.w.below(300));
    double leaf_sleep = deep ? 10.0 : a.w.delay();  // a deep one waits for the close
    a.w.note(a.id, "  chain " + std::to_string(depth) + " deep");
    co_await chain(a.w, depth, leaf_sleep);
}

}  // namespace

const std::vector<OpEntry>& task_ops() {
    static const std::vector<OpEntry> table = {
        {"sleep", op_sleep, 8},
        {"sleep(0)", op_yield, 4},
        {"spawn", op_spawn, 4},
        {"await child", op_await_child, 5},
        {"cancel", op_cancel, 8},
        {"cancel self", op_cancel_self, 2},
        {"cancel on exit", op_cancel_on_exit, 3},
        {"gather", op_gather, 5},
        {"wait", op_wait, 3},
        {"wait_for(coro)", op_wait_for_coro, 3},
        {"timeout", op_timeout, 3},
        {"shield", op_shield, 3},
        {"task group", op_task_group, 3},
        {"as_completed", op_as_completed, 3},
        {"future wait", op_future_wait, 4},
        {"future resolve", op_future_resolve, 4},
        {"under timeout", op_under_timeout, 6},
        {"async with timeout", op_async_with_timeout, 2},
        {"async with task group", op_async_with_group, 2},
        {"deep chain", op_deep_chain, 2},
    };
    return table;
}

namespace {

// The operation to run inside a scope: any but those that open a scope themselves.
const OpEntry* pick_inner(World& w) {
    const std::vector<OpEntry>& table = w.chance(30) ? task_ops() : sync_ops();
    const OpEntry& inner = table[w.below(table.size())];
    bool scope = inner.run == op_under_timeout || inner.run == op_async_with_timeout;
    return scope ? nullptr : &inner;  // one level is enough
}

aio::Coro<void> op_under_timeout(Actor& a) {
    World& w = a.w;
    const OpEntry* found = pick_inner(w);
    if (!found) co_return;
    const OpEntry& inner = *found;
    double limit = w.delay();
    w.note(a.id, std::string("  under timeout(") + std::to_string(limit) + "): " + inner.name);
    if (w.chance(50))
        co_await aio::timeout(limit, [&a, &inner] { return inner.run(a); });
    else
        co_await aio::wait_for(inner.run(a), limit);
}

// `cm = timeout(t); async with cm: <another operation>` in lesson 2's form; the scope
// outlives the block, so it can be asked whether it expired.
aio::Coro<void> op_async_with_timeout(Actor& a) {
    World& w = a.w;
    const OpEntry* inner = pick_inner(w);
    if (!inner) co_return;
    aio::Timeout cm = aio::timeout(w.delay());
    w.note(a.id, std::string("  async with timeout: ") + inner->name);
    co_await aio::async_with(cm, [&a, inner] { return inner->run(a); });
}

}  // namespace

}  // namespace fuzz
