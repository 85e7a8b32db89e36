// timers.hpp - the loop's scheduled callbacks, a binary min-heap by deadline
// (asyncio: BaseEventLoop._scheduled, a heapq list of TimerHandles).
//
// Entries are (when, seq, CallbackHandle*): a timer is always one of the loop's pooled
// handles. seq is a counter taken at scheduling time, so two timers with the same
// deadline fire in the order they were scheduled.
//
// Cancelling a timer does not search the heap (that would be O(n)); the handle is only
// flagged and counted. Cancelled entries are popped when they reach the top, and when
// more than half of a heap of over 100 entries is cancelled the heap is rebuilt in one
// O(n) pass. Without that, a program that schedules and cancels many long timeouts
// (every wait_for that finishes early does) would let the heap grow without bound.
// asyncio: BaseEventLoop._run_once, _MIN_SCHEDULED_TIMER_HANDLES and
// _MIN_CANCELLED_TIMER_HANDLES_FRACTION.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace aio {

class CallbackHandle;

class TimerHeap {
public:
    static constexpr std::size_t min_entries_to_compact = 100;

    void push(CallbackHandle* h, double when);
    // The earliest timer, cancelled or not; null if none. The loop pops cancelled
    // ones as they surface (asyncio does the same in _run_once).
    CallbackHandle* top() const noexcept;
    CallbackHandle* pop();  // precondition: top() != nullptr
    // A timer in the heap was cancelled: count it, compact when most are cancelled.
    // Returns the handles that compaction removed so the loop can recycle them.
    void note_cancelled(std::vector<CallbackHandle*>& removed);

    std::size_t size() const noexcept { return entries_.size(); }
    bool empty() const noexcept { return entries_.empty(); }
    std::size_t cancelled_count() const noexcept { return cancelled_; }
    // Takes every handle out (close()); the heap is empty afterwards.
    std::vector<CallbackHandle*> take_all();

private:
    struct Entry {
        double when;
        std::uint64_t seq;
        CallbackHandle* handle;
    };
    // std::push_heap builds a max-heap, so "less" means "fires later". A function
    // object rather than a function pointer, so the heap algorithms inline it.
    struct FiresLater {
        bool operator()(const Entry& a, const Entry& b) const noexcept {
            return a.when != b.when ? a.when > b.when : a.seq > b.seq;
        }
    };
    CallbackHandle* pop_entry();

    std::vector<Entry> entries_;
    std::uint64_t next_seq_ = 0;
    std::size_t cancelled_ = 0;  // cancelled handles still in entries_
};

}  // namespace aio
