// taskgroups.cpp - see taskgroups.hpp (asyncio: taskgroups.TaskGroup).
#include "lesson03_tasks/taskgroups.hpp"

#include <algorithm>

#include "lesson01_loop/event_loop.hpp"
#include "lesson01_loop/exceptions.hpp"
#include "lesson02_coroutines/exceptions.hpp"

namespace aio {

// Normally every child is done by now (exit() waited for them). A group destroyed
// without exit (its parent's frame abandoned at loop close) detaches from the rest.
TaskGroup::~TaskGroup() {
    for (Child& c : children_)
        if (!c.task->done()) c.task->remove_done_callback(c.on_done);
}

// asyncio: TaskGroup.__aenter__.
void TaskGroup::enter() {
    if (entered_) throw RuntimeError("TaskGroup " + repr() + " has already been entered");
    TaskBase* parent = current_task();
    if (!parent) throw RuntimeError("TaskGroup " + repr() + " cannot determine the parent task");
    parent_ = parent;
    loop_ = &parent->get_loop();
    entered_ = true;
}

Coro<void> TaskGroup::aenter() {
    enter();
    co_return;
}

Coro<void> task_group(std::function<Coro<void>(TaskGroup&)> body) {
    TaskGroup group;
    group.enter();
    std::exception_ptr error;
    try {
        co_await body(group);
    } catch (...) {
        error = std::current_exception();
    }
    co_await group.exit(error);  // throws whenever error is set
    if (error) std::rethrow_exception(error);
}

// asyncio: TaskGroup.__aexit__ (3.13's order: uncancel after the children are done).
Coro<void> TaskGroup::exit(std::exception_ptr error) {
    if (!entered_) throw RuntimeError("TaskGroup " + repr() + " has not been entered");
    if (exiting_) throw RuntimeError("TaskGroup " + repr() + " has already been exited");
    exiting_ = true;
    bool body_cancelled = is_cancelled_error(error);
    // The parent is being cancelled (from outside, or by us), or the body failed.
    std::exception_ptr propagate = body_cancelled ? error : nullptr;
    if (error && !aborting_) abort();
    co_await wait_children(propagate);
    // We cancelled the parent ourselves: withdraw that. If it was the only request,
    // the CancelledError was ours and does not leave the group.
    if (parent_cancel_requested_ && parent_->uncancel() == 0) propagate = nullptr;
    if (propagate && errors_.empty()) std::rethrow_exception(propagate);
    if (error && !body_cancelled) errors_.push_back(error);
    if (errors_.empty()) co_return;
    // Cancelled from outside too: keep that request alive for the parent's next await.
    if (parent_->cancelling() > 0) {
        parent_->uncancel();
        parent_->cancel();
    }
    throw ExceptionGroup("unhandled errors in a TaskGroup", std::exchange(errors_, {}));
}

// Waits until every child is done. A cancel that reaches the parent meanwhile (not one
// of ours: we are not aborting yet) aborts the children and is to be propagated; the
// wait goes on either way, as many times as the parent is cancelled.
Coro<void> TaskGroup::wait_children(std::exception_ptr& propagate) {
    while (pending_ > 0) {
        on_completed_.emplace(*loop_);
        try {
            co_await *on_completed_;
        } catch (const CancelledError&) {
            if (!aborting_) {
                propagate = std::current_exception();
                abort();
            }
        }
        on_completed_.reset();
    }
}

const char* TaskGroup::refusal() const noexcept {
    if (!entered_) return " has not been entered";
    if (exiting_ && pending_ == 0) return " is finished";
    if (aborting_) return " is shutting down";
    return nullptr;
}

// Registers a new child. Done children are pruned only when they outnumber the
// pending ones, so the list stays O(pending) at O(1) amortized cost per child.
void TaskGroup::adopt(TaskBase& task) {
    if (children_.size() >= 2 * pending_ + 8) {
        auto done = [](const Child& c) { return c.task->done(); };
        children_.erase(std::remove_if(children_.begin(), children_.end(), done), children_.end());
    }
    CallbackId id = task.add_done_callback([this](detail::FutureStateBase& t) { on_task_done(t); });
    children_.push_back(Child{detail::Ref<TaskBase>(&task), id});
    ++pending_;
}

// asyncio: TaskGroup._abort. Asks every pending child to stop.
void TaskGroup::abort() {
    aborting_ = true;
    for (Child& c : children_)
        if (!c.task->done()) c.task->cancel();
}

// asyncio: TaskGroup._on_task_done. The first failure aborts the group and cancels the
// parent, unless the group is already aborting or the parent already cancelled by us.
void TaskGroup::on_task_done(detail::FutureStateBase& task) {
    --pending_;
    if (pending_ == 0 && on_completed_ && !on_completed_->done()) on_completed_->set_result();
    if (task.cancelled()) return;
    std::exception_ptr error = task.exception();
    if (!error) return;
    errors_.push_back(error);
    if (parent_->done()) {
        loop_->call_exception_handler(ExceptionContext{
            "Task " + task.repr() + " has errored out but its parent task " + parent_->repr() +
                " is already completed",
            error,
            nullptr,
            {{"task", Task<>(detail::Ref<TaskBase>(static_cast<TaskBase*>(&task)))}}});
        return;
    }
    if (!aborting_ && !parent_cancel_requested_) {
        abort();
        parent_cancel_requested_ = true;
        parent_->cancel();
    }
}

std::string TaskGroup::repr() const {
    std::string out = "<TaskGroup";
    if (pending_) out += " tasks=" + std::to_string(pending_);
    if (!errors_.empty()) out += " errors=" + std::to_string(errors_.size());
    if (aborting_)
        out += " cancelling";
    else if (entered_)
        out += " entered";
    return out + ">";
}

}  // namespace aio
