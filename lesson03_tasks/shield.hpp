// shield.hpp - asyncio.shield(aw): a future that follows `aw` but keeps its own
// cancellation to itself (asyncio: tasks.shield).
//
//   int v = co_await aio::shield(fetch());   // cancelling this await leaves fetch running
//
// shield(aw) makes `aw` a task or a future as ensure_future does (a coroutine or any
// other awaitable becomes a task), then returns a new future, the outer, that completes
// as the inner does: same result, same exception, cancelled if the inner is. Cancelling
// the outer (or the task awaiting it) does not cancel the inner, which keeps running;
// the awaiter still gets CancelledError. The outer watches the inner with one of
// wait.hpp's Watches, as gather watches its children.
//
// Differences from asyncio: an inner already done is copied into a new outer at once
// (asyncio returns the inner itself); the result of an inner shield made (from a
// coroutine or another awaitable) is moved out, that of a Task or Future copied.
#pragma once

#include <exception>
#include <string>
#include <type_traits>
#include <utility>

#include "lesson02_coroutines/awaitables.hpp"
#include "lesson02_coroutines/futures.hpp"
#include "lesson03_tasks/tasks.hpp"
#include "lesson03_tasks/wait.hpp"

namespace aio {

namespace detail {

// The outer future of shield(inner) (asyncio: shield's two callbacks, as a class).
template <class T, bool Owned>
class ShieldState final : public FutureState<T>, public Watcher {
public:
    ShieldState(EventLoop& loop, Ref<FutureStateBase> inner, ResultGetter<T> get)
        : FutureState<T>(loop), Watcher(loop), inner_(std::move(inner)), get_(get) {
        set_watches(&watch_, 1);
    }
    // An inner already done is copied at once (asyncio returns the inner itself).
    void start() {
        if (inner_->done())
            follow_inner();
        else
            watch_.arm(*this, *inner_);
    }
    // asyncio: _outer_done_callback. A cancelled outer lets go of the inner at once.
    bool cancel(std::string message) override {
        if (!FutureState<T>::cancel(std::move(message))) return false;
        watch_.disarm();
        return true;
    }

private:
    void child_done(Watch&) override { follow_inner(); }
    void hold() noexcept override { this->retain(); }
    void unhold() noexcept override { this->release(); }
    const char* watcher_name() const noexcept override { return "shield"; }

    // asyncio: _inner_done_callback.
    void follow_inner() {
        FutureStateBase& inner = *inner_;
        if (this->done()) {
            if (!inner.cancelled()) (void)inner.exception();  // mark it retrieved
        } else if (inner.cancelled()) {
            FutureState<T>::cancel();
        } else if (std::exception_ptr e = inner.exception()) {
            this->set_exception(std::move(e));
        } else if constexpr (std::is_void_v<T>) {
            this->set_result();
        } else if constexpr (Owned) {
            this->set_result(std::move(get_(inner)));
        } else {
            this->set_result(get_(inner));
        }
    }

    Ref<FutureStateBase> inner_;
    ResultGetter<T> get_;
    Watch watch_;
};

}  // namespace detail

// asyncio: shield(aw). A new future that completes as `aw` does; cancelling it (or the
// task awaiting it) does not cancel `aw`, which keeps running: the awaiter still gets
// CancelledError. A coroutine or any other awaitable becomes a task first.
template <Awaitable A>
Future<awaited_t<A>> shield(A&& aw) {
    detail::check_argument<A>();
    using T = awaited_t<A>;
    constexpr bool owned = !detail::FutureLike<A>;
    auto inner = ensure_future(std::forward<A>(aw));
    EventLoop& loop = detail::state_of(inner)->get_loop();
    detail::Ref<detail::ShieldState<T, owned>> outer(new detail::ShieldState<T, owned>(
        loop, detail::Ref<detail::FutureStateBase>(detail::state_of(inner)),
        detail::getter_for(&inner)));
    outer->start();
    return Future<T>(detail::Ref<detail::FutureState<T>>(outer.get()));
}

}  // namespace aio
