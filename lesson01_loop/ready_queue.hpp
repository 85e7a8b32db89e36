// ready_queue.hpp - the callbacks that run in the next iteration, FIFO
// (asyncio: BaseEventLoop._ready, a collections.deque of Handles).
//
// A ring buffer of Handle pointers whose capacity is a power of two, so wrapping is a
// mask, not a division. It only grows (doubling), so a program that once had 10,000
// callbacks ready never allocates for the queue again: push and pop are a store, a
// load and an increment.
#pragma once

#include <cstddef>
#include <memory>

namespace aio {

class Handle;

class ReadyQueue {
public:
    ReadyQueue() : slots_(std::make_unique<Handle*[]>(64)), capacity_(64) {}

    // The ring grows as its last slot fills, not when the next push finds none: then
    // nothing follows the call, and an inlined push saves no register around it.
    void push(Handle* h) {
        slots_[(head_ + size_) & (capacity_ - 1)] = h;
        if (++size_ == capacity_) grow();
    }
    Handle* pop() {  // precondition: !empty()
        Handle* h = slots_[head_];
        head_ = (head_ + 1) & (capacity_ - 1);
        --size_;
        return h;
    }
    std::size_t size() const noexcept { return size_; }
    bool empty() const noexcept { return size_ == 0; }

private:
    // Doubles the full ring. Out of line: inlined, its loop would make every push save
    // and restore registers. If the memory cannot be had, the push that filled the ring
    // is undone: a full ring would take the next push over its oldest entry.
    [[gnu::noinline]] void grow() {
        std::unique_ptr<Handle*[]> bigger;
        try {
            bigger = std::make_unique<Handle*[]>(capacity_ * 2);
        } catch (...) {
            --size_;
            throw;
        }
        for (std::size_t i = 0; i < size_; ++i) bigger[i] = slots_[(head_ + i) & (capacity_ - 1)];
        slots_ = std::move(bigger);
        capacity_ *= 2;
        head_ = 0;
    }

    std::unique_ptr<Handle*[]> slots_;
    std::size_t capacity_ = 0;
    std::size_t head_ = 0;
    std::size_t size_ = 0;
};

}  // namespace aio
