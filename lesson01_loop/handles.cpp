// handles.cpp - see handles.hpp.
#include "lesson01_loop/handles.hpp"

#include <cstdio>

#include "lesson01_loop/event_loop.hpp"

namespace aio {

// asyncio: Handle._run. The hop from the loop into user code: `break aio::Handle::run`
// in gdb stops before every callback the loop runs.
void Handle::run() { ops_->invoke(*this); }

void Handle::cancel() noexcept {
    if (cancelled_) return;
    cancelled_ = true;
    if (pooled_) static_cast<CallbackHandle*>(this)->cancelled_now();
}

std::string Handle::repr() const {
    std::string out;
    if (ops_ && ops_->describe)
        ops_->describe(*this, out);
    else
        out = cancelled_ ? "<Handle cancelled>" : "<Handle>";
    return out;
}

// asyncio drops the callback's references at once (Handle.cancel); a callback
// cancelling its own handle keeps its captures until it returns.
void CallbackHandle::cancelled_now() noexcept {
    if (!running_) drop_callable();
    if (in_heap_ && loop_) loop_->timer_cancelled();
}

void CallbackHandle::drop_callable() noexcept {
    if (!has_callable_) return;
    has_callable_ = false;
    if (ops_->destroy) ops_->destroy(*this);
}

// asyncio: Handle.__repr__ / TimerHandle.__repr__ (the site instead of the callback).
void CallbackHandle::describe(const Handle& h, std::string& out) {
    const auto& self = static_cast<const CallbackHandle&>(h);
    out += self.timer_ ? "<TimerHandle" : "<Handle";
    if (self.cancelled_) out += " cancelled";
    if (self.timer_) {
        char buf[48];
        std::snprintf(buf, sizeof buf, " when=%.3f", self.when_);
        out += buf;
    }
    if (self.where_.line) {
        out += " scheduled at ";
        out += self.where_.basename();
        out += ':';
        out += std::to_string(self.where_.line);
    }
    out += '>';
}

bool CallbackHandle::same_callback(const CallbackHandle& other) const noexcept {
    if (this == &other) return true;
    if (!has_callable_ || !other.has_callable_ || ops_ != other.ops_) return false;
    return static_cast<const CallbackOps*>(ops_)->equal(*this, other);
}

void HandleRef::cancel() noexcept {
    cancelled_here_ = true;
    if (live()) h_->cancel();
}

bool HandleRef::cancelled() const noexcept {
    return cancelled_here_ || (live() && h_->cancelled());
}

std::string HandleRef::repr() const {
    if (live()) return h_->repr();
    return cancelled_here_ ? "<Handle cancelled (done)>" : "<Handle (done)>";
}

// asyncio: TimerHandle.__eq__ (see handles.hpp).
bool operator==(const TimerHandle& a, const TimerHandle& b) noexcept {
    if (a.when_ != b.when_ || a.cancelled() != b.cancelled()) return false;
    if (a.same_handle(b)) return true;
    const CallbackHandle* ha = a.live_handle();
    const CallbackHandle* hb = b.live_handle();
    return ha && hb && ha->same_callback(*hb);
}

}  // namespace aio
