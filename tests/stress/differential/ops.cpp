// ops.cpp - the ops of a scenario, one member function each, in reference.py's order.
//
// Each op_X does what reference.py's op_X does under asyncio, with this library's
// counterpart of each call (asyncio.gather -> aio::gather, `async with lock` -> a
// Guard, ...). Where asyncio has `async with`, the manual form (enter ... exit) is
// used, so the C++ reads like the Python it mirrors. Awaiting ops hand settle() a
// small coroutine that gives the result as printed; awaiting it adds no loop
// iteration (a coroutine runs inside its awaiter's step), so the timing is asyncio's.
#include <algorithm>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "lesson02_coroutines/sleep.hpp"
#include "lesson03_tasks/gather.hpp"
#include "lesson03_tasks/timeouts.hpp"
#include "lesson03_tasks/wait.hpp"
#include "tests/stress/differential/interpreter.hpp"

namespace stress {

namespace {

double seconds(const std::string& text) { return std::stod(text); }

// ---- the awaited work of each awaiting op, giving its result as printed ---------------

aio::Coro<std::string> await_task(aio::Task<int> task) {
    int& value = co_await task;
    co_return std::to_string(value);
}

aio::Coro<std::string> await_future(aio::Future<int> future) {
    int& value = co_await future;
    co_return std::to_string(value);
}

aio::Coro<std::string> await_wait_for(aio::Task<int> task, double timeout) {
    int value = co_await aio::wait_for(std::move(task), timeout);
    co_return std::to_string(value);
}

aio::Coro<std::string> await_wait_for_coro(aio::Coro<int> body, double timeout) {
    int value = co_await aio::wait_for(std::move(body), timeout);
    co_return std::to_string(value);
}

aio::Coro<std::string> await_gather(std::vector<aio::Task<int>> children) {
    std::vector<int> values = co_await aio::gather(std::move(children));
    std::string out = "[";
    for (std::size_t i = 0; i < values.size(); ++i)
        out += (i ? ", " : "") + std::to_string(values[i]);
    co_return out + "]";
}

aio::Coro<std::string> await_gather_outcomes(std::vector<aio::Task<int>> children) {
    auto outcomes = co_await aio::gather(aio::return_exceptions, std::move(children));
    std::string out = "[";
    for (std::size_t i = 0; i < outcomes.size(); ++i) {
        out += i ? ", " : "";
        out += outcomes[i].ok() ? std::to_string(outcomes[i].value())
                                : describe(outcomes[i].exception());
    }
    co_return out + "]";
}

aio::Coro<std::string> await_event(aio::Event& event) {
    bool set = co_await event.wait();
    co_return set ? "True" : "False";
}

aio::Coro<std::string> await_condition(aio::Condition& condition) {
    bool notified = co_await condition.wait();
    co_return notified ? "True" : "False";
}

aio::Coro<std::string> await_put(aio::Queue<int>& queue, int item) {
    co_await queue.put(item);
    co_return "None";
}

aio::Coro<std::string> await_get(aio::Queue<int>& queue) {
    int item = co_await queue.get();
    co_return std::to_string(item);
}

std::string names_of(const std::vector<aio::Task<int>>& tasks) {
    std::vector<std::string> names;
    for (const aio::Task<int>& task : tasks) names.push_back(task.get_name());
    std::sort(names.begin(), names.end());
    std::string out;
    for (const std::string& name : names) out += (out.empty() ? "" : ", ") + name;
    return "[" + out + "]";
}

aio::ReturnWhen return_when(const std::string& text) {
    if (text == "FIRST_COMPLETED") return aio::FIRST_COMPLETED;
    if (text == "FIRST_EXCEPTION") return aio::FIRST_EXCEPTION;
    return aio::ALL_COMPLETED;
}

}  // namespace

const std::map<std::string, Run::OpFn>& Run::ops() {
    static const std::map<std::string, OpFn> table = {
        {"spawn", &Run::op_spawn},
        {"sleep", &Run::op_sleep},
        {"cancel", &Run::op_cancel},
        {"later", &Run::op_later},
        {"uncancel", &Run::op_uncancel},
        {"await", &Run::op_await},
        {"raise", &Run::op_raise},
        {"return", &Run::op_return},
        {"gather", &Run::op_gather},
        {"wait_for", &Run::op_wait_for},
        {"wait_for_coro", &Run::op_wait_for_coro},
        {"shield", &Run::op_shield},
        {"wait", &Run::op_wait},
        {"try", &Run::op_try},
        {"timeout", &Run::op_timeout},
        {"taskgroup", &Run::op_taskgroup},
        {"with", &Run::op_with},
        {"ewait", &Run::op_ewait},
        {"eset", &Run::op_eset},
        {"eclear", &Run::op_eclear},
        {"put", &Run::op_put},
        {"get", &Run::op_get},
        {"put_nowait", &Run::op_put_nowait},
        {"get_nowait", &Run::op_get_nowait},
        {"cwait", &Run::op_cwait},
        {"notify", &Run::op_notify},
        {"notify_all", &Run::op_notify_all},
    };
    return table;
}

// ---- ops: tasks and time ------------------------------------------------------------------

aio::Coro<void> Run::op_spawn(const Op* op, Frame& frame) {
    record(frame.name, "spawn " + op->args[0]);
    spawn(op->args[0], frame.group);
    co_return;
}

aio::Coro<void> Run::op_sleep(const Op* op, Frame& frame) {
    co_await aio::sleep(seconds(op->args[0]));
    record(frame.name, "slept " + op->args[0]);
}

aio::Coro<void> Run::op_cancel(const Op* op, Frame& frame) {
    std::string message = op->args.size() > 1 ? op->args[1] : "";
    record(frame.name, "cancel " + op->args[0] + " -> " + cancel(op->args[0], message));
    co_return;
}

aio::Coro<void> Run::op_later(const Op* op, Frame& frame) {
    record(frame.name, "later " + op->args[0] + " " + op->args[1]);
    std::string name = op->args[1];
    std::string message = op->args.size() > 2 ? op->args[2] : "";
    loop_->call_later(seconds(op->args[0]), [this, name, message] {
        record("loop", "cancel " + name + " -> " + cancel(name, message));
    });
    co_return;
}

aio::Coro<void> Run::op_uncancel(const Op*, Frame& frame) {
    record(frame.name, "uncancel -> " + std::to_string(aio::current_task()->uncancel()));
    co_return;
}

aio::Coro<void> Run::op_await(const Op* op, Frame& frame) {
    auto task = tasks_.find(std::stoi(op->args[0].substr(1)));
    if (task == tasks_.end()) {
        record(frame.name, "await " + op->args[0] + " -> missing");
        co_return;
    }
    co_await settle(frame, "await " + op->args[0], await_task(task->second));
}

aio::Coro<void> Run::op_raise(const Op* op, Frame&) {
    throw Boom(op->args[0]);
    co_return;
}

aio::Coro<void> Run::op_return(const Op* op, Frame& frame) {
    frame.result = std::stoi(op->args[0]);
    frame.returning = true;
    co_return;
}

aio::Coro<void> Run::op_gather(const Op* op, Frame& frame) {
    std::vector<std::string> names(op->args.begin() + 1, op->args.end());
    std::vector<aio::Task<int>> children = spawn_all(names);
    if (op->args[0] == "rx")
        co_await settle(frame, "gather", await_gather_outcomes(std::move(children)));
    else
        co_await settle(frame, "gather", await_gather(std::move(children)));
}

aio::Coro<void> Run::op_wait_for(const Op* op, Frame& frame) {
    aio::Task<int> child = spawn(op->args[1], nullptr);
    co_await settle(frame, "wait_for " + op->args[1],
                    await_wait_for(std::move(child), seconds(op->args[0])));
}

// Not a task: the body runs inline in this task, as `await wait_for(coro, d)` does in 3.12.
aio::Coro<void> Run::op_wait_for_coro(const Op* op, Frame& frame) {
    co_await settle(frame, "wait_for_coro " + op->args[1],
                    await_wait_for_coro(task_body(op->args[1]), seconds(op->args[0])));
}

aio::Coro<void> Run::op_shield(const Op* op, Frame& frame) {
    aio::Task<int> child = spawn(op->args[0], nullptr);
    co_await settle(frame, "shield " + op->args[0], await_future(aio::shield(child)));
}

aio::Coro<void> Run::op_wait(const Op* op, Frame& frame) {
    std::vector<std::string> names(op->args.begin() + 2, op->args.end());
    std::vector<aio::Task<int>> children = spawn_all(names);
    std::optional<double> timeout;
    if (op->args[1] != "none") timeout = seconds(op->args[1]);
    std::exception_ptr error;
    aio::WaitResult<aio::Task<int>> result;
    try {
        result = co_await aio::wait(std::move(children), timeout, return_when(op->args[0]));
    } catch (...) {
        error = std::current_exception();
    }
    if (error) {
        record(frame.name, "wait -> " + describe(error));
        std::rethrow_exception(error);
    }
    record(frame.name,
           "wait -> done=" + names_of(result.done) + " pending=" + names_of(result.pending));
}

// ---- ops: blocks --------------------------------------------------------------------------

// try: ... except: record (and maybe re-raise), or try: ... finally: record.
aio::Coro<void> Run::op_try(const Op* op, Frame& frame) {
    std::exception_ptr error;
    try {
        co_await run_ops(&op->body, frame);
    } catch (...) {
        error = std::current_exception();
    }
    if (op->args[0] == "finally") {
        record(frame.name, "finally");
        if (error) std::rethrow_exception(error);
        co_return;
    }
    if (!error) co_return;
    record(frame.name, "caught " + describe(error));
    if (op->args[0] == "rethrow") std::rethrow_exception(error);
}

// async with asyncio.timeout(d): ...
aio::Coro<void> Run::op_timeout(const Op* op, Frame& frame) {
    aio::Timeout scope = aio::timeout(seconds(op->args[0]));
    scope.enter();
    std::exception_ptr error;
    try {
        co_await run_ops(&op->body, frame);
    } catch (...) {
        error = std::current_exception();
    }
    if (std::exception_ptr out = scope.exit(error)) std::rethrow_exception(out);
}

// async with asyncio.TaskGroup() as group: ...  (`async with` re-raises the body's
// exception when __aexit__ returns without raising.)
aio::Coro<void> Run::op_taskgroup(const Op* op, Frame& frame) {
    aio::TaskGroup group;
    group.enter();
    aio::TaskGroup* outer = std::exchange(frame.group, &group);
    std::exception_ptr error;
    try {
        co_await run_ops(&op->body, frame);
    } catch (...) {
        error = std::current_exception();
    }
    frame.group = outer;
    co_await group.exit(error);
    if (error) std::rethrow_exception(error);
}

// async with lock: ... (or the semaphore, or the condition)
aio::Coro<void> Run::op_with(const Op* op, Frame& frame) {
    if (op->args[0] == "L0") {
        auto held = co_await lock_.guard();
        record(frame.name, "acquired L0");
        co_await run_ops(&op->body, frame);
    } else if (op->args[0] == "C0") {
        auto held = co_await condition_.guard();
        record(frame.name, "acquired C0");
        co_await run_ops(&op->body, frame);
    } else {
        auto held = co_await semaphore_.guard();
        record(frame.name, "acquired S0");
        co_await run_ops(&op->body, frame);
    }
}

// ---- ops: Condition (inside `with C0`) ---------------------------------------------------

aio::Coro<void> Run::op_cwait(const Op*, Frame& frame) {
    co_await settle(frame, "cwait C0", await_condition(condition_));
}

aio::Coro<void> Run::op_notify(const Op* op, Frame& frame) {
    condition_.notify(static_cast<std::size_t>(std::stoi(op->args[1])));
    record(frame.name, "notify C0 " + op->args[1]);
    co_return;
}

aio::Coro<void> Run::op_notify_all(const Op*, Frame& frame) {
    condition_.notify_all();
    record(frame.name, "notify_all C0");
    co_return;
}

// ---- ops: Event and Queue ---------------------------------------------------------------

aio::Coro<void> Run::op_ewait(const Op*, Frame& frame) {
    co_await settle(frame, "ewait E0", await_event(event_));
}

aio::Coro<void> Run::op_eset(const Op*, Frame& frame) {
    event_.set();
    record(frame.name, "eset E0");
    co_return;
}

aio::Coro<void> Run::op_eclear(const Op*, Frame& frame) {
    event_.clear();
    record(frame.name, "eclear E0");
    co_return;
}

aio::Coro<void> Run::op_put(const Op* op, Frame& frame) {
    co_await settle(frame, "put Q0 " + op->args[1], await_put(queue_, std::stoi(op->args[1])));
}

aio::Coro<void> Run::op_get(const Op*, Frame& frame) {
    co_await settle(frame, "get Q0", await_get(queue_));
}

aio::Coro<void> Run::op_put_nowait(const Op* op, Frame& frame) {
    std::string outcome = "ok";
    try {
        queue_.put_nowait(std::stoi(op->args[1]));
    } catch (const aio::QueueFull&) {
        outcome = "QueueFull";
    }
    record(frame.name, "put_nowait Q0 " + op->args[1] + " -> " + outcome);
    co_return;
}

aio::Coro<void> Run::op_get_nowait(const Op*, Frame& frame) {
    std::string outcome;
    try {
        outcome = "result=" + std::to_string(queue_.get_nowait());
    } catch (const aio::QueueEmpty&) {
        outcome = "QueueEmpty";
    }
    record(frame.name, "get_nowait Q0 -> " + outcome);
    co_return;
}

}  // namespace stress
