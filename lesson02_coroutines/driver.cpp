// driver.cpp - see driver.hpp (asyncio: tasks.Task.__step, __wakeup; base_events'
// run_until_complete).
#include "lesson02_coroutines/driver.hpp"

#include <coroutine>
#include <exception>
#include <string>
#include <utility>

namespace aio {

const HandleOps Driver::step_ops = {&Driver::run_step, nullptr, &Driver::describe_step};

Driver::Driver(EventLoop& loop, std::coroutine_handle<> frame, detail::PromiseBase& top,
               const char* kind)
    : FutureStateBase(loop, kind),
      step_(&step_ops, this),
      top_(frame),
      top_promise_(&top),
      coro_name_(top.name),
      resume_point_(frame),
      resume_promise_(&top) {
    // First, because it throws on a closed loop: then nothing else has happened and
    // the caller still owns the frame. asyncio: Task.__init__ calls call_soon(__step).
    loop.schedule(step_);
    top.driver = this;
    top.started = true;
    retain();  // the loop's reference: released when the coroutine is done
    loop.extension<detail::DriverList>().add(this);
    room_ = static_cast<std::uint16_t>(detail::claim_frame_room(frame, this));  // last: nothrow
}

Driver::~Driver() { destroy_frame(); }

void Driver::dispose() noexcept {
    if (!room_) {
        delete this;
        return;
    }
    void* room = this;
    unsigned room_bytes = room_;
    this->~Driver();  // virtual: a Task's destructor too; destroys the frame, keeps the block
    detail::free_frame_room(room, room_bytes);
}

// A finished chain is its top frame alone; a suspended one is taken apart from the
// innermost frame out (detail::destroy_chain), so its depth costs no stack.
void Driver::destroy_frame() noexcept {
    if (!top_) return;
    if (nap_ != Nap::none) sleep_over();  // before the driver is freed: out of the heap
    step_.cancel();
    if (!top_.done()) detail::destroy_chain(resume_promise_, top_promise_);
    std::exchange(top_, {}).destroy();
    resume_point_ = {};
}

// The Handle's entry point; `break aio::Driver::step` in gdb stops at every step. A
// parked step that the timer heap hands over is not a step yet: see timer_fired.
void Driver::run_step(Handle& h) {
    Driver* self = static_cast<Driver*>(h.owner());
    if (self->nap_ == Nap::parked)
        self->timer_fired();
    else if (self->nap_ != Nap::overtaken)
        self->step();
    else
        self->nap_ = Nap::interrupted;  // see interrupt_sleep
}

void Driver::describe_step(const Handle& h, std::string& out) {
    out += static_cast<const Driver*>(h.owner())->repr();
}

// asyncio: Task.__step. Resume the chain; it runs until its next leaf await (which
// calls suspend_on) or until the top coroutine returns.
void Driver::step() {
    std::coroutine_handle<> next = std::exchange(resume_point_, {});
    if (!next || done()) return;
    detail::Ref<Driver> keep(this);  // finishing drops the loop's reference
    if (!step_begins()) {
        step_ends();
        finish();
        return;
    }
    next.resume();
    step_ends();
    if (top_.done()) finish();
}

// The chain stopped at `at`: the next step resumes it there, and until then the driver
// says it waits at that co_await.
void Driver::stopped_at(detail::PromiseBase& promise, std::coroutine_handle<> at) noexcept {
    resume_point_ = at;
    resume_promise_ = &promise;
    waiting_file_ = promise.await_file;
    waiting_line_ = promise.await_line;
}

// The leaf await that stopped the chain tells us what to wait for.
// Errors are thrown before anything is registered: the co_await then throws them.
void Driver::suspend_on(detail::PromiseBase& promise, std::coroutine_handle<> at,
                        FutureStateBase* fut) {
    if (fut == this) throw RuntimeError(std::string(kind()) + " cannot await on itself");
    if (fut && &fut->get_loop() != &get_loop())
        throw RuntimeError(std::string(kind()) + " got Future " + fut->repr() +
                           " attached to a different loop");
    stopped_at(promise, at);
    if (fut) {
        fut->add_waker(step_);  // asyncio: result.add_done_callback(self.__wakeup)
    } else {
        get_loop().schedule(step_);  // asyncio: a bare yield; __step again next time
    }
    waiting_on(fut);
}

// ---- sleeping: the step itself waits in the timer heap ------------------------------

// The fast path of sleep(d): nothing is made. The step handle this driver already owns
// goes into the timer heap (one 24-B entry), where asyncio makes a future and a
// TimerHandle whose callback completes it; the awaiter stays in the frame.
void Driver::sleep_until(detail::PromiseBase& promise, std::coroutine_handle<> at, double when) {
    get_loop().schedule_at(step_, when);  // first: it may throw, and then nothing is set
    nap_ = Nap::parked;
    stopped_at(promise, at);
    sleeping();
}

// The deadline came. asyncio's timer callback completes the sleep's future, whose done
// callback schedules the task's wakeup: the step runs in the next iteration, after
// every callback due with this one. Queuing the step again makes the same hop.
void Driver::timer_fired() {
    nap_ = Nap::due;
    get_loop().schedule(step_);
}

// asyncio cancels the sleep's future, whose done callback queues the task's wakeup.
// Rarely the deadline has come in this very iteration and the timer's hop is queued
// already, ahead of this call: asyncio's timer callback will find the future cancelled
// and do nothing, so the hop is told to do nothing, and the step is queued as a
// callback of its own, where asyncio queues the wakeup.
bool Driver::interrupt_sleep() {
    if (nap_ != Nap::parked) return false;
    if (get_loop().unschedule(step_)) {
        nap_ = Nap::interrupted;
        get_loop().schedule(step_);
    } else {
        nap_ = Nap::overtaken;
        get_loop().call_soon([self = detail::Ref<Driver>(this)] { self->step(); });
    }
    return true;
}

void Driver::woke() {
    Nap was = std::exchange(nap_, Nap::none);
    if (was == Nap::interrupted || was == Nap::overtaken) sleep_interrupted();
    resumed();
}

void Driver::sleep_over() noexcept {
    if (nap_ == Nap::parked) get_loop().unschedule(step_);
    nap_ = Nap::none;
}

void Driver::settle() {
    detail::PromiseBase& p = *top_promise_;
    if (p.exception)
        complete_with_exception(std::exchange(p.exception, nullptr));
    else
        complete_with_result();
}

void Driver::finish() {
    settle();
    get_loop().extension<detail::DriverList>().remove(this);
    release();  // the loop's reference
}

bool Driver::cancel(std::string) { return false; }

void Driver::set_exception(std::exception_ptr) {
    throw RuntimeError(std::string(kind()) + " does not support set_exception()");
}

void Driver::describe(std::string& out) const {
    FutureStateBase::describe(out);
    out += " coro=";
    out += coro_name_;
    out += "()";
    if (!done() && waiting_line_) {
        out += " waiting at ";
        out += waiting_at().basename();
        out += ':';
        out += std::to_string(waiting_line_);
    }
}

// asyncio: Task.__del__, which the loop's closing triggers here.
void Driver::abandon() noexcept {
    if (log_destroy_pending_) {
        try {
            get_loop().call_exception_handler(
                ExceptionContext{std::string(kind()) + " was destroyed but it is pending!",
                                 nullptr,
                                 nullptr,
                                 {{"task", context_value()}}});
        } catch (...) {  // building the context ran out of memory: nothing to report with
        }
    }
    destroy_frame();
    frame_destroyed();
}

ContextValue Driver::context_value() { return ContextValue(detail::Ref<Driver>(this)); }

// ---- the loop's list of pending drivers ------------------------------------------

namespace detail {

// Destroying a frame runs its destructors, which may wake other drivers: their steps
// are queued, so the drivers themselves are released only after the loop has dropped
// its queues (loop_closed).
void DriverList::loop_closing(EventLoop&) noexcept {
    while (Driver* d = pending_.front()) {
        remove(d);
        d->abandon();
        abandoned_.push_back(d);
    }
}

void DriverList::loop_closed(EventLoop&) noexcept {
    for (Driver* d : abandoned_) d->release();  // the loop's reference
    abandoned_.clear();
}

// ---- hooks used by leaf awaiters (futures.hpp, sleep.hpp) --------------------------

Driver* driver_of(PromiseBase& promise) {
    if (!promise.driver)
        throw RuntimeError(std::string("coroutine '") + promise.name +
                           "' awaited a future but is not run by a driver or task");
    return promise.driver;
}

void suspend_on(PromiseBase& promise, std::coroutine_handle<> at, FutureStateBase* fut) {
    driver_of(promise)->suspend_on(promise, at, fut);
}

void forget_waiter(Driver* driver, FutureStateBase* fut) noexcept { driver->forget(fut); }

void resumed(Driver* driver) { driver->resumed(); }

void sleep_on(PromiseBase& promise, std::coroutine_handle<> at, double delay) {
    Driver* driver = driver_of(promise);
    driver->sleep_until(promise, at, driver->get_loop().time() + delay);
}

void woke(Driver* driver) { driver->woke(); }

void sleep_over(Driver* driver) noexcept { driver->sleep_over(); }

// ---- making drivers, and run_until_complete ----------------------------------------

namespace {
Driver* make_plain_driver(EventLoop& loop, std::coroutine_handle<> frame, PromiseBase& top) {
    return new_driver<Driver>(frame, loop, frame, top);
}
DriverFactory driver_factory = &make_plain_driver;
// Every frame's room fits a Driver (lesson 3 widens it to a Task).
[[maybe_unused]] const std::size_t driver_room = set_frame_room(sizeof(Driver));
}  // namespace

DriverFactory set_driver_factory(DriverFactory factory) noexcept {
    DriverFactory previous = driver_factory;
    driver_factory = factory ? factory : &make_plain_driver;
    return previous;
}

Driver* make_driver(EventLoop& loop, std::coroutine_handle<> frame, PromiseBase& top) {
    return driver_factory(loop, frame, top);
}

// asyncio: BaseEventLoop.run_until_complete after ensure_future: stop the loop from a
// done callback, run it, and complain if something else stopped it first.
void run_until_done(EventLoop& loop, FutureStateBase& fut) {
    check_loop(loop, fut);  // else nothing on this loop would ever complete it
    CallbackId id = fut.add_done_callback([&loop](FutureStateBase&) { loop.stop(); });
    try {
        loop.run_forever();
    } catch (...) {
        fut.remove_done_callback(id);
        throw;
    }
    fut.remove_done_callback(id);
    if (!fut.done()) throw RuntimeError("Event loop stopped before Future completed.");
}

// ---- a user's own awaiter (coroutines.hpp, ForeignAwaiter) ----------------------------

namespace {
// The stand-in handle given to a user's awaiter: a coroutine whose one step completes
// the future the driver waits on, then frees its own frame (it never suspends at the end).
struct StandIn {
    struct promise_type {
        StandIn get_return_object() noexcept {
            return {std::coroutine_handle<promise_type>::from_promise(*this)};
        }
        std::suspend_always initial_suspend() noexcept { return {}; }
        std::suspend_never final_suspend() noexcept { return {}; }
        void return_void() noexcept {}
        void unhandled_exception() noexcept { std::terminate(); }
    };
    std::coroutine_handle<promise_type> frame;
};

// asyncio: futures._set_result_unless_cancelled.
StandIn complete_when_resumed(Ref<FutureState<void>> done) {
    if (!done->done()) done->set_result();
    co_return;
}
}  // namespace

struct ForeignWait {
    Ref<FutureState<void>> done;
    std::coroutine_handle<> stand_in;
    Driver* driver = nullptr;  // set once the driver waits on `done`
};

ForeignWait* foreign_wait_begin(PromiseBase& promise) {
    Driver* driver = driver_of(promise);  // throws outside a driver, before anything is made
    Ref<FutureState<void>> done(new FutureState<void>(driver->get_loop()));
    std::coroutine_handle<> stand_in = complete_when_resumed(done).frame;
    return new ForeignWait{std::move(done), stand_in};
}

std::coroutine_handle<> foreign_wait_handle(ForeignWait* wait) noexcept { return wait->stand_in; }

void foreign_wait_suspend(ForeignWait* wait, PromiseBase& promise, std::coroutine_handle<> at) {
    suspend_on(promise, at, wait->done.get());
    wait->driver = promise.driver;
}

void foreign_wait_resumed(ForeignWait* wait) {
    resumed(wait->driver);
    wait->done->result();  // CancelledError if the task was cancelled while it waited
}

void foreign_wait_end(ForeignWait* wait, bool handed_over) noexcept {
    if (wait->driver && !wait->done->done()) forget_waiter(wait->driver, wait->done.get());
    if (!handed_over) wait->stand_in.destroy();  // its awaiter declined to suspend
    delete wait;
}

}  // namespace detail
}  // namespace aio
