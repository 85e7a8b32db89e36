// async_generators.hpp - aio::AsyncGenerator<T>, Python's async generator
// (`async def f(): ... yield x`, consumed with `async for`).
//
// The body may both co_await (futures, sleep, other coroutines) and co_yield values.
// C++ has no `async for`, so a consumer writes the loop itself:
//
//     AsyncGenerator<std::string> lines = read_lines(...);
//     while (std::optional<std::string> line = co_await lines.next()) use(*line);
//
// next() resumes the generator by symmetric transfer; the generator runs (awaiting
// whatever it needs, through the consumer's driver) until its next co_yield, which
// jumps straight back to the consumer with the value. When the body returns, next()
// gives std::nullopt; when it throws, next() rethrows.
//
// Cleanup. Leaving the consuming loop early (break, return, an exception) destroys the
// generator object, and with it the frame: the destructors of the generator's locals
// run, so RAII cleanup happens at once. Cleanup that must itself await needs
// `co_await gen.aclose()` (asyncio: agen.aclose()): it throws aio::GeneratorExit at the
// suspended co_yield, and the body may catch it, await its cleanup and return.
//
// Parameters are taken by value, as Coro's (coroutines.hpp says why and what is
// rejected): a generator runs long after the call that made it returned.
#pragma once

#include <coroutine>
#include <exception>
#include <optional>
#include <utility>

#include "lesson01_loop/exceptions.hpp"
#include "lesson02_coroutines/coroutines.hpp"
#include "lesson02_coroutines/exceptions.hpp"
#include "lesson02_coroutines/frame_pool.hpp"

namespace aio {

template <class T>
class [[nodiscard]] AsyncGenerator {
public:
    struct promise_type : detail::PromiseBase {
        promise_type(const char* function = __builtin_FUNCTION(),
                     const char* file = __builtin_FILE(), int line = __builtin_LINE()) noexcept
            : PromiseBase(function, file, line) {}
        // A generator never becomes a task: its frame needs no room for one.
        static void* operator new(std::size_t bytes) { return detail::pool_allocate(bytes); }
        static void operator delete(void* frame, std::size_t bytes) noexcept {
            detail::pool_deallocate(frame, bytes);
        }

        AsyncGenerator get_return_object() noexcept {
            return AsyncGenerator(std::coroutine_handle<promise_type>::from_promise(*this));
        }
        // co_yield v: store it, jump back to the consumer waiting in next().
        // Resumed by next() to go on, or by aclose() to throw GeneratorExit here.
        struct YieldAwaiter {
            bool await_ready() noexcept { return false; }
            std::coroutine_handle<> await_suspend(
                std::coroutine_handle<promise_type> self) noexcept {
                promise = &self.promise();
                return promise->continuation;
            }
            void await_resume() {
                if (promise->closing) throw GeneratorExit{};
            }
            promise_type* promise = nullptr;
        };
        template <class U>
        YieldAwaiter yield_value(U&& v) {
            if (closing) throw RuntimeError("async generator ignored GeneratorExit");
            value.emplace(std::forward<U>(v));
            return YieldAwaiter{};
        }
        void return_void() noexcept {}

        std::optional<T> value;  // the last yielded value, until next() takes it
        bool closing = false;    // aclose() in progress
    };
    using frame_handle = std::coroutine_handle<promise_type>;

    explicit AsyncGenerator(frame_handle frame) noexcept : frame_(frame) {}
    AsyncGenerator(AsyncGenerator&& o) noexcept { take(o); }
    AsyncGenerator& operator=(AsyncGenerator&& o) noexcept {
        if (this != &o) {
            destroy();
            take(o);
        }
        return *this;
    }
    ~AsyncGenerator() { destroy(); }

    // co_await gen.next(): the next value, or std::nullopt once the body has returned.
    struct NextAwaiter {
        using aio_awaiter = void;  // suspends through its driver itself (coroutines.hpp)
        frame_handle frame;
        std::coroutine_handle<>* owner;  // the generator's handle (see coroutines.hpp)
        bool await_ready() {
            if (!frame) throw RuntimeError("cannot iterate a moved-from async generator");
            return frame.done();
        }
        template <class P>
        std::coroutine_handle<> await_suspend(std::coroutine_handle<P> consumer) noexcept {
            frame.promise().resumed_by(consumer, owner);
            return frame;
        }
        std::optional<T> await_resume() {
            promise_type& p = frame.promise();
            if (p.exception) std::rethrow_exception(std::exchange(p.exception, nullptr));
            if (frame.done()) return std::nullopt;
            return std::exchange(p.value, std::nullopt);
        }
    };
    NextAwaiter next() noexcept { return NextAwaiter{frame(), &frame_}; }

    // co_await gen.aclose(): throw GeneratorExit at the suspended co_yield and let the
    // body finish. Nothing to do if it never started or already finished.
    struct CloseAwaiter {
        using aio_awaiter = void;  // suspends through its driver itself (coroutines.hpp)
        frame_handle frame;
        std::coroutine_handle<>* owner;
        bool await_ready() noexcept {
            if (!frame || frame.done()) return true;
            if (!frame.promise().started) {
                frame.promise().closed = true;  // never ran: nothing to clean up
                return true;
            }
            return false;
        }
        template <class P>
        std::coroutine_handle<> await_suspend(std::coroutine_handle<P> consumer) noexcept {
            frame.promise().resumed_by(consumer, owner);
            frame.promise().closing = true;
            return frame;
        }
        void await_resume() {
            if (!frame || !frame.promise().closing) return;
            std::exception_ptr error = std::exchange(frame.promise().exception, nullptr);
            if (!error) return;
            try {
                std::rethrow_exception(error);
            } catch (const GeneratorExit&) {
                // the expected way out
            }
        }
    };
    CloseAwaiter aclose() noexcept { return CloseAwaiter{frame(), &frame_}; }

    bool done() const noexcept { return !frame_ || frame_.done(); }

private:
    frame_handle frame() const noexcept { return detail::typed<promise_type>(frame_); }
    void take(AsyncGenerator& other) noexcept {
        frame_ = std::exchange(other.frame_, {});
        if (frame_) detail::moved_owner(frame_, other.frame_, frame().promise());
    }
    void destroy() noexcept {
        if (!frame_) return;
        // No "never awaited" warning, unlike a coroutine: Python drops an async
        // generator that was never iterated silently (`lines = reader.lines()` unused).
        std::exchange(frame_, {}).destroy();
    }

    // Type-erased, as Coro's: an awaited frame records its owner (coroutines.hpp).
    std::coroutine_handle<> frame_;
};

}  // namespace aio

// As for Coro<T> (coroutines.hpp): the promise type, and no parameter that may dangle.
template <class T, class... Args>
struct std::coroutine_traits<aio::AsyncGenerator<T>, Args...>
    : aio::detail::ParametersByValue<aio::AsyncGenerator<T>, Args...> {
    using promise_type = typename aio::AsyncGenerator<T>::promise_type;
};
