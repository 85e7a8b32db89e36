// gather.hpp - run awaitables at the same time and collect their results (asyncio:
// tasks.gather, tasks._GatheringFuture); shield.hpp, included here, shields one.
//
//   for (int r : co_await aio::gather(f(1), f(2), f(3))) ...     // std::array<int, 3>
//   auto [a, b] = co_await aio::gather(f(1), aio::sleep(1, 2));    // one type: an array
//   auto [n, text] = co_await aio::gather(count(), fetch(url));     // tuple<int, string>
//   std::vector<int> all = co_await aio::gather(std::move(coros), f(9));  // *coros, f(9)
//   auto g = aio::gather({f(1), f(2)});                             // a braced list
//   auto [x, y] = co_await aio::gather(aio::return_exceptions, f(), g());  // Outcome<T>s
//
// Python's gather gives a list. Here a fixed set of arguments that all give one type
// gives a std::array (iterable, indexable, and unpacked like Python's `a, b = await
// gather(x(), y())`); of several types, a std::tuple. A std::vector among the arguments
// is Python's *list: its elements take its place and the result is a std::vector.
//
// gather() makes each argument a task or a future as ensure_future does (a coroutine or
// any other awaitable, sleep() or a user's, becomes a task) and returns at once a
// Gathering<R>, a Future<R> (asyncio's _GatheringFuture) that a later co_await or
// cancel() can reach. It watches each child once (wait.hpp's Watch: no allocation per
// child) and, like asyncio:
//   - results come in argument order; a void result is a std::monostate;
//   - the first child to fail (or be cancelled) fails the gather at once, and the others
//     keep running; their later exceptions are marked retrieved;
//   - with return_exceptions, each slot is an Outcome<T>: a value or the exception, a
//     CancelledError for a cancelled child;
//   - cancelling the gather (or the task awaiting it) cancels the children; the gather
//     then ends with CancelledError carrying the message, even with return_exceptions.
// The same Task may be passed twice: it is watched twice and repeated in the results.
//
// Differences from asyncio: the results of children gather made (from coroutines and
// other awaitables) are moved into the result (nobody else can read them); those of
// Tasks and Futures passed in are copied. Awaiting a Gathering rvalue (`co_await
// gather(...)`) moves the results out of it; awaiting an lvalue gives a reference, as
// for any Future. GCC 12 cannot compile a braced list inside a co_await expression
// ("array used as initializer"): make such a gather in a statement of its own.
#pragma once

#include <array>
#include <cstddef>
#include <exception>
#include <memory>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "lesson01_loop/builtins.hpp"
#include "lesson02_coroutines/futures.hpp"
#include "lesson03_tasks/shield.hpp"
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
    // Printed as Python prints the slot: the value or the exception (builtins.hpp).
    std::string repr() const {
        return std::visit([](const auto& v) { return aio::repr(v); }, v_);
    }
    std::string str() const {
        return std::visit([](const auto& v) { return aio::str(v); }, v_);
    }

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
    std::string repr() const { return aio::repr(error_); }  // None or the exception
    std::string str() const { return aio::str(error_); }

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
    using aio_awaiter = void;  // suspends through its driver itself (coroutines.hpp)
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
    using type = future_for_t<A>;
    using result = awaited_t<A>;
    static constexpr bool owned = !FutureLike<A>;  // a task gather made: move its result
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

// A std::vector argument is Python's *list: its elements are gather's arguments. Each
// is moved out of an rvalue list and copied out of an lvalue one.
template <class V>
inline constexpr bool is_vector_v = false;
template <class E, class Alloc>
inline constexpr bool is_vector_v<std::vector<E, Alloc>> = true;
template <class A, bool = is_vector_v<std::remove_cvref_t<A>>>
struct ItemOf {
    using type = A;  // an awaitable: itself
};
template <class A>
struct ItemOf<A, true> {
    using E = typename std::remove_cvref_t<A>::value_type;
    using type = std::conditional_t<std::is_lvalue_reference_v<A>, E&, E&&>;
};
template <class A>
using item_t = typename ItemOf<A>::type;

// What gather accepts: an awaitable, or a list of them.
template <class A>
concept GatherArg = Awaitable<item_t<A>>;

// The loop all the futures among the arguments are on (aio::ValueError if two differ,
// asyncio: ensure_future(fut, loop=loop)); `found` stays null if there are none.
template <class A>
void note_loops(EventLoop*& found, const A& arg) {
    auto note = [&found](const FutureStateBase& fut) {
        if (found)
            check_loop(*found, fut);
        else
            found = &fut.get_loop();
    };
    if constexpr (is_vector_v<A>) {
        if constexpr (FutureLike<typename A::value_type>)
            for (const auto& f : arg) note(*state_of(f));
    } else if constexpr (FutureLike<A>) {
        note(*state_of(arg));
    }
}
template <class A>
std::size_t count_children(const A& arg) {
    if constexpr (is_vector_v<A>)
        return arg.size();
    else
        return 1;
}
// The CancelledError a cancelled future raises, with its message.
std::exception_ptr cancelled_error_of(FutureStateBase& fut);

// A child's value: moved out if gather made the child (nobody else can read it), else
// copied. Only a child gather made may hold a T that cannot be copied (check_argument).
template <class T>
value_t<T> take_value(FutureStateBase& child, ResultGetter<T> get, bool owned) {
    if constexpr (std::is_void_v<T>) {
        return std::monostate{};
    } else if constexpr (!std::is_copy_constructible_v<T>) {
        return std::move(get(child));
    } else {
        if (owned) return std::move(get(child));
        return get(child);
    }
}

template <bool Outcomes, class T>
slot_t<Outcomes, T> take_slot(FutureStateBase& child, ResultGetter<T> get, bool owned) {
    if constexpr (!Outcomes) {
        return take_value<T>(child, get, owned);
    } else {
        if (child.cancelled()) return Outcome<T>::failure(cancelled_error_of(child));
        if (std::exception_ptr e = child.exception()) return Outcome<T>::failure(std::move(e));
        if constexpr (std::is_void_v<T>)
            return Outcome<T>::success();
        else
            return Outcome<T>::success(take_value<T>(child, get, owned));
    }
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

// Python's list of gather(a, b, c)'s results: a std::array when every slot has one type
// (iterable, indexable, and `auto [x, y] = ...` still works), else a std::tuple.
template <class... S>
struct FixedResult {
    using type = std::tuple<S...>;
};
template <class S, class... Rest>
requires(std::is_same_v<S, Rest>&&...) struct FixedResult<S, Rest...> {
    using type = std::array<S, 1 + sizeof...(Rest)>;
};

// gather(a, b, c): a fixed set of children of any kinds, each kept as its own type.
template <bool Outcomes, class... A>
class GatherFixed final
    : public FutureState<
          typename FixedResult<slot_t<Outcomes, typename Child<A>::result>...>::type>,
      public GatherCore {
public:
    using R = typename FixedResult<slot_t<Outcomes, typename Child<A>::result>...>::type;

    template <class... Args>
    GatherFixed(EventLoop& loop, Args&&... args)
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
        this->set_result(R{slot<A>(std::get<I>(children_))...});
    }
    template <class Arg, class C>
    auto slot(C& child) {
        using T = typename Child<Arg>::result;
        return take_slot<Outcomes, T>(*state_of(child), getter_for(&child), Child<Arg>::owned);
    }

    std::tuple<typename Child<A>::type...> children_;
    std::array<Watch, sizeof...(A)> watches_;
};

// gather(list, more...): any number of children of any kinds that give one type T,
// kept type-erased beside how to read each one's result; R is a std::vector.
template <bool Outcomes, class T>
class GatherList final : public FutureState<std::vector<slot_t<Outcomes, T>>>, public GatherCore {
public:
    using R = std::vector<slot_t<Outcomes, T>>;

    // Room for n children, added with add().
    GatherList(EventLoop& loop, std::size_t n)
        : FutureState<R>(loop, "_GatheringFuture"),
          GatherCore(*this, Outcomes),
          watches_(new Watch[n]) {
        set_watches(watches_.get(), n);
        children_.reserve(n);
    }
    // Appends one argument's children: an awaitable, or each element of a list.
    template <class A>
    void add(A&& arg) {
        if constexpr (is_vector_v<std::remove_cvref_t<A>>) {
            for (auto& element : arg) add_one<item_t<A>>(static_cast<item_t<A>>(element));
        } else {
            add_one<A>(std::forward<A>(arg));
        }
    }
    void start() {
        for (std::size_t i = 0; i < children_.size(); ++i) watch(i, *children_[i].fut);
    }
    bool cancel(std::string message) override { return !this->done() && cancel_children(message); }

private:
    struct Entry {
        Ref<FutureStateBase> fut;
        ResultGetter<T> get;
        bool owned;
    };
    template <class A, class X>
    void add_one(X&& aw) {
        auto fut = gather_child(this->get_loop(), std::forward<X>(aw));
        children_.push_back(
            Entry{Ref<FutureStateBase>(state_of(fut)), getter_for(&fut), Child<A>::owned});
    }
    void set_results() override {
        R out;
        out.reserve(children_.size());
        for (Entry& c : children_) out.push_back(take_slot<Outcomes, T>(*c.fut, c.get, c.owned));
        this->set_result(std::move(out));
    }

    std::vector<Entry> children_;
    std::unique_ptr<Watch[]> watches_;
};

template <class R>
Gathering<R> done_gathering(EventLoop& loop, R value) {
    Ref<FutureState<R>> state(new FutureState<R>(loop));
    state->set_result(std::move(value));
    return Gathering<R>(std::move(state));
}

template <class State>
Gathering<typename State::R> gathering_of(Ref<State> state) {
    state->start();
    return Gathering<typename State::R>(Ref<FutureState<typename State::R>>(state.get()));
}

template <bool Outcomes, class... A>
auto gather_fixed(A&&... aws) {
    (check_argument<A>(), ...);
    using State = GatherFixed<Outcomes, std::remove_cvref_t<A>...>;
    EventLoop* loop = nullptr;
    (note_loops(loop, aws), ...);
    if constexpr (sizeof...(A) == 0)
        return done_gathering(default_loop(), std::tuple<>());
    else
        return gathering_of(
            Ref<State>(new State(loop ? *loop : default_loop(), std::forward<A>(aws)...)));
}

// The one result type of every child of gather(list, more...).
template <class A, class... More>
struct ListResult {
    using type = typename Child<item_t<A>>::result;
    static_assert((std::is_same_v<type, typename Child<item_t<More>>::result> && ...),
                  "gather() with a list gives a std::vector: every awaitable in and beside the "
                  "list must give the same type");
};

template <bool Outcomes, class... A>
auto gather_list(A&&... args) {
    (check_argument<item_t<A>>(), ...);
    using State = GatherList<Outcomes, typename ListResult<A...>::type>;
    EventLoop* loop = nullptr;
    (note_loops(loop, args), ...);
    std::size_t n = (count_children(args) + ...);
    if (n == 0) return done_gathering(loop ? *loop : default_loop(), typename State::R());
    Ref<State> state(new State(loop ? *loop : default_loop(), n));
    (state->add(std::forward<A>(args)), ...);
    return gathering_of(std::move(state));
}

template <bool Outcomes, class... A>
auto gather_any(A&&... args) {
    if constexpr ((is_vector_v<std::remove_cvref_t<A>> || ...))
        return gather_list<Outcomes>(std::forward<A>(args)...);
    else
        return gather_fixed<Outcomes>(std::forward<A>(args)...);
}

}  // namespace detail

// asyncio: gather(*aws). Coroutines and other awaitables (sleep(), a user's awaiter) are
// moved into new tasks on the running loop (or that of the first Future or Task given);
// every Future or Task must be on that loop (aio::ValueError otherwise). The result is a
// std::array when every result has one type, else a std::tuple; with no arguments,
// already done with an empty tuple.
// A std::vector among the arguments is Python's *list (`gather(*coros, extra())`): its
// elements take its place, every child must give the same type, and the result is a
// std::vector (empty in, done at once, empty out).
template <detail::GatherArg... A>
auto gather(A&&... aws) {
    return detail::gather_any<false>(std::forward<A>(aws)...);
}
// asyncio: gather(*aws, return_exceptions=True). Each slot an Outcome<T>.
template <detail::GatherArg... A>
auto gather(ReturnExceptions, A&&... aws) {
    return detail::gather_any<true>(std::forward<A>(aws)...);
}
// asyncio: gather(*[f(1), f(2)], more...). A braced list is a list: `gather({f(1), f(2)})`
// gives a std::vector. (GCC 12 cannot compile a braced list inside a co_await expression,
// "array used as initializer": make the gather in a statement of its own there.)
template <Awaitable A, std::size_t N, detail::GatherArg... More>
auto gather(A (&&list)[N], More&&... more) {
    return detail::gather_list<false>(detail::to_vector(list), std::forward<More>(more)...);
}
template <Awaitable A, std::size_t N, detail::GatherArg... More>
auto gather(ReturnExceptions, A (&&list)[N], More&&... more) {
    return detail::gather_list<true>(detail::to_vector(list), std::forward<More>(more)...);
}

}  // namespace aio
