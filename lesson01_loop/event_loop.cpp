// event_loop.cpp - the loop's iteration, running state and error reporting
// (asyncio: base_events.py). File-descriptor callbacks are in selector_events.cpp.
#include "lesson01_loop/event_loop.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "lesson01_loop/events.hpp"
#include "lesson01_loop/exceptions.hpp"
#include "lesson01_loop/log.hpp"

namespace aio {

namespace {
bool debug_from_environment() {
    const char* env = std::getenv("AIO_DEBUG");
    return env && *env && std::strcmp(env, "0") != 0;
}
}  // namespace

EventLoop::EventLoop(std::unique_ptr<Selector> selector, std::unique_ptr<Clock> clock)
    : selector_(selector ? std::move(selector) : make_default_selector()),
      clock_(clock ? std::move(clock) : make_default_clock()),
      waker_(std::make_unique<Waker>()),
      clock_resolution_(clock_->resolution()),
      selector_name_(selector_->name()),
      virtual_clock_(clock_->jumps_when_idle()) {
    // The waker's fd is watched from the start but is not a "user fd": it alone is
    // no reason to poll while callbacks are ready (docs/design.md, choice 3).
    selector_->add(waker_->read_fd(), EVENT_READ);
    debug_ = debug_from_environment();
    (void)get_log_level();  // a bad AIO_LOG_LEVEL is reported here, as a bad AIO_CLOCK is
}

EventLoop::~EventLoop() {
    close();
    // Handles another thread queued after close() cannot exist: close() refuses them.
}

// ---- running --------------------------------------------------------------------

// While alive, this loop is the running loop of this thread (asyncio: the try/finally
// in run_forever, with _set_running_loop and _thread_id).
class RunningScope {
public:
    explicit RunningScope(EventLoop& loop) : loop_(loop) {
        loop.check_closed();
        loop.check_not_running();
        loop.running_ = true;
        loop.thread_id_ = std::this_thread::get_id();
        detail::set_running_loop(&loop);
    }
    ~RunningScope() {
        loop_.stopping_ = false;
        loop_.running_ = false;
        loop_.thread_id_ = std::thread::id{};
        detail::set_running_loop(nullptr);
    }
    RunningScope(const RunningScope&) = delete;
    RunningScope& operator=(const RunningScope&) = delete;

private:
    EventLoop& loop_;
};

// asyncio: BaseEventLoop.run_forever.
void EventLoop::run_forever() {
    RunningScope scope(*this);
    for (;;) {
        iteration();
        if (stopping_) break;
    }
}

void EventLoop::run_once() {
    RunningScope scope(*this);
    iteration();
}

// asyncio: BaseEventLoop._run_once. The phases are numbered as in the README.
void EventLoop::iteration() {
    ++iterations_;
    if (only_ready_work()) {          // the fast path: phases 1, 2, 3 and 5 would do nothing
        take_threadsafe_callbacks();  // 4.
        run_ready(ready_.size());     // 6.
        return;
    }
    drop_cancelled_timers();             // 1. drop cancelled timers from the heap's top
    double timeout = compute_timeout();  // 2. 0 if work is ready, else until the next timer
    poll_for_io(timeout);                // 3. wait for I/O (or jump a virtual clock)
    take_threadsafe_callbacks();         // 4. callbacks handed over by other threads
    move_due_timers();                   // 5. timers whose time has come join the ready queue
    run_ready(ready_.size());            // 6. run exactly what is ready now, FIFO
}

// Phase 1. Cancelled timers at the top would otherwise set the poll timeout.
void EventLoop::drop_cancelled_timers() {
    while (!timers_.empty() && timers_.top_cancelled()) discard(timers_.pop());
}

// Phase 2. asyncio: "if self._ready or self._stopping: timeout = 0", and a wait for
// a timer is capped at MAXIMUM_SELECT_TIMEOUT (24 h): some selectors reject longer ones.
double EventLoop::compute_timeout() {
    if (!ready_.empty() || stopping_) return 0;
    if (threadsafe_pending_.load(std::memory_order_acquire)) return 0;
    if (!timers_.empty())
        return std::clamp(timers_.next_when() - time(), 0.0, maximum_select_timeout);
    return -1;
}

// Phase 3. Asks the selector only when something could come of it: a user fd is
// watched, or there is nothing to do but wait. With work ready and no fd, an
// iteration makes no system call at all.
void EventLoop::poll_for_io(double timeout) {
    if (timeout != 0 && virtual_clock_) {
        poll_virtual(timeout);
        return;
    }
    select(timeout);
}

// Phase 3 on a virtual clock, with nothing ready (clocks.hpp, rules 1 and 2). Work in
// another thread is waited for in real time, which the clock counts. Otherwise, with
// a timer: look (timeout 0) and, if nothing happened, jump to it. With no timer and no
// work known elsewhere the wait is for an fd or a thread the loop does not know of: it
// is not counted, so a run driven by run_coroutine_threadsafe keeps exact times.
void EventLoop::poll_virtual(double timeout) {
    if (external_work_.load() > 0) {
        wait_at_real_speed(timeout);
        return;
    }
    if (timeout < 0) {
        select(timeout);
        return;
    }
    select(0);
    if (idle()) clock_->jump_to(timers_.next_when());
}

// Rule 2. A wait that lasted its timeout ends exactly on the deadline; one cut short
// (by the other thread, a signal, a stale wake-up byte) counts the real time it took.
void EventLoop::wait_at_real_speed(double timeout) {
    double start = detail::monotonic_seconds();
    select(timeout);
    double waited = std::max(0.0, detail::monotonic_seconds() - start);
    if (timeout < 0 || waited < timeout)
        clock_->count_real(waited);
    else if (timeout < maximum_select_timeout)
        clock_->jump_to(timers_.next_when());
    else
        clock_->jump_to(time() + timeout);
}

// One look at the selector, and the events it found queued.
void EventLoop::select(double timeout) {
    events_.clear();
    if (user_fds_ > 0 || timeout != 0) selector_->select(timeout, events_);
    dispatch_io();
}

// Nothing to run and nothing coming from another thread.
bool EventLoop::idle() const noexcept {
    return ready_.empty() && !threadsafe_pending_.load(std::memory_order_acquire);
}

// asyncio: BaseSelectorEventLoop._process_events.
void EventLoop::dispatch_io() {
    for (const SelectorEvent& ev : events_) {
        if (ev.fd == waker_->read_fd()) {
            waker_->drain();  // the callbacks themselves are taken in phase 4
            continue;
        }
        if (ev.fd < 0 || static_cast<std::size_t>(ev.fd) >= fds_.size()) continue;
        FdCallbacks& entry = fds_[static_cast<std::size_t>(ev.fd)];
        if ((ev.events & EVENT_READ) && entry.reader) push_ready(entry.reader);
        if ((ev.events & EVENT_WRITE) && entry.writer) push_ready(entry.writer);
    }
}

// Phase 4. The atomic flag makes this free when no other thread has called.
void EventLoop::take_threadsafe_callbacks() {
    if (!threadsafe_pending_.load(std::memory_order_acquire)) return;
    std::vector<CallbackHandle*> taken;
    {
        std::lock_guard lock(threadsafe_mutex_);
        taken.swap(threadsafe_);
        threadsafe_pending_.store(false, std::memory_order_relaxed);
    }
    for (CallbackHandle* h : taken) {
        pool_.emplace_back(h);  // from now on an ordinary pooled handle
        if (h->cancelled_)
            release(h);
        else
            push_ready(h);
    }
}

// Phase 5. A timer is due if it falls before now + the clock's resolution, so a
// deadline a few nanoseconds away does not cost another trip through select().
void EventLoop::move_due_timers() {
    if (timers_.empty()) return;  // the clock is read only when timers exist
    double now = time();
    double end_time = now + clock_resolution_;  // may round back to `now` for large times
    while (!timers_.empty()) {
        if (timers_.top_cancelled()) {
            discard(timers_.pop());
            continue;
        }
        double when = timers_.next_when();
        if (when > now && when >= end_time) break;
        push_ready(timers_.pop());
    }
}

// Phase 6. Callbacks scheduled by these callbacks wait for the next iteration, so a
// callback that reschedules itself cannot starve I/O or timers. A virtual clock
// counts callbacks that block (clocks.hpp, rule 3): two cheap clock reads.
void EventLoop::run_ready(std::size_t ntodo) {
    if (virtual_clock_ && ntodo > 0)
        run_ready_counted(ntodo);
    else
        run_callbacks(ntodo);
}

void EventLoop::run_ready_counted(std::size_t ntodo) {
    clock_->callbacks_begin();
    try {
        run_callbacks(ntodo);
    } catch (...) {  // only an out-of-memory in the exception handler's context
        clock_->callbacks_end();
        throw;
    }
    clock_->callbacks_end();
}

// Phase 6 proper: exactly the first ntodo handles of the ready queue, FIFO.
void EventLoop::run_callbacks(std::size_t ntodo) {
    for (std::size_t i = 0; i < ntodo; ++i) {
        Handle* h = ready_.pop();
        h->queued_ = false;
        CallbackHandle* own = pooled(h);
        if (!own) {  // embedded: its owner's, and may be gone once it has run
            if (!h->cancelled_) run_handle(*h);
            continue;
        }
        if (!own->cancelled_) run_handle(*own);
        // A one-shot handle is finished; an fd handle stays until removed.
        if (!own->persistent_ || own->cancelled_) release(own);
    }
}

// Runs one callback; an exception goes to the exception handler, never further.
// Debug mode also times it, in a function of its own: without it, the common case
// makes no string and reads no clock, and its frame stays small.
void EventLoop::run_handle(Handle& h) {
    if (debug_.load(std::memory_order_relaxed))
        run_handle_timed(h);
    else
        call_handle(h);
}

// An embedded handle's callback may destroy the handle's owner (a finished task frees
// itself), so for those nothing of `h` is touched after h.run() returns.
void EventLoop::call_handle(Handle& h) {
    bool pooled = h.pooled_;
    if (pooled) h.running_ = true;
    try {
        h.run();
    } catch (...) {
        // An embedded handle's owner that throws must not have destroyed itself.
        if (pooled) h.running_ = false;
        callback_failed(h);
    }
    if (pooled) h.running_ = false;
}

// Out of line, so that call_handle's frame is not sized for building the context.
void EventLoop::callback_failed(Handle& h) {
    call_exception_handler(
        ExceptionContext{"Exception in callback " + h.repr(), std::current_exception(), &h, {}});
}

// Debug mode's run_handle: the same, and a warning when the callback took longer than
// slow_callback_duration (asyncio: "Executing %s took %.3f seconds"). An embedded
// handle's name is taken before it runs, as its owner may be gone afterwards.
void EventLoop::run_handle_timed(Handle& h) {
    bool pooled = h.pooled_;
    std::string name = pooled ? std::string() : h.repr();
    double start = time();
    call_handle(h);
    double took = time() - start;
    if (took < slow_callback_duration) return;
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.3f", took);
    log(LogLevel::warning, "Executing " + (pooled ? h.repr() : name) + " took " + buf + " seconds");
}

// ---- the handle pool and the queues ------------------------------------------------

CallbackHandle* EventLoop::acquire(Location where) {
    if (free_.empty()) grow_pool();
    CallbackHandle* h = free_.back();
    free_.pop_back();
    ++h->generation_;  // every HandleRef to this handle's earlier use goes stale
    h->cancelled_ = false;
    h->timer_ = false;
    h->persistent_ = false;
    h->where_ = where;
    h->loop_ = this;
    return h;
}

// Out of line, so that acquire, which runs for every call_soon, stays small.
void EventLoop::grow_pool() {
    pool_.push_back(std::make_unique<CallbackHandle>());
    free_.push_back(pool_.back().get());
}

void EventLoop::release(CallbackHandle* h) noexcept {
    h->drop_callable();
    free_.push_back(h);
}

// An embedded handle is its owner's, and null is a parked handle taken back out.
void EventLoop::discard(Handle* h) noexcept {
    if (CallbackHandle* own = h ? pooled(h) : nullptr) release(own);
}

void EventLoop::push_timer(CallbackHandle* h, double when) { timers_.push(h, when); }

void EventLoop::timer_cancelled() noexcept {
    timers_.note_cancelled(scratch_);
    release_compacted();
}

void EventLoop::release_compacted() noexcept {
    for (CallbackHandle* removed : scratch_) release(removed);
    scratch_.clear();
}

void EventLoop::schedule(Handle& h) {
    check_closed();
    if (h.queued_) {  // cancelled while queued: it runs after all, once
        h.cancelled_ = false;
        return;
    }
    h.cancelled_ = false;
    push_ready(&h);
}

void EventLoop::schedule_at(Handle& h, double when) {
    check_closed();
    timers_.park(&h, when);
    h.cancelled_ = false;
}

bool EventLoop::unschedule(Handle& h) noexcept {
    if (!h.parked()) return false;
    timers_.unpark(&h, scratch_);
    release_compacted();
    return true;
}

void EventLoop::adopt_threadsafe(CallbackHandle* h) {
    std::lock_guard lock(threadsafe_mutex_);
    if (closed_.load()) {
        delete h;
        throw RuntimeError("Event loop is closed");
    }
    threadsafe_.push_back(h);
    // One write to the waker per batch: while a batch is pending, the loop has been
    // woken already and will take this callback with the others (phase 4).
    if (threadsafe_pending_.exchange(true, std::memory_order_acq_rel)) return;
    waker_->wake();  // under the lock, so close() cannot free the waker meanwhile
}

// ---- per-loop state of later lessons (extension) ---------------------------------

std::size_t detail::new_extension_slot() noexcept {
    static std::atomic<std::size_t> next{0};
    return next.fetch_add(1);
}

// E is made before the array grows: its constructor may add extensions of its own.
LoopExtension& EventLoop::add_extension(std::size_t slot, detail::ExtensionMaker make) {
    std::unique_ptr<LoopExtension> ext = make(*this);
    if (slot >= extensions_.size()) extensions_.resize(slot + 1);
    extensions_[slot] = std::move(ext);
    return *extensions_[slot];
}

// ---- closing -------------------------------------------------------------------

// asyncio: BaseEventLoop.close. Extensions go first, while the loop still accepts
// callbacks: what they tear down (lesson 2's pending coroutines) may schedule some.
void EventLoop::close() {
    if (running_) throw RuntimeError("Cannot close a running event loop");
    if (closed_.load()) return;
    if (get_debug()) log(LogLevel::debug, std::string("Close ") + selector_name_ + " event loop");
    for (std::size_t i = 0; i < extensions_.size(); ++i)
        if (extensions_[i]) extensions_[i]->loop_closing(*this);
    std::vector<CallbackHandle*> orphans;
    {
        std::lock_guard lock(threadsafe_mutex_);
        closed_ = true;
        orphans.swap(threadsafe_);
        threadsafe_pending_ = false;
    }
    // Into the pool, not deleted: the callers' HandleRefs stay safe to cancel while
    // the loop object lives.
    for (CallbackHandle* h : orphans) {
        pool_.emplace_back(h);
        h->cancel();
        release(h);
    }
    drop_everything();
    for (auto& ext : extensions_)
        if (ext) ext->loop_closed(*this);
    selector_->remove(waker_->read_fd());
    waker_.reset();
    selector_.reset();
}

void EventLoop::drop_everything() noexcept {
    while (!ready_.empty()) {
        Handle* h = ready_.pop();
        h->queued_ = false;
        h->cancel();
        if (CallbackHandle* own = pooled(h)) release(own);
    }
    for (Handle* h : timers_.take_all()) {
        h->cancel();
        discard(h);
    }
    for (FdCallbacks& entry : fds_) {
        for (CallbackHandle* h : {entry.reader, entry.writer})
            if (h) {
                h->cancel();
                release(h);
            }
        entry = FdCallbacks{};
    }
    user_fds_ = 0;
}

// ---- errors ----------------------------------------------------------------------

// asyncio: BaseEventLoop.call_exception_handler.
void EventLoop::call_exception_handler(const ExceptionContext& context) noexcept {
    try {
        if (!handler_) {
            default_exception_handler(context);
            return;
        }
        try {
            handler_(*this, context);
        } catch (...) {
            // The handler itself failed: tell the default one, with the original text.
            ExceptionContext broken{"Unhandled error in exception handler",
                                    std::current_exception(),
                                    nullptr,
                                    {{"context", ContextValue(context)}}};
            default_exception_handler(broken);
        }
    } catch (...) {
        // Even logging failed (a throwing log sink). The loop must go on regardless.
    }
}

// asyncio: BaseEventLoop.default_exception_handler: "for key in sorted(context)".
void EventLoop::default_exception_handler(const ExceptionContext& context) {
    std::string text =
        context.message.empty() ? "Unhandled exception in event loop" : context.message;
    std::vector<std::pair<std::string, std::string>> lines;
    if (context.handle) lines.emplace_back("handle", context.handle->repr());
    for (const auto& [key, value] : context.extra) lines.emplace_back(key, value.repr());
    std::stable_sort(lines.begin(), lines.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    for (const auto& [key, value] : lines) text += "\n" + key + ": " + value;
    if (context.exception) text += "\nexception: " + describe_exception(context.exception);
    log(LogLevel::error, text);
}

// ---- misuse checks ---------------------------------------------------------------

void EventLoop::throw_closed() { throw RuntimeError("Event loop is closed"); }

// asyncio: BaseEventLoop._check_thread (debug mode only, as there).
void EventLoop::check_thread() const {
    if (!debug_.load(std::memory_order_relaxed)) return;
    std::thread::id owner = thread_id_.load(std::memory_order_relaxed);
    if (owner != std::thread::id{} && owner != std::this_thread::get_id())
        throw RuntimeError(
            "Non-thread-safe operation invoked on an event loop other than the current one");
}

// asyncio: BaseEventLoop._check_running.
void EventLoop::check_not_running() const {
    if (running_) throw RuntimeError("This event loop is already running");
    if (try_get_running_loop())
        throw RuntimeError("Cannot run the event loop while another loop is running");
}

}  // namespace aio
