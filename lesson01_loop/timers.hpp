// timers.hpp - the loop's scheduled callbacks, a binary min-heap by deadline
// (asyncio: BaseEventLoop._scheduled, a heapq list of TimerHandles).
//
// Entries are (when, seq, what): seq is a counter taken at scheduling time, so two
// timers with the same deadline fire in the order they were scheduled. What fires is
// one of two kinds:
//   - a call_at/call_later timer, one of the loop's pooled CallbackHandles;
//   - a parked handle (EventLoop::schedule_at), an embedded Handle its owner keeps:
//     lesson 2's sleep parks a task's own step here instead of a timer and a future.
//
// Cancelling a timer does not search the heap (that would be O(n)); the handle is only
// flagged and counted. Cancelled entries are popped when they reach the top, and when
// more than half of a heap of over 100 entries is cancelled the heap is rebuilt in one
// O(n) pass. Without that, a program that schedules and cancels many long timeouts
// (every wait_for that finishes early does) would let the heap grow without bound.
// asyncio: BaseEventLoop._run_once, _MIN_SCHEDULED_TIMER_HANDLES and
// _MIN_CANCELLED_TIMER_HANDLES_FRACTION.
//
// A parked handle is taken back out the same lazy way, but its owner may be gone by the
// time the entry surfaces (a cancelled task finishes and is freed), so its entry points
// at a slot of this heap, not at the handle: unpark() empties the slot, and an entry
// whose slot is empty is dropped without touching any handle. The handle knows its slot
// (Handle::park_slot_), which makes unpark O(1).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "lesson01_loop/handles.hpp"

namespace aio {

class TimerHeap {
public:
    static constexpr std::size_t min_entries_to_compact = 100;

    void push(CallbackHandle* h, double when);
    // Parks an embedded handle until `when`. Precondition: not parked, not queued.
    void park(Handle* h, double when);
    // Takes a parked handle back out: its entry stays, empty, until it surfaces or a
    // compaction drops it. The removed timers as for note_cancelled.
    void unpark(Handle* h, std::vector<CallbackHandle*>& removed);

    // The earliest entry. Precondition: !empty(). The loop pops cancelled ones as they
    // surface (asyncio does the same in _run_once).
    double next_when() const noexcept { return entries_.front().when; }
    bool top_cancelled() const noexcept { return dead(entries_.front()); }
    // Removes the earliest entry and gives its handle: a CallbackHandle (cancelled or
    // not), a parked handle, or null for a parked handle taken back out.
    Handle* pop();
    // A timer in the heap was cancelled: count it, compact when most are cancelled.
    // Returns the handles that compaction removed so the loop can recycle them.
    void note_cancelled(std::vector<CallbackHandle*>& removed);

    std::size_t size() const noexcept { return entries_.size(); }
    bool empty() const noexcept { return entries_.empty(); }
    std::size_t cancelled_count() const noexcept { return cancelled_; }
    // Takes every handle out (close()); the heap is empty afterwards. Parked handles
    // taken back out are not among them.
    std::vector<Handle*> take_all();

private:
    struct Entry {
        double when;
        std::uint64_t seq;  // (counter << 1) | 1 for a parked handle: the kind rides along
        union {
            CallbackHandle* timer;  // seq even
            std::size_t slot;       // seq odd: parked_[slot]
        };
        bool is_parked() const noexcept { return (seq & 1) != 0; }
    };
    // std::push_heap builds a max-heap, so "less" means "fires later". A function
    // object rather than a function pointer, so the heap algorithms inline it.
    struct FiresLater {
        bool operator()(const Entry& a, const Entry& b) const noexcept {
            return a.when != b.when ? a.when > b.when : a.seq > b.seq;
        }
    };
    // Cancelled, or taken back out. Inline: the loop asks it of every due entry.
    bool dead(const Entry& e) const noexcept {
        return e.is_parked() ? parked_[e.slot] == nullptr : e.timer->cancelled();
    }
    void add(Entry e);
    Entry pop_entry();
    Handle* leave(const Entry& e) noexcept;  // the entry is gone: its handle, or null

    std::vector<Entry> entries_;
    std::uint64_t next_seq_ = 0;
    std::size_t cancelled_ = 0;  // cancelled handles and emptied slots still in entries_
    // Parked handles by slot (null: taken back out, its entry still in entries_), and
    // the slots no entry uses.
    std::vector<Handle*> parked_;
    std::vector<std::uint32_t> free_slots_;
};

}  // namespace aio
