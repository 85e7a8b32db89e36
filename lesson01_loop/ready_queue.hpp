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
    ReadyQueue() { grow(); }

    void push(Handle* h) {
        if (size_ == capacity_) grow();
        slots_[(head_ + size_) & (capacity_ - 1)] = h;
        ++size_;
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
    void grow() {
        std::size_t new_capacity = capacity_ ? capacity_ * 2 : 64;
        auto bigger = std::make_unique<Handle*[]>(new_capacity);
        for (std::size_t i = 0; i < size_; ++i) bigger[i] = slots_[(head_ + i) & (capacity_ - 1)];
        slots_ = std::move(bigger);
        capacity_ = new_capacity;
        head_ = 0;
    }

    std::unique_ptr<Handle*[]> slots_;
    std::size_t capacity_ = 0;
    std::size_t head_ = 0;
    std::size_t size_ = 0;
};

}  // namespace aio
