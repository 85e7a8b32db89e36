// timers.cpp - see timers.hpp.
#include "lesson01_loop/timers.hpp"

#include <algorithm>

#include "lesson01_loop/handles.hpp"

namespace aio {

void TimerHeap::add(Entry e) {
    entries_.push_back(e);
    std::push_heap(entries_.begin(), entries_.end(), FiresLater{});
}

void TimerHeap::push(CallbackHandle* h, double when) {
    Entry e{when, next_seq_++ << 1, {}};
    e.timer = h;
    add(e);  // first: if it throws (no memory), the handle is not marked
    h->when_ = when;
    h->in_heap_ = true;
    h->timer_ = true;
}

void TimerHeap::park(Handle* h, double when) {
    if (free_slots_.empty()) {
        parked_.push_back(nullptr);
        free_slots_.reserve(parked_.capacity());  // so that leave() never allocates
        free_slots_.push_back(static_cast<std::uint32_t>(parked_.size() - 1));
    }
    Entry e{when, (next_seq_++ << 1) | 1, {}};
    e.slot = free_slots_.back();
    add(e);
    free_slots_.pop_back();
    parked_[e.slot] = h;
    h->park_slot_ = static_cast<std::uint32_t>(e.slot + 1);
}

void TimerHeap::unpark(Handle* h, std::vector<CallbackHandle*>& removed) {
    parked_[h->park_slot_ - 1] = nullptr;
    h->park_slot_ = 0;
    note_cancelled(removed);
}

TimerHeap::Entry TimerHeap::pop_entry() {
    std::pop_heap(entries_.begin(), entries_.end(), FiresLater{});
    Entry e = entries_.back();
    entries_.pop_back();
    return e;
}

// An entry has left the heap: free a parked handle's slot, unmark a timer.
Handle* TimerHeap::leave(const Entry& e) noexcept {
    if (!e.is_parked()) {
        e.timer->in_heap_ = false;
        return e.timer;
    }
    Handle* h = parked_[e.slot];
    parked_[e.slot] = nullptr;
    free_slots_.push_back(static_cast<std::uint32_t>(e.slot));  // within park()'s reserve
    if (h) h->park_slot_ = 0;
    return h;
}

Handle* TimerHeap::pop() {
    Entry e = pop_entry();
    if (dead(e)) --cancelled_;
    return leave(e);
}

void TimerHeap::note_cancelled(std::vector<CallbackHandle*>& removed) {
    ++cancelled_;
    if (entries_.size() <= min_entries_to_compact || cancelled_ * 2 <= entries_.size()) return;
    // Rebuild from the live entries only: one O(n) pass instead of n O(log n) pops.
    auto live_end = std::partition(entries_.begin(), entries_.end(),
                                   [this](const Entry& e) { return !dead(e); });
    for (auto it = live_end; it != entries_.end(); ++it) {
        Handle* h = leave(*it);  // a cancelled timer, or null for an emptied slot
        if (h) removed.push_back(static_cast<CallbackHandle*>(h));
    }
    entries_.erase(live_end, entries_.end());
    std::make_heap(entries_.begin(), entries_.end(), FiresLater{});
    cancelled_ = 0;
}

std::vector<Handle*> TimerHeap::take_all() {
    std::vector<Handle*> all;
    all.reserve(entries_.size());
    for (Entry& e : entries_)
        if (Handle* h = leave(e)) all.push_back(h);
    entries_.clear();
    cancelled_ = 0;
    return all;
}

}  // namespace aio
