// tasks.cpp - see tasks.hpp (asyncio: tasks.Task.cancel, __step, uncancel).
#include "lesson03_tasks/tasks.hpp"

#include <atomic>

#include "lesson01_loop/log.hpp"

namespace aio {

namespace {
std::atomic<std::uint64_t> task_counter{0};  // asyncio: _task_name_counter
thread_local TaskBase* current = nullptr;    // asyncio: _current_tasks[loop]
}  // namespace

TaskBase::TaskBase(EventLoop& loop, std::coroutine_handle<> frame, detail::PromiseBase& top)
    : Driver(loop, frame, top, "Task"), number_(++task_counter) {}

// The base class would report an unread exception too, but by then this object is
// only a FutureStateBase and could not print its name.
TaskBase::~TaskBase() {
    if (!exception_unseen()) return;
    mark_exception_seen();
    try {
        log(LogLevel::error, "Task exception was never retrieved\nfuture: " + repr() +
                                 "\nexception: " + describe_exception(exception()));
    } catch (...) {
    }
}

ContextValue TaskBase::context_value() { return ContextValue(Task<>(detail::Ref<TaskBase>(this))); }

std::string TaskBase::get_name() const {
    return name_ ? *name_ : "Task-" + std::to_string(number_);
}

void TaskBase::set_name(std::string name) {
    name_ = std::make_unique<std::string>(std::move(name));
}

// asyncio: Task.cancel. A request: cancel the future we wait on if there is one, or
// end the sleep we are parked in, else (or if it refuses) throw CancelledError in at
// the next step.
bool TaskBase::cancel(std::string message) {
    mark_exception_seen();
    if (done()) return false;
    if (!has_frame()) {  // close() destroyed the coroutine (a guard may cancel meanwhile)
        if (get_loop().is_closed()) throw RuntimeError("Event loop is closed");
        return false;
    }
    ++cancel_requests_;
    if (fut_waiter_ && fut_waiter_->cancel(message)) return true;
    // An interrupted sleep throws the first cancel's message (asyncio: the future's);
    // this request rides along and is spent with it (TaskBase::sleep_interrupted).
    if (!sleep_was_interrupted())
        cancel_message_ =
            message.empty() ? nullptr : std::make_unique<std::string>(std::move(message));
    if (interrupt_sleep()) return true;  // asyncio: _fut_waiter.cancel(msg) on sleep's future
    must_cancel_ = true;
    return true;
}

const void* TaskBase::waiting_for() const noexcept {
    if (fut_waiter_) return fut_waiter_;
    return asleep() ? &step_handle() : nullptr;
}

// asyncio: Task.uncancel (and 3.13's fix: withdrawing the last request also withdraws
// a cancellation not yet delivered).
int TaskBase::uncancel() noexcept {
    if (cancel_requests_ > 0) --cancel_requests_;
    if (cancel_requests_ == 0) must_cancel_ = false;
    return cancel_requests_;
}

void TaskBase::set_exception(std::exception_ptr) {
    throw RuntimeError("Task does not support set_exception operation");
}

std::exception_ptr TaskBase::make_cancel() const {
    return std::make_exception_ptr(CancelledError(cancel_message_ ? *cancel_message_ : ""));
}

// ---- the hooks Driver::step calls ---------------------------------------------------

// asyncio: _enter_task and _leave_task. Steps never nest (a step runs from the loop,
// and no loop runs inside another on one thread), so step_ends has no outer task to
// restore: it clears, as _leave_task does.
bool TaskBase::step_begins() {
    current = this;
    // Cancelled before its first step: the coroutine never starts (asyncio throws
    // CancelledError into it before its first line, which comes to the same).
    if (!started_ && must_cancel_) return false;
    started_ = true;
    return true;
}

void TaskBase::step_ends() noexcept { current = nullptr; }

// asyncio: the end of __step, after the coroutine yielded a future.
void TaskBase::waiting_on(FutureStateBase* fut) {
    fut_waiter_ = fut;
    if (must_cancel_ && fut && fut->cancel(cancel_message_ ? *cancel_message_ : "")) {
        must_cancel_ = false;
    }
}

// asyncio: the same, after the coroutine yielded sleep's future: cancel that at once.
void TaskBase::sleeping() {
    fut_waiter_ = nullptr;
    if (must_cancel_ && interrupt_sleep()) must_cancel_ = false;
}

// asyncio: __step after the sleep's future was cancelled: its CancelledError, with the
// message of the cancel that interrupted the sleep. A request made since is spent with
// it (__step keeps a CancelledError it is handed, and clears _must_cancel).
void TaskBase::sleep_interrupted() {
    must_cancel_ = false;
    std::rethrow_exception(make_cancel());
}

// asyncio: the start of __step: a pending request is thrown in at the await. If the
// future we waited on was itself cancelled, its CancelledError (the first message)
// goes in instead: asyncio's __wakeup hands __step the future's exception.
// The pending request replaces the future's outcome unless that outcome is a
// CancelledError already (asyncio: `if not isinstance(exc, CancelledError): exc =
// self._make_cancelled_error()`). The outcome is read first either way, as __wakeup's
// future.result() does: a failure thrown away here was still retrieved, and its future
// must not log "exception was never retrieved".
void TaskBase::resumed() {
    FutureStateBase* waited = std::exchange(fut_waiter_, nullptr);
    if (!must_cancel_) return;
    must_cancel_ = false;
    // A CancelledError to come out of await_resume anyway: let it (and its message) out.
    if (waited && waited->cancelled()) return;
    if (waited && waited->done() && is_cancelled_error(waited->exception())) return;
    std::rethrow_exception(make_cancel());
}

// asyncio: the except clauses of __step.
void TaskBase::settle() {
    if (!started_) {  // cancelled before the first step
        must_cancel_ = false;
        FutureStateBase::cancel(cancel_message_ ? *cancel_message_ : "");
        return;
    }
    detail::PromiseBase& p = top_promise();
    if (p.exception) {
        std::exception_ptr error = std::exchange(p.exception, nullptr);
        try {
            std::rethrow_exception(error);
        } catch (const CancelledError& e) {
            FutureStateBase::cancel(e.message());  // the coroutine let it out: cancelled
            return;
        } catch (...) {
        }
        complete_with_exception(error);
        return;
    }
    if (must_cancel_) {  // cancelled right before it returned: still cancelled
        must_cancel_ = false;
        FutureStateBase::cancel(cancel_message_ ? *cancel_message_ : "");
        return;
    }
    complete_with_result();
}

// asyncio: base_tasks._task_repr_info (3.11.7). "<Task pending name='Task-3'
// coro=fetch() waiting at demo.cpp:42>"; "cancelling" instead of "pending" while a
// cancel request is not withdrawn (cancelling() > 0); a failed task ends with
// " exception=...". Differences from asyncio: no result= (the untyped task cannot
// print its T), and "waiting at file:line" stands for coro=<... running at ...>.
void TaskBase::describe(std::string& out) const {
    switch (state()) {
        case State::pending: out += cancel_requests_ > 0 ? " cancelling" : " pending"; break;
        case State::cancelled: out += " cancelled"; break;
        case State::finished: out += " finished"; break;
    }
    out += " name='" + get_name() + "' coro=" + coro_name() + "()";
    if (!done() && waiting_at().line) {
        out += " waiting at ";
        out += waiting_at().basename();
        out += ':';
        out += std::to_string(waiting_at().line);
    }
    if (state() == State::finished && peek_exception())
        out += " exception=" + describe_exception(peek_exception());
}

// ---- registry ------------------------------------------------------------------------

TaskBase* current_task() noexcept { return current; }

std::vector<TaskBase*> all_tasks(EventLoop* loop) {
    EventLoop& l = loop ? *loop : get_running_loop();
    std::vector<TaskBase*> tasks;
    l.extension<detail::DriverList>().for_each([&](Driver& d) {
        if (auto* t = dynamic_cast<TaskBase*>(&d); t && !t->done()) tasks.push_back(t);
    });
    return tasks;
}

// ---- task factories ----------------------------------------------------------------

namespace {
// The loop's task factory (asyncio: BaseEventLoop._task_factory).
struct TaskFactorySlot final : LoopExtension {
    explicit TaskFactorySlot(EventLoop&) {}
    TaskFactory factory;  // loop thread only; empty: new_task
};
}  // namespace

TaskBase* new_task(EventLoop& loop, TaskCoro coro) {
    return detail::new_driver<TaskBase>(coro.frame, loop, coro.frame, coro.promise);
}

void set_task_factory(EventLoop& loop, TaskFactory factory) {
    loop.extension<TaskFactorySlot>().factory = std::move(factory);
}

TaskFactory get_task_factory(EventLoop& loop) { return loop.extension<TaskFactorySlot>().factory; }

// asyncio: BaseEventLoop.create_task's `if self._task_factory is None: ... else: task =
// self._task_factory(self, coro)`. Task<T> reads its result from the coroutine's
// promise, so a task running anything else would be read as the wrong type.
TaskBase* detail::make_task(EventLoop& loop, TaskCoro coro) {
    const TaskFactory& factory = loop.extension<TaskFactorySlot>().factory;
    if (!factory) return new_task(loop, coro);
    TaskBase* task = factory(loop, coro);
    if (!task) throw RuntimeError("the task factory returned no task");
    if (&task->top_promise() != &coro.promise)
        throw RuntimeError("the task factory returned a task that does not run the coroutine " +
                           std::string(coro.name()) + "()");
    return task;
}

EventLoop& detail::default_loop() {
    if (EventLoop* running = try_get_running_loop()) return *running;
    return get_event_loop();
}

Driver* detail::make_task_driver(EventLoop& loop, std::coroutine_handle<> frame, PromiseBase& top) {
    return make_task(loop, TaskCoro{frame, top});
}

}  // namespace aio
