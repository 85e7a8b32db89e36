// gather.hpp - run awaitables at the same time and collect their results, and shield one
// from cancellation (asyncio: tasks.gather, tasks._GatheringFuture, tasks.shield).
//
//   auto [n, text] = co_await aio::gather(count(), fetch(url));     // tuple<int, string>
//   std::vector<int> all = co_await aio::gather(std::move(coros));  // vector in, out
//   auto [a, b] = co_await aio::gather(aio::return_exceptions, f(), g());  // Outcome<T>s
//
// gather() wraps each coroutine in a task and returns at once a Gathering<R>, a Future<R>
// (asyncio's _GatheringFuture) that a later co_await or cancel() can reach. It watches
// each child once (wait.hpp's Watch: no allocation per child) and, like asyncio:
//   - results come in argument order; a void result is a std::monostate;
//   - the first child to fail (or be cancelled) fails the gather at once, and the others
//     keep running; their later exceptions are marked retrieved;
//   - with return_exceptions, each slot is an Outcome<T>: a value or the exception, a
//     CancelledError for a cancelled child;
//   - cancelling the gather (or the task awaiting it) cancels the children; the gather
//     then ends with CancelledError carrying the message, even with return_exceptions.
// The same Task may be passed twice: it is watched twice and repeated in the results.
//
// shield(aw) gives a new future that follows `aw` but whose cancellation stays there:
// cancelling the outer (or the task awaiting it) leaves the inner running.
//
// Differences from asyncio: the results of children gather made from coroutines are
// moved into the result (nobody else can read them); those of Tasks and Futures passed
// in are copied. Awaiting a Gathering rvalue (`co_await gather(...)`) moves the results
// out of it; awaiting an lvalue gives a reference, as for any Future.
#pragma once

#include <array>
#include <cstddef>
#include <exception>
#include <initializer_list>
#include <memory>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "lesson02_coroutines/futures.hpp"
#include "lesson03_tasks/tasks.hpp"
#include "lesson03_tasks/wait.hpp"

namespace aio {

// One slot of gather(return_exceptions, ...): the child's value or its exception.
template <class T>
class Outcome {
public:
    static Outcome success(T value) { return Outcome(std::in_place_index<0>, std::move(value)); }
    static Outcome failure(std::exception_ptr error) {
        return Outcome(std::in_place_index<1>, std::move(error));
    }

    bool ok() const noexcept { return v_.index() == 0; }
    // The value; rethrows the exception if the child failed.
    T& value() & {
        if (!ok()) std::rethrow_exception(std::get<1>(v_));
        return std::get<0>(v_);
    }
    const T& value() const& {
        if (!ok()) std::rethrow_exception(std::get<1>(v_));
        return std::get<0>(v_);
    }
    T&& value() && { return std::move(value()); }
    // The exception, or null if the child succeeded.
    std::exception_ptr exception() const noexcept { return ok() ? nullptr : std::get<1>(v_); }

private:
    template <std::size_t I, class V>
    Outcome(std::in_place_index_t<I> i, V&& v) : v_(i, std::forward<V>(v)) {}
    std::variant<T, std::exception_ptr> v_;
};

template <>
class Outcome<void> {
public:
    static Outcome success() { return Outcome(nullptr); }
    static Outcome failure(std::exception_ptr error) { return Outcome(std::move(error)); }
    bool ok() const noexcept { return !error_; }
    void value() const {
        if (error_) std::rethrow_exception(error_);
    }
    std::exception_ptr exception() const noexcept { return error_; }

private:
    explicit Outcome(std::exception_ptr error) : error_(std::move(error)) {}
    std::exception_ptr error_;
};

// The tag for gather's return_exceptions=True: `gather(aio::return_exceptions, ...)`.
struct ReturnExceptions {};
inline constexpr ReturnExceptions return_exceptions{};

template <class R>
class Gathering;

namespace detail {

// co_await on a Gathering rvalue: the results are moved out, nobody else wants them.
template <class R>
class TakingAwaiter {
public:
    explicit TakingAwaiter(FutureState<R>* state) noexcept : state_(state) {}
    TakingAwaiter(const TakingAwaiter&) = delete;
    TakingAwaiter& operator=(const TakingAwaiter&) = delete;
    ~TakingAwaiter() {
        if (driver_ && !state_->done()) forget_waiter(driver_, state_.get());
    }
    bool await_ready() const noexcept { return state_->done(); }
    template <class P>
    void await_suspend(std::coroutine_handle<P> at) {
        suspend_on(at.promise(), at, state_.get());
        driver_ = at.promise().driver;
    }
    R await_resume() {
        if (driver_) resumed(driver_);
        return std::move(state_->result());
    }

private:
    Ref<FutureState<R>> state_;
    Driver* driver_ = nullptr;  // set once suspended
};

template <class R>
struct result_of_awaitable<Gathering<R>> {
    using type = R;
};

}  // namespace detail

// asyncio: the _GatheringFuture gather() returns. A Future<R>: cancel() cancels the
// children (and returns false once the gather is done); awaiting an rvalue moves the
// results out, awaiting an lvalue gives a reference to them.
template <class R>
class [[nodiscard]] Gathering : public Future<R> {
public:
    explicit Gathering(detail::Ref<detail::FutureState<R>> state) noexcept
        : Future<R>(std::move(state)) {}

    detail::FutureAwaiter<R> operator co_await() const& noexcept {
        return detail::FutureAwaiter<R>(this->state());
    }
    detail::TakingAwaiter<R> operator co_await() && noexcept {
        return detail::TakingAwaiter<R>(this->state());
    }
};

namespace detail {

template <class T>
using value_t = std::conditional_t<std::is_void_v<T>, std::monostate, T>;
template <bool Outcomes, class T>
using slot_t = std::conditional_t<Outcomes, Outcome<T>, value_t<T>>;

// What gather keeps for an argument of type A: a Task<T> or a Future<T>.
template <class A>
struct Child {
    using type = decltype(ensure_future(std::declval<EventLoop&>(), std::declval<A>()));
    using result = result_of_awaitable_t<A>;
    static constexpr bool owned = is_coro_v<A>;  // a task gather made: move its result
};

// ensure_future(loop, a), and a task made here is gather's own: destroyed pending, it
// goes silently (asyncio: gather sets fut._log_destroy_pending = False when fut is
// not arg).
template <class A>
auto gather_child(EventLoop& loop, A&& a) {
    auto child = ensure_future(loop, std::forward<A>(a));
    if constexpr (Child<std::remove_cvref_t<A>>::owned)
        state_of(child)->set_log_destroy_pending(false);
    return child;
}

// The loop a future argument belongs to; null for a coroutine.
template <class A>
EventLoop* loop_of_arg(const A& a) {
    if constexpr (is_coro_v<A>)
        return nullptr;
    else
        return &state_of(a)->get_loop();
}
// The one loop of all non-null `loops`, else default_loop(). Throws std::invalid_argument
// if two differ (asyncio: ensure_future's ValueError).
EventLoop& common_loop(std::initializer_list<EventLoop*> loops);
// The CancelledError a cancelled future raises, with its message.
std::exception_ptr cancelled_error_of(FutureStateBase& fut);

template <class A>
void check_argument() {
    static_assert(!is_coro_v<std::remove_cvref_t<A>> || !std::is_lvalue_reference_v<A>,
                  "pass coroutines as rvalues: they are moved into tasks");
    using T = result_of_awaitable_t<A>;
    static_assert(
        is_coro_v<std::remove_cvref_t<A>> || std::is_void_v<T> || std::is_copy_constructible_v<T>,
        "the results of Tasks and Futures are copied: T must be copyable");
}

// A child's value, moved out if gather made the child, else copied.
template <class T, bool Owned, class C>
value_t<T> take_value(C& child) {
    if constexpr (std::is_void_v<T>)
        return std::monostate{};
    else if constexpr (Owned)
        return std::move(child.result());
    else
        return child.result();
}

template <class T, bool Owned, class C>
Outcome<T> take_outcome(C& child) {
    FutureStateBase& s = *state_of(child);
    if (s.cancelled()) return Outcome<T>::failure(cancelled_error_of(s));
    if (std::exception_ptr e = s.exception()) return Outcome<T>::failure(std::move(e));
    if constexpr (std::is_void_v<T>)
        return Outcome<T>::success();
    else
        return Outcome<T>::success(take_value<T, Owned>(child));
}

template <bool Outcomes, class A, class C>
slot_t<Outcomes, typename Child<A>::result> take_slot(C& child) {
    using T = typename Child<A>::result;
    if constexpr (Outcomes)
        return take_outcome<T, Child<A>::owned>(child);
    else
        return take_value<T, Child<A>::owned>(child);
}

// The untyped half of a gathering future: the done callback and the cancel.
class GatherCore : public Watcher {
protected:
    GatherCore(FutureStateBase& outer, bool return_exceptions) noexcept
        : Watcher(outer.get_loop()), outer_(outer), return_exceptions_(return_exceptions) {}
    ~GatherCore() = default;

    void watch(std::size_t i, FutureStateBase& child) { watch_at(i).arm(*this, child); }
    // asyncio: _GatheringFuture.cancel. Cancels every child; true if any took it, and
    // then the gather ends with CancelledError even with return_exceptions (bpo-32684).
    bool cancel_children(const std::string& message);
    // Every child is done and none failed the gather: build the results, set_result.
    virtual void set_results() = 0;

private:
    void child_done(Watch& w) final;  // asyncio: gather._done_callback
    void hold() noexcept final { outer_.retain(); }
    void unhold() noexcept final { outer_.release(); }
    const char* watcher_name() const noexcept final { return "gather"; }

    FutureStateBase& outer_;
    bool return_exceptions_;
    // Loop thread only.
    bool cancel_requested_ = false;  // asyncio: _cancel_requested
    std::string cancel_message_;
    std::size_t nfinished_ = 0;
};

// gather(a, b, c): a fixed set of children of any types; R is a std::tuple.
template <bool Outcomes, class... A>
class GatherTuple final
    : public FutureState<std::tuple<slot_t<Outcomes, typename Child<A>::result>...>>,
      public GatherCore {
public:
    using R = std::tuple<slot_t<Outcomes, typename Child<A>::result>...>;

    template <class... Args>
    GatherTuple(EventLoop& loop, Args&&... args)
        : FutureState<R>(loop, "_GatheringFuture"),
          GatherCore(*this, Outcomes),
          children_{gather_child(loop, std::forward<Args>(args))...} {  // in order
        set_watches(watches_.data(), watches_.size());
    }
    // Registers on the children; the caller holds a reference.
    void start() { start(std::index_sequence_for<A...>{}); }
    bool cancel(std::string message) override { return !this->done() && cancel_children(message); }

private:
    template <std::size_t... I>
    void start(std::index_sequence<I...>) {
        (watch(I, *state_of(std::get<I>(children_))), ...);
    }
    void set_results() override { set_results(std::index_sequence_for<A...>{}); }
    template <std::size_t... I>
    void set_results(std::index_sequence<I...>) {
        this->set_result(R{take_slot<Outcomes, A>(std::get<I>(children_))...});
    }

    std::tuple<typename Child<A>::type...> children_;
    std::array<Watch, sizeof...(A)> watches_;
};

// gather(std::vector<A>): any number of children of one type; R is a std::vector.
template <bool Outcomes, class A>
class GatherVector final
    : public FutureState<std::vector<slot_t<Outcomes, typename Child<A>::result>>>,
      public GatherCore {
public:
    using R = std::vector<slot_t<Outcomes, typename Child<A>::result>>;

    GatherVector(EventLoop& loop, std::vector<A> args)
        : FutureState<R>(loop, "_GatheringFuture"),
          GatherCore(*this, Outcomes),
          watches_(new Watch[args.size()]) {
        set_watches(watches_.get(), args.size());
        if constexpr (std::is_same_v<A, typename Child<A>::type>) {
            children_ = std::move(args);
        } else {
            children_.reserve(args.size());
            for (A& a : args) children_.push_back(gather_child(loop, std::move(a)));
        }
    }
    void start() {
        for (std::size_t i = 0; i < children_.size(); ++i) watch(i, *state_of(children_[i]));
    }
    bool cancel(std::string message) override { return !this->done() && cancel_children(message); }

private:
    void set_results() override {
        R out;
        out.reserve(children_.size());
        for (auto& child : children_) out.push_back(take_slot<Outcomes, A>(child));
        this->set_result(std::move(out));
    }

    std::vector<typename Child<A>::type> children_;
    std::unique_ptr<Watch[]> watches_;
};

template <class R>
Gathering<R> done_gathering(EventLoop& loop, R value) {
    Ref<FutureState<R>> state(new FutureState<R>(loop));
    state->set_result(std::move(value));
    return Gathering<R>(std::move(state));
}

template <class State, class... Args>
Gathering<typename State::R> start_gathering(EventLoop& loop, Args&&... args) {
    Ref<State> state(new State(loop, std::forward<Args>(args)...));
    state->start();
    return Gathering<typename State::R>(Ref<FutureState<typename State::R>>(state.get()));
}

template <bool Outcomes, class... A>
auto gather_tuple(A&&... aws) {
    (check_argument<A>(), ...);
    using State = GatherTuple<Outcomes, std::remove_cvref_t<A>...>;
    if constexpr (sizeof...(A) == 0)
        return done_gathering(default_loop(), std::tuple<>());
    else
        return start_gathering<State>(common_loop({loop_of_arg(aws)...}), std::forward<A>(aws)...);
}

template <bool Outcomes, class A>
auto gather_vector(std::vector<A> aws) {
    using State = GatherVector<Outcomes, A>;
    if (aws.empty()) return done_gathering(default_loop(), typename State::R());
    EventLoop& loop = loop_of(aws);
    return start_gathering<State>(loop, std::move(aws));
}

}  // namespace detail

// asyncio: gather(*aws). Coroutines are moved into new tasks on the running loop (or
// that of the first Future or Task given); every Future or Task must be on that loop
// (std::invalid_argument otherwise). With no arguments, already done with an empty tuple.
template <detail::Awaitable... A>
auto gather(A&&... aws) {
    return detail::gather_tuple<false>(std::forward<A>(aws)...);
}
// asyncio: gather(*aws, return_exceptions=True). A tuple of Outcome<T>.
template <detail::Awaitable... A>
auto gather(ReturnExceptions, A&&... aws) {
    return detail::gather_tuple<true>(std::forward<A>(aws)...);
}
// asyncio: gather(*list). A std::vector of results; empty in, done at once, empty out.
template <detail::Awaitable A>
auto gather(std::vector<A> aws) {
    detail::check_argument<A&&>();
    return detail::gather_vector<false>(std::move(aws));
}
template <detail::Awaitable A>
auto gather(ReturnExceptions, std::vector<A> aws) {
    detail::check_argument<A&&>();
    return detail::gather_vector<true>(std::move(aws));
}

// ---- shield --------------------------------------------------------------------------

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
// CancelledError. A coroutine becomes a task first.
template <detail::Awaitable A>
Future<detail::result_of_awaitable_t<A>> shield(A&& aw) {
    detail::check_argument<A>();
    using T = detail::result_of_awaitable_t<A>;
    constexpr bool owned = detail::is_coro_v<std::remove_cvref_t<A>>;
    EventLoop& loop = detail::common_loop({detail::loop_of_arg(aw)});
    auto inner = ensure_future(loop, std::forward<A>(aw));
    detail::Ref<detail::ShieldState<T, owned>> outer(new detail::ShieldState<T, owned>(
        loop, detail::Ref<detail::FutureStateBase>(detail::state_of(inner)),
        detail::getter_for(&inner)));
    outer->start();
    return Future<T>(detail::Ref<detail::FutureState<T>>(outer.get()));
}

}  // namespace aio
