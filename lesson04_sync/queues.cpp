// queues.cpp - the untyped half of queues.hpp (asyncio: queues.Queue's counting,
// task_done, join, shutdown and _format).
#include "lesson04_sync/queues.hpp"

#include <algorithm>
#include <cstdio>
#include <string>

namespace aio {

QueueBase::QueueBase(int maxsize, const char* kind)
    : maxsize_(maxsize), kind_(kind), getters_(kind), putters_(kind, getters_) {
    finished_.set();  // nothing put yet: join() returns at once
}

void QueueBase::check_put(std::size_t size) const {
    if (shutdown_) throw QueueShutDown();
    if (full_with(size)) throw QueueFull();
}

void QueueBase::throw_empty() const {
    if (shutdown_) throw QueueShutDown();
    throw QueueEmpty();
}

// asyncio: the end of Queue.put_nowait.
void QueueBase::added() {
    ++unfinished_;
    finished_.clear();
    getters_.wake_next();
}

// asyncio: Queue.task_done.
void QueueBase::task_done() {
    if (unfinished_ == 0) throw ValueError("task_done() called too many times");
    if (--unfinished_ == 0) finished_.set();
}

// asyncio: Queue.join.
Coro<void> QueueBase::join() {
    if (unfinished_ > 0) co_await finished_.wait();
}

// asyncio 3.13: Queue.shutdown, after the typed half dropped `dropped` items. Every
// parked getter and putter wakes and looks again: putters throw QueueShutDown, getters
// too unless items are left for them.
void QueueBase::shut_down(bool immediate, std::size_t dropped) {
    shutdown_ = true;
    if (immediate) {
        unfinished_ -= std::min(unfinished_, dropped);
        if (unfinished_ == 0) finished_.set();
    }
    getters_.wake_all();
    putters_.wake_all();
}

// asyncio: Queue.__repr__ and _format.
std::string QueueBase::repr_with(const std::string& items) const {
    char address[32];
    std::snprintf(address, sizeof address, "%p", static_cast<const void*>(this));
    std::string out = std::string("<") + kind_ + " at " + address;
    out += " maxsize=" + std::to_string(maxsize_);
    if (!items.empty()) out += " _queue=[" + items + "]";
    if (!getters_.empty()) out += " _getters[" + std::to_string(getters_.size()) + "]";
    if (!putters_.empty()) out += " _putters[" + std::to_string(putters_.size()) + "]";
    if (unfinished_ > 0) out += " tasks=" + std::to_string(unfinished_);
    if (shutdown_) out += " shutdown";
    return out + ">";
}

}  // namespace aio
