// queues.hpp - Queue<T>, LifoQueue<T>, PriorityQueue<T, Compare> (asyncio: queues.py,
// with 3.13's shutdown() and QueueShutDown).
//
// A queue is its items plus two WaiterLists: getters parked while it is empty, putters
// parked while it is full. put_nowait() wakes the first getter, get_nowait() the first
// putter; a woken task does not get the item handed to it, it comes back and looks
// again (asyncio's `while self.empty(): await getter`), so a task that was not waiting
// may take the item first and the woken one simply waits again. That is why get() and
// put() are coroutines (they loop), while their fast paths never park and never throw.
//
// A getter cancelled after a put woke it passes the wake-up on to the next getter, so
// the item it was woken for is not stranded (the rule the tests label C6); putters likewise.
//
// unfinished_tasks counts puts not yet matched by task_done(); join() waits for zero.
// shutdown() (3.13) makes puts throw QueueShutDown at once and gets once the queue is
// empty; shutdown(true) also drops the items (counting them done) and wakes joiners.
//
// The part that does not depend on T (QueueBase) is in queues.cpp; the three orders
// are asyncio's _init/_put/_get overrides, here small storage classes.
#pragma once

#include <algorithm>
#include <concepts>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "lesson02_coroutines/coroutines.hpp"
#include "lesson04_sync/exceptions.hpp"
#include "lesson04_sync/locks.hpp"
#include "lesson04_sync/waiters.hpp"

namespace aio {

namespace detail {

// FIFO storage that allocates only to grow (std::deque would free and allocate a block
// every few hundred items in steady state). Capacity is a power of two.
template <class T>
class Ring {
public:
    Ring() noexcept = default;
    Ring(const Ring&) = delete;
    Ring& operator=(const Ring&) = delete;
    ~Ring() {
        clear();
        if (slots_) std::allocator<T>().deallocate(slots_, capacity_);
    }

    std::size_t size() const noexcept { return size_; }
    void push_back(T&& value) {
        if (size_ == capacity_) grow();
        std::construct_at(slots_ + index(size_), std::move(value));
        ++size_;
    }
    T pop_front() {
        T value = std::move(slots_[head_]);
        std::destroy_at(slots_ + head_);
        head_ = index(1);
        --size_;
        return value;
    }
    template <class F>
    void for_each(F&& fn) const {
        for (std::size_t i = 0; i < size_; ++i) fn(slots_[index(i)]);
    }

private:
    std::size_t index(std::size_t i) const noexcept { return (head_ + i) & (capacity_ - 1); }
    void clear() noexcept {
        for (std::size_t i = 0; i < size_; ++i) std::destroy_at(slots_ + index(i));
        size_ = 0;
    }
    void grow();

    T* slots_ = nullptr;
    std::size_t capacity_ = 0;
    std::size_t head_ = 0;  // the oldest item
    std::size_t size_ = 0;
};

// asyncio: Queue._init/_put/_get (a deque).
template <class T>
struct FifoOrder {
    Ring<T> items;
    std::size_t size() const noexcept { return items.size(); }
    void put(T&& item) { items.push_back(std::move(item)); }
    T get() { return items.pop_front(); }
    template <class F>
    void for_each(F&& fn) const {
        items.for_each(fn);
    }
};

// asyncio: LifoQueue (a list used as a stack).
template <class T>
struct LifoOrder {
    std::vector<T> items;
    std::size_t size() const noexcept { return items.size(); }
    void put(T&& item) { items.push_back(std::move(item)); }
    T get() {
        T item = std::move(items.back());
        items.pop_back();
        return item;
    }
    template <class F>
    void for_each(F&& fn) const {
        for (const T& item : items) fn(item);
    }
};

// asyncio: PriorityQueue (heapq): the smallest item by `less` comes out first. The
// std heap functions keep the largest on top, so they are given `less` reversed.
template <class T, class Compare>
struct PriorityOrder {
    PriorityOrder() = default;
    explicit PriorityOrder(Compare compare) : less(std::move(compare)) {}
    std::vector<T> items;
    Compare less;
    std::size_t size() const noexcept { return items.size(); }
    auto reversed() const {
        return [this](const T& a, const T& b) { return less(b, a); };
    }
    void put(T&& item) {
        items.push_back(std::move(item));
        std::push_heap(items.begin(), items.end(), reversed());
    }
    T get() {
        std::pop_heap(items.begin(), items.end(), reversed());
        T item = std::move(items.back());
        items.pop_back();
        return item;
    }
    template <class F>
    void for_each(F&& fn) const {
        for (const T& item : items) fn(item);
    }
};

// An item in a queue's printable form: numbers and strings as Python prints them.
template <class T>
void describe_item(std::string& out, const T& item) {
    if constexpr (std::is_arithmetic_v<T>)
        out += std::to_string(item);
    else if constexpr (std::is_convertible_v<const T&, std::string>)
        out += "'" + std::string(item) + "'";
    else
        out += "...";
}

}  // namespace detail

// Everything a queue does that does not depend on its items (queues.cpp).
class QueueBase {
public:
    QueueBase(const QueueBase&) = delete;
    QueueBase& operator=(const QueueBase&) = delete;

    // asyncio: Queue.maxsize. 0 or less: unbounded.
    int maxsize() const noexcept { return maxsize_; }
    // asyncio: Queue._unfinished_tasks. Puts not yet matched by task_done().
    std::size_t unfinished_tasks() const noexcept { return unfinished_; }
    // asyncio: Queue.task_done. Throws ValueError('task_done() called too many times').
    void task_done();
    // asyncio: Queue.join. Returns once every item put has been task_done()'d.
    Coro<void> join();
    bool is_shutdown() const noexcept { return shutdown_; }
    // asyncio: len(q._getters), len(q._putters); for tests.
    std::size_t getter_count() const noexcept { return getters_.size(); }
    std::size_t putter_count() const noexcept { return putters_.size(); }

protected:
    QueueBase(int maxsize, const char* kind);
    ~QueueBase() = default;

    bool full_with(std::size_t size) const noexcept {
        return maxsize_ > 0 && size >= static_cast<std::size_t>(maxsize_);
    }
    void check_put(std::size_t size) const;  // throws QueueShutDown or QueueFull
    [[noreturn]] void throw_empty() const;   // throws QueueShutDown or QueueEmpty
    void added();                            // an item went in: count it, wake a getter
    void taken() { putters_.wake_next(); }   // an item came out: wake a putter
    void shut_down(bool immediate, std::size_t dropped);
    // "<Queue at 0x... maxsize=0 _queue=[1, 2] _getters[1] tasks=2>"
    std::string repr_with(const std::string& items) const;

    // Fixed at construction.
    int maxsize_;
    const char* kind_;  // "Queue", "LifoQueue", "PriorityQueue", for messages
    // Loop thread only.
    std::size_t unfinished_ = 0;  // asyncio: _unfinished_tasks
    bool shutdown_ = false;       // asyncio: _is_shutdown
    Event finished_;              // set while unfinished_ == 0: what join() waits on
    detail::WaiterList getters_;  // parked while empty
    detail::WaiterList putters_;  // parked while full; bound to the getters' loop
};

// A queue of T in the order Order gives (see Queue, LifoQueue, PriorityQueue).
template <class T, class Order>
class BasicQueue : public QueueBase {
public:
    std::size_t qsize() const noexcept { return order_.size(); }
    bool empty() const noexcept { return order_.size() == 0; }
    // asyncio: Queue.full. Never true for an unbounded queue.
    bool full() const noexcept { return full_with(order_.size()); }

    // co_await q.put(item): waits while the queue is full. Throws QueueShutDown.
    Coro<void> put(T item);
    // co_await q.get(): waits while the queue is empty. Throws QueueShutDown once the
    // queue is shut down and empty.
    Coro<T> get();
    // Throws QueueFull if full, QueueShutDown after shutdown().
    void put_nowait(T item);
    // Throws QueueEmpty if empty, QueueShutDown if empty after shutdown().
    T get_nowait();
    // asyncio 3.13: Queue.shutdown. Blocked putters and getters wake (and throw
    // QueueShutDown unless items remain for a getter); immediate drops the items.
    void shutdown(bool immediate = false);

    std::string repr() const;

protected:
    template <class... OrderArgs>
    BasicQueue(int maxsize, const char* kind, OrderArgs&&... args)
        : QueueBase(maxsize, kind), order_(std::forward<OrderArgs>(args)...) {}
    T take() {
        T item = order_.get();
        taken();
        return item;
    }

    Order order_;
};

// asyncio: queues.Queue. First in, first out. maxsize counts items: a floating one does
// not compile. (asyncio takes Queue(1.3) and compares qsize() >= 1.3, so it holds 2; a
// maxsize of 0 or less, Queue(-1) too, means unbounded, here as there.)
template <class T>
class Queue : public BasicQueue<T, detail::FifoOrder<T>> {
public:
    explicit Queue(int maxsize = 0) : BasicQueue<T, detail::FifoOrder<T>>(maxsize, "Queue") {}
    template <std::floating_point F>
    explicit Queue(F maxsize) = delete;
};

// asyncio: queues.LifoQueue. Last in, first out.
template <class T>
class LifoQueue : public BasicQueue<T, detail::LifoOrder<T>> {
public:
    explicit LifoQueue(int maxsize = 0)
        : BasicQueue<T, detail::LifoOrder<T>>(maxsize, "LifoQueue") {}
    template <std::floating_point F>
    explicit LifoQueue(F maxsize) = delete;  // as Queue's
};

// asyncio: queues.PriorityQueue. The smallest item by `less` first; items that compare
// equal come out in no particular order (as with heapq).
template <class T, class Compare = std::less<T>>
class PriorityQueue : public BasicQueue<T, detail::PriorityOrder<T, Compare>> {
public:
    explicit PriorityQueue(int maxsize = 0, Compare less = Compare())
        : BasicQueue<T, detail::PriorityOrder<T, Compare>>(maxsize, "PriorityQueue",
                                                           std::move(less)) {}
    template <std::floating_point F>
    explicit PriorityQueue(F maxsize, Compare less = Compare()) = delete;  // as Queue's
};

// ---- template implementation -----------------------------------------------------

template <class T>
void detail::Ring<T>::grow() {
    std::size_t capacity = capacity_ ? capacity_ * 2 : 16;
    T* slots = std::allocator<T>().allocate(capacity);
    std::size_t moved = 0;
    try {
        for (; moved < size_; ++moved)
            std::construct_at(slots + moved, std::move_if_noexcept(slots_[index(moved)]));
    } catch (...) {
        for (std::size_t i = 0; i < moved; ++i) std::destroy_at(slots + i);
        std::allocator<T>().deallocate(slots, capacity);
        throw;
    }
    clear();
    if (slots_) std::allocator<T>().deallocate(slots_, capacity_);
    slots_ = slots;
    capacity_ = capacity;
    head_ = 0;
    size_ = moved;
}

// asyncio: Queue.put. A putter woken by a get but not proceeding (cancelled) passes
// the free slot on to the next putter.
template <class T, class Order>
Coro<void> BasicQueue<T, Order>::put(T item) {
    detail::Waiter putter;
    while (full()) {
        if (shutdown_) throw QueueShutDown();
        try {
            co_await detail::wait_on(putter, putters_);
        } catch (...) {
            if (!putter.orphaned() && putter.woken() && !full()) putters_.wake_next();
            throw;
        }
    }
    put_nowait(std::move(item));
}

// asyncio: Queue.get. A getter woken by a put but not proceeding passes the item's
// wake-up on to the next getter: the item stays in the queue, in its place.
template <class T, class Order>
Coro<T> BasicQueue<T, Order>::get() {
    detail::Waiter getter;
    while (empty()) {
        if (shutdown_) throw QueueShutDown();
        try {
            co_await detail::wait_on(getter, getters_);
        } catch (...) {
            if (!getter.orphaned() && getter.woken() && !empty()) getters_.wake_next();
            throw;
        }
    }
    co_return take();
}

template <class T, class Order>
void BasicQueue<T, Order>::put_nowait(T item) {
    check_put(order_.size());
    order_.put(std::move(item));
    added();
}

template <class T, class Order>
T BasicQueue<T, Order>::get_nowait() {
    if (empty()) throw_empty();
    return take();
}

template <class T, class Order>
void BasicQueue<T, Order>::shutdown(bool immediate) {
    std::size_t dropped = 0;
    for (; immediate && !empty(); ++dropped) (void)order_.get();
    shut_down(immediate, dropped);
}

template <class T, class Order>
std::string BasicQueue<T, Order>::repr() const {
    std::string items;
    order_.for_each([&items](const T& item) {
        if (!items.empty()) items += ", ";
        detail::describe_item(items, item);
    });
    return repr_with(items);
}

}  // namespace aio
