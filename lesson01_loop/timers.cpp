// timers.cpp - see timers.hpp.
#include "lesson01_loop/timers.hpp"

#include <algorithm>

#include "lesson01_loop/handles.hpp"

namespace aio {

void TimerHeap::push(CallbackHandle* h, double when) {
    h->when_ = when;
    h->seq_ = next_seq_++;
    h->in_heap_ = true;
    h->timer_ = true;
    entries_.push_back(Entry{when, h->seq_, h});
    std::push_heap(entries_.begin(), entries_.end(), FiresLater{});
}

CallbackHandle* TimerHeap::pop_entry() {
    std::pop_heap(entries_.begin(), entries_.end(), FiresLater{});
    CallbackHandle* h = entries_.back().handle;
    entries_.pop_back();
    h->in_heap_ = false;
    return h;
}

CallbackHandle* TimerHeap::top() const noexcept {
    return entries_.empty() ? nullptr : entries_.front().handle;
}

CallbackHandle* TimerHeap::pop() {
    CallbackHandle* h = pop_entry();
    if (h->cancelled()) --cancelled_;
    return h;
}

void TimerHeap::note_cancelled(std::vector<CallbackHandle*>& removed) {
    ++cancelled_;
    if (entries_.size() <= min_entries_to_compact || cancelled_ * 2 <= entries_.size()) return;
    // Rebuild from the live entries only: one O(n) pass instead of n O(log n) pops.
    auto live_end = std::partition(entries_.begin(), entries_.end(),
                                   [](const Entry& e) { return !e.handle->cancelled(); });
    for (auto it = live_end; it != entries_.end(); ++it) {
        it->handle->in_heap_ = false;
        removed.push_back(it->handle);
    }
    entries_.erase(live_end, entries_.end());
    std::make_heap(entries_.begin(), entries_.end(), FiresLater{});
    cancelled_ = 0;
}

std::vector<CallbackHandle*> TimerHeap::take_all() {
    std::vector<CallbackHandle*> all;
    all.reserve(entries_.size());
    for (Entry& e : entries_) {
        e.handle->in_heap_ = false;
        all.push_back(e.handle);
    }
    entries_.clear();
    cancelled_ = 0;
    return all;
}

}  // namespace aio
