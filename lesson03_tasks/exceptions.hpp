// exceptions.hpp - the errors lesson 3 adds (asyncio: exceptions.py, and Python's
// built-in TimeoutError that asyncio.timeout and wait_for raise since 3.11, and
// ExceptionGroup that TaskGroup raises). Both print as Python prints them (lesson 1's
// PythonException): TimeoutError(), ExceptionGroup('msg', [ValueError('bad')]).
#pragma once

#include <csignal>
#include <cstddef>
#include <exception>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <typeinfo>
#include <utility>
#include <vector>

#include "lesson01_loop/builtins.hpp"
#include "lesson01_loop/exceptions.hpp"

namespace aio {

// What wait_for and timeout() raise when the deadline passes. As in Python its message
// is empty (str(TimeoutError()) == '', the traceback's last line is just TimeoutError),
// and when a deadline cut a block short it carries the CancelledError that did it as
// its cause: `raise TimeoutError from exc` is `throw aio::TimeoutError("", exc)`.
class TimeoutError : public std::runtime_error, public PythonException {
public:
    TimeoutError() : std::runtime_error("") {}
    explicit TimeoutError(const std::string& what, std::exception_ptr cause = nullptr)
        : std::runtime_error(what), cause_(std::move(cause)) {}

    // Python's e.__cause__: the exception this one was raised from; null if none.
    const std::exception_ptr& cause() const noexcept { return cause_; }
    Name python_name() const noexcept override { return {"TimeoutError", typeid(TimeoutError)}; }
    std::exception_ptr python_cause() const noexcept override { return cause_; }

private:
    std::exception_ptr cause_;
};

// Python's KeyboardInterrupt: what run() raises when Ctrl+C cancelled the main task
// (runners.py, Runner.run). Python makes it a BaseException, not an Exception, so that
// `except Exception` lets it pass; here it is a std::exception but not a
// std::runtime_error or an aio error, so `catch (const std::runtime_error&)` lets it pass
// as it lets CancelledError pass. Escaping main(), it is reported as Python reports it
// (a traceback ending "KeyboardInterrupt"), then the program ends killed by SIGINT.
class KeyboardInterrupt : public std::exception, public PythonException {
public:
    const char* what() const noexcept override { return ""; }
    Name python_name() const noexcept override {
        return {"KeyboardInterrupt", typeid(KeyboardInterrupt)};
    }
    int python_exit_signal() const noexcept override { return SIGINT; }
};

// Python 3.11's ExceptionGroup: several errors raised together, as TaskGroup does when
// more than one child fails. what() is Python's str(eg):
// "unhandled errors in a TaskGroup (2 sub-exceptions)". Groups nest: a TaskGroup inside
// a TaskGroup gives a group whose member is a group.
//
// C++ has no `except*`; split<E>() is its answer, as Python's eg.split(E):
//     catch (const aio::ExceptionGroup& eg) {
//         auto [timeouts, rest] = eg.split<aio::TimeoutError>();
//         if (timeouts) ...handle them...;
//         if (rest) throw *rest;            // what `except*` re-raises
//     }
// Both halves keep the nesting of the original; either is empty (nullopt) when nothing
// went there. contains<E>() says whether any member, at any depth, is an E.
//
// It prints as Python's: repr ExceptionGroup('msg', [ValueError('bad'), TimeoutError()]),
// str "msg (2 sub-exceptions)", and at the top level the boxed traceback of each member.
class ExceptionGroup : public std::exception, public PythonException {
public:
    // Throws aio::ValueError for an empty list or a null member, with Python's words.
    ExceptionGroup(std::string message, std::vector<std::exception_ptr> exceptions)
        : message_(std::move(message)), exceptions_(std::move(exceptions)) {
        if (exceptions_.empty())
            throw ValueError("second argument (exceptions) must be a non-empty sequence");
        for (std::size_t i = 0; i < exceptions_.size(); ++i)
            if (!exceptions_[i])
                throw ValueError("Item " + std::to_string(i) +
                                 " of second argument (exceptions) is not an exception");
        std::size_t n = exceptions_.size();
        what_ = message_ + " (" + std::to_string(n) + " sub-exception" + (n > 1 ? "s)" : ")");
    }

    const char* what() const noexcept override { return what_.c_str(); }
    const std::string& message() const noexcept { return message_; }
    const std::vector<std::exception_ptr>& exceptions() const noexcept { return exceptions_; }

    Name python_name() const noexcept override {
        return {"ExceptionGroup", typeid(ExceptionGroup)};
    }
    // Python's args: the message and the list of members.
    std::string python_args() const override { return repr(message_) + ", " + repr(exceptions_); }
    std::vector<std::exception_ptr> python_members() const override { return exceptions_; }

    // Python: eg.split(E) -> (match, rest).
    template <class E>
    std::pair<std::optional<ExceptionGroup>, std::optional<ExceptionGroup>> split() const;
    // Python: eg.subgroup(E) is not None.
    template <class E>
    bool contains() const {
        return split<E>().first.has_value();
    }

private:
    std::optional<ExceptionGroup> derive(std::vector<std::exception_ptr> members) const {
        if (members.empty()) return std::nullopt;
        return ExceptionGroup(message_, std::move(members));
    }

    std::string message_;
    std::vector<std::exception_ptr> exceptions_;
    std::string what_;
};

// Each member is sorted by rethrowing it (error paths only: a throw costs ~1 µs).
template <class E>
std::pair<std::optional<ExceptionGroup>, std::optional<ExceptionGroup>> ExceptionGroup::split()
    const {
    if constexpr (std::is_base_of_v<E, ExceptionGroup>) {
        return {*this, std::nullopt};  // the group itself is an E
    } else {
        std::vector<std::exception_ptr> matched, rest;
        for (const std::exception_ptr& e : exceptions_) {
            try {
                std::rethrow_exception(e);
            } catch (const E&) {
                matched.push_back(e);
            } catch (const ExceptionGroup& inner) {
                auto [m, r] = inner.split<E>();
                if (m) matched.push_back(std::make_exception_ptr(std::move(*m)));
                if (r) rest.push_back(std::make_exception_ptr(std::move(*r)));
            } catch (...) {
                rest.push_back(e);
            }
        }
        return {derive(std::move(matched)), derive(std::move(rest))};
    }
}

}  // namespace aio
