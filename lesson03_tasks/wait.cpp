// wait.cpp - see wait.hpp (asyncio: tasks.wait, tasks._wait, tasks.as_completed).
#include "lesson03_tasks/wait.hpp"

#include <cmath>
#include <limits>
#include <string>

#include "lesson01_loop/exceptions.hpp"

namespace aio::detail {

namespace {
constexpr double infinity = std::numeric_limits<double>::infinity();
}  // namespace

// ---- Watch ---------------------------------------------------------------------------

const HandleOps Watch::ops = {&Watch::run, nullptr, &Watch::describe};

void Watch::arm(Watcher& owner, FutureStateBase& child) {
    owner_ = &owner;
    child_ = &child;
    owner.registered();
    registered_ = wanted_ = true;
    try {
        child.add_waker(wake_);  // a done child schedules it at once
    } catch (...) {
        registered_ = wanted_ = false;
        owner.unregistered();
        throw;
    }
}

void Watch::disarm() noexcept {
    wanted_ = false;
    // A done child has already queued wake_: run() will settle the count.
    if (!registered_ || child_->done()) return;
    child_->remove_waker(wake_);
    registered_ = false;
    owner_->unregistered();
}

// The handle's entry point: `break aio::detail::Watch::run` stops at every child
// completion a gather, shield, wait or as_completed sees. An exception from the owner
// is reported here: after unregistered() the owner (and this handle) may be gone.
void Watch::run(Handle& h) {
    Watch& w = *static_cast<Watch*>(h.owner());
    Watcher& owner = *w.owner_;
    w.registered_ = false;
    if (std::exchange(w.wanted_, false)) {
        try {
            owner.child_done(w);
        } catch (...) {
            owner.loop_->call_exception_handler(ExceptionContext{
                std::string("Exception in ") + owner.watcher_name() + "() done callback",
                std::current_exception(),
                nullptr,
                {}});
        }
    }
    owner.unregistered();
}

void Watch::describe(const Handle& h, std::string& out) {
    const Watch& w = *static_cast<const Watch*>(h.owner());
    out += w.owner_->watcher_name();
    out += "() child done: ";
    out += w.child_->repr();
}

// ---- Watcher -------------------------------------------------------------------------

void Watcher::registered() {
    if (registered_++ > 0) return;
    hold();
    loop_->extension<WatcherList>().add(this);
}

void Watcher::unregistered() noexcept {
    if (--registered_ > 0) return;
    loop_->extension<WatcherList>().remove(this);
    unhold();  // may delete this
}

// The loop closed: its queues are empty, so no wake-up is queued any more; those of
// pending children are taken back. Then the self-reference goes.
void Watcher::abandon() noexcept {
    for (std::size_t i = 0; i < nwatches_; ++i) {
        Watch& w = watches_[i];
        if (!w.registered_) continue;
        if (!w.child_->done()) w.child_->remove_waker(w.wake_);
        w.registered_ = w.wanted_ = false;
    }
    registered_ = 0;
    abandoned();
    unhold();
}

// Every watcher holds references to its children, so releasing one never frees a
// child another watcher on this list still points at.
void WatcherList::loop_closed(EventLoop&) noexcept {
    while (Watcher* w = registered_.front()) {
        remove(w);
        w->abandon();
    }
}

// ---- helpers -------------------------------------------------------------------------

void check_timeout(std::optional<double> timeout, const char* who) {
    if (timeout && std::isnan(*timeout))
        throw ValueError(std::string(who) + ": the timeout is NaN");
}

// ---- wait ----------------------------------------------------------------------------

void check_wait_args(std::size_t n, std::optional<double> timeout, ReturnWhen when) {
    if (n == 0) throw ValueError("Set of Tasks/Futures is empty.");
    switch (when) {
        case ReturnWhen::first_completed:
        case ReturnWhen::first_exception:
        case ReturnWhen::all_completed: break;
        default:
            throw ValueError("Invalid return_when value: " +
                             std::to_string(static_cast<int>(when)));
    }
    check_timeout(timeout, "wait");
}

WaitCore::WaitCore(EventLoop& loop, std::size_t n, ReturnWhen when)
    : FutureState<void>(loop), Watcher(loop), watches_(new Watch[n]), counter_(n), when_(when) {
    set_watches(watches_.get(), n);
}

// The timer holds a plain pointer: stop() cancels it before the awaiter lets go.
void WaitCore::start_timer(std::optional<double> timeout) {
    if (!timeout || *timeout == infinity) return;
    timer_ = get_loop().call_later(*timeout, [this] {
        if (!done()) set_result();  // asyncio: _release_waiter
    });
}

// asyncio: _wait._on_completion. exception() is asked (and so marked retrieved) only
// with FIRST_EXCEPTION, and only when nothing before it already decided.
void WaitCore::child_done(Watch& w) {
    --counter_;
    FutureStateBase& f = w.child();
    bool release = counter_ == 0 || when_ == ReturnWhen::first_completed ||
                   (when_ == ReturnWhen::first_exception && !f.cancelled() && f.exception());
    if (!release) return;
    timer_.cancel();
    if (!done()) set_result();
}

void WaitCore::stop() noexcept {
    timer_.cancel();
    timer_ = TimerHandle();
    for (std::size_t i = 0; i < watch_count(); ++i) watch_at(i).disarm();
}

// ---- as_completed --------------------------------------------------------------------

AsCompletedCore::AsCompletedCore(EventLoop& loop, std::vector<Ref<FutureStateBase>> children)
    : Watcher(loop),
      children_(std::move(children)),
      watches_(new Watch[children_.size()]),
      todo_(children_.size()) {
    set_watches(watches_.get(), children_.size());
    done_.reserve(children_.size());  // each child is put once: no reallocation later
}

// The timer holds a plain pointer: while it is pending some child is unreported, so
// its watch keeps this object alive; it is cancelled when the last one reports.
void AsCompletedCore::start(std::optional<double> timeout) {
    for (std::size_t i = 0; i < children_.size(); ++i) watches_[i].arm(*this, *children_[i]);
    if (todo_ > 0 && timeout && *timeout != infinity)
        timer_ = get_loop().call_later(*timeout, [this] { on_timeout(); });
}

void AsCompletedCore::child_done(Watch& w) {
    --todo_;
    put(&w.child());
    if (todo_ > 0) return;
    timer_.cancel();  // asyncio: the unused deadline goes once all are done
    timer_ = TimerHandle();
}

// Every child not yet reported is forgotten and counts as one timeout.
void AsCompletedCore::on_timeout() {
    Ref<AsCompletedCore> keep(this);  // disarming may drop the self-reference
    timer_ = TimerHandle();
    for (std::size_t i = 0; i < watch_count(); ++i) {
        Watch& w = watch_at(i);
        if (!w.armed()) continue;
        w.disarm();
        put(nullptr);
    }
    todo_ = 0;
}

void AsCompletedCore::put(FutureStateBase* child) {
    done_.push_back(child);
    hand_over();
}

bool AsCompletedCore::take(FutureStateBase*& child) noexcept {
    if (head_ == done_.size()) return false;
    child = done_[head_++];
    return true;
}

// A getter whose task was cancelled after the hand-over returns its completion to the
// front of the queue, for the next one (asyncio's Queue.get leaves it in the queue).
void AsCompletedCore::give_back(FutureStateBase* child) {
    done_[--head_] = child;
    hand_over();
}

// asyncio: Queue._wakeup_next. Completions go to the waiting getters in FIFO order;
// one whose task was cancelled while it waited is skipped.
void AsCompletedCore::hand_over() {
    while (!getters_.empty() && head_ < done_.size()) {
        CompletionGetter& g = *getters_.front();
        remove_getter(g);
        if (g.woken_.done()) continue;
        g.has_item_ = take(g.item_);
        g.woken_.set_result();
    }
}

void AsCompletedCore::add_getter(CompletionGetter& g) noexcept {
    getters_.push_back(g);
    g.queued_ = true;
}

void AsCompletedCore::remove_getter(CompletionGetter& g) noexcept {
    getters_.remove(g);
    g.queued_ = false;
}

CompletionGetter::CompletionGetter(Ref<AsCompletedCore> core)
    : core_(std::move(core)), woken_(core_->get_loop()) {}

CompletionGetter::~CompletionGetter() {
    if (queued_) core_->remove_getter(*this);
    if (driver_ && !woken_.done()) forget_waiter(driver_, &woken_);
    if (has_item_) core_->give_back(item_);
}

FutureStateBase* CompletionGetter::take_item() {
    if (driver_) {
        resumed(driver_);  // a pending cancellation: the destructor gives the item back
        woken_.result();   // cancelled while waiting: CancelledError
    }
    has_item_ = false;
    return item_;
}

}  // namespace aio::detail
