// intrusive_list.hpp - a doubly-linked list threaded through its elements.
//
// The loop's pending drivers (here), lesson 3's watchers and as_completed getters, and
// lesson 4's parked waiters all sit in lists that must not allocate: each element
// carries its own links (a ListLinks<T> member), and the list only points at them. It
// does not own its elements; removing one is O(1) because it knows its neighbours.
//
//   struct Waiter { ... ListLinks<Waiter> links_; };
//   IntrusiveList<Waiter, &Waiter::links_> parked;   // names the member the list uses
//
// An element is in at most one list through one ListLinks member at a time.
#pragma once

#include <cstddef>

namespace aio::detail {

template <class T>
struct ListLinks {
    T* prev = nullptr;
    T* next = nullptr;
};

template <class T, ListLinks<T> T::*Links>
class IntrusiveList {
public:
    void push_back(T& x) noexcept {
        ListLinks<T>& l = x.*Links;
        l.prev = tail_;
        l.next = nullptr;
        (tail_ ? (tail_->*Links).next : head_) = &x;
        tail_ = &x;
        ++size_;
    }
    // Precondition: x is in this list.
    void remove(T& x) noexcept {
        ListLinks<T>& l = x.*Links;
        (l.prev ? (l.prev->*Links).next : head_) = l.next;
        (l.next ? (l.next->*Links).prev : tail_) = l.prev;
        l = ListLinks<T>{};
        --size_;
    }

    T* front() const noexcept { return head_; }
    static T* next(const T& x) noexcept { return (x.*Links).next; }
    std::size_t size() const noexcept { return size_; }
    bool empty() const noexcept { return size_ == 0; }

private:
    T* head_ = nullptr;
    T* tail_ = nullptr;
    std::size_t size_ = 0;
};

}  // namespace aio::detail
