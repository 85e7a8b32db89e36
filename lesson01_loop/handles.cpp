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
    // asyncio drops the callback's references at once (Handle.cancel); a callback
    // cancelling its own handle keeps its captures until it returns.
    if (!running_) drop_callable();
    if (in_heap_ && loop_) loop_->timer_cancelled(this);
}

void Handle::drop_callable() noexcept {
    if (!has_callable_) return;
    has_callable_ = false;
    if (ops_->destroy) ops_->destroy(*this);
}

std::string Handle::repr() const {
    // An embedded handle stands for its owner: print the owner ("<Task pending ...>").
    if (ops_ && ops_->describe) {
        std::string owner;
        ops_->describe(*this, owner);
        return owner;
    }
    std::string out = timer_ ? "<TimerHandle" : "<Handle";
    if (cancelled_) out += " cancelled";
    if (timer_) {
        char buf[48];
        std::snprintf(buf, sizeof buf, " when=%.3f", when_);
        out += buf;
    }
    if (where_.line) {
        out += " scheduled at ";
        out += where_.basename();
        out += ':';
        out += std::to_string(where_.line);
    }
    out += '>';
    return out;
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

}  // namespace aio
