// interpreter.cpp - Run's phases, its tasks, and how outcomes are printed (the ops
// themselves are in ops.cpp). Mirrors reference.py's Run, method for method.
#include "tests/stress/differential/interpreter.hpp"

#include <cstdio>
#include <utility>

#include "lesson01_loop/clocks.hpp"
#include "lesson03_tasks/exceptions.hpp"
#include "lesson04_sync/exceptions.hpp"

namespace stress {

namespace {

constexpr double kHorizon = 1000.0;  // virtual seconds: longer than any scenario's schedule
constexpr int kCleanupRounds = 2;

int number_of(const std::string& task_name) { return std::stoi(task_name.substr(1)); }

// Python's "%g" % t, so that both sides print time alike.
std::string format_time(double t) {
    char text[32];
    std::snprintf(text, sizeof text, "%g", t);
    return text;
}

std::string describe_group(const aio::ExceptionGroup& group) {
    std::string out = "ExceptionGroup([";
    const char* sep = "";
    for (const std::exception_ptr& member : group.exceptions()) {
        out += sep + describe(member);
        sep = ", ";
    }
    return out + "])";
}

}  // namespace

std::string describe(const std::exception_ptr& error) {
    try {
        std::rethrow_exception(error);
    } catch (const aio::CancelledError& e) {
        return "CancelledError('" + e.message() + "')";
    } catch (const Boom& e) {
        return std::string("Boom('") + e.what() + "')";
    } catch (const aio::ExceptionGroup& e) {
        return describe_group(e);
    } catch (const aio::TimeoutError&) {
        return "TimeoutError";
    } catch (const aio::QueueFull&) {
        return "QueueFull";
    } catch (const aio::QueueEmpty&) {
        return "QueueEmpty";
    } catch (const aio::RuntimeError&) {
        return "RuntimeError";
    } catch (const std::exception& e) {
        return std::string("unexpected C++ exception: ") + e.what();
    }
}

Run::Run(const Scenario& scenario)
    : scenario_(scenario),
      semaphore_(scenario.semaphore_value),
      queue_(scenario.queue_maxsize),
      loop_(std::make_unique<aio::EventLoop>(nullptr, std::make_unique<aio::VirtualClock>())) {}

Run::~Run() { close(); }

void Run::record(const std::string& who, const std::string& text) {
    if (recording_) trace_.push_back("t=" + format_time(loop_->time()) + " " + who + " " + text);
}

// ---- the scenario's phases -----------------------------------------------------------

std::vector<std::string> Run::run() {
    trace_.push_back("scenario " + std::to_string(scenario_.seed));
    spawn("T0", nullptr);
    until_idle();
    for (int round = 0; round < kCleanupRounds; ++round) {
        bool any_pending = false;
        for (auto& [number, task] : tasks_) any_pending = any_pending || !task.done();
        if (!any_pending) break;
        cleanup_round();
        until_idle();
    }
    record_final_states();
    recording_ = false;
    close();
    return std::move(trace_);
}

// Runs until nothing is left to do before the horizon: the virtual clock jumps from
// timer to timer, and reaches the horizon's only when no other work remains.
void Run::until_idle() {
    aio::EventLoop& loop = *loop_;
    loop.call_at(loop.time() + kHorizon, [&loop] { loop.stop(); });
    loop.run_forever();
}

void Run::cleanup_round() {
    for (auto& [number, task] : tasks_) {
        if (task.done()) continue;
        bool cancelled = task.cancel();
        record("cleanup", "cancel " + task.get_name() + " -> " + (cancelled ? "True" : "False"));
    }
}

void Run::record_final_states() {
    for (auto& [number, task] : tasks_) record("final", task.get_name() + " " + state_of(task));
}

std::string Run::state_of(aio::Task<int>& task) {
    std::string state;
    if (!task.done())
        state = "pending";
    else if (task.cancelled())
        state = "cancelled";
    else if (std::exception_ptr error = task.exception())
        state = "exception " + describe(error);
    else
        state = "result=" + std::to_string(task.result());
    return state + " cancelling=" + std::to_string(task.cancelling());
}

// Destroys the frames of tasks still pending (a third cleanup round could not finish
// them: they swallow every cancel). Idempotent.
void Run::close() {
    if (!loop_->is_closed()) loop_->close();
}

// ---- tasks -------------------------------------------------------------------------------

aio::Task<int> Run::spawn(const std::string& name, aio::TaskGroup* group) {
    aio::Task<int> task = group ? group->create_task(task_body(name), name)
                                : aio::create_task(*loop_, task_body(name), name);
    tasks_[number_of(name)] = task;
    return task;
}

std::vector<aio::Task<int>> Run::spawn_all(const std::vector<std::string>& names) {
    std::vector<aio::Task<int>> out;
    for (const std::string& name : names) out.push_back(spawn(name, nullptr));
    return out;
}

aio::Coro<int> Run::task_body(std::string name) {
    Frame frame{name, number_of(name)};
    record(name, "start");
    static const std::vector<Op> no_ops;
    auto body = scenario_.tasks.find(name);
    std::exception_ptr error;
    try {
        co_await run_ops(body == scenario_.tasks.end() ? &no_ops : &body->second, frame);
    } catch (...) {
        error = std::current_exception();
    }
    if (error) {
        record(name, "raise " + describe(error));
        std::rethrow_exception(error);
    }
    record(name, "return " + std::to_string(frame.result));
    co_return frame.result;
}

aio::Coro<void> Run::run_ops(const std::vector<Op>* ops, Frame& frame) {
    for (const Op& op : *ops) {
        auto fn = this->ops().find(op.name);
        if (fn == this->ops().end()) throw std::runtime_error("unknown op " + op.name);
        co_await (this->*(fn->second))(&op, frame);
        if (frame.returning) co_return;
    }
}

// Awaits `work` (which gives the result as printed) and records the outcome; swallows
// it unless it is a CancelledError, which must go on unwinding the task.
aio::Coro<void> Run::settle(Frame& frame, std::string what, aio::Coro<std::string> work) {
    std::exception_ptr error;
    std::string shown;
    try {
        shown = co_await std::move(work);
    } catch (...) {
        error = std::current_exception();
    }
    if (!error) {
        record(frame.name, what + " -> result=" + shown);
        co_return;
    }
    record(frame.name, what + " -> " + describe(error));
    if (aio::is_cancelled_error(error)) std::rethrow_exception(error);
}

std::string Run::cancel(const std::string& name, const std::string& message) {
    auto task = tasks_.find(number_of(name));
    if (task == tasks_.end()) return "missing";
    return task->second.cancel(message) ? "True" : "False";
}

}  // namespace stress
