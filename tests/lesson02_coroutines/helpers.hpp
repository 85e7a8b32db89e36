// helpers.hpp - what the tests of lessons 2 to 5 share, beside lesson 1's: the traceback
// tests' error_of and names, and thrown_by, the repr of what an awaitable throws.
#pragma once

#include <exception>
#include <string>
#include <utility>
#include <vector>

#include "../lesson01_loop/helpers.hpp"
#include "lesson01_loop/builtins.hpp"
#include "lesson01_loop/traceback.hpp"
#include "lesson02_coroutines/coroutines.hpp"
#include "lesson02_coroutines/driver.hpp"

namespace test {

// What running `coro` to the end on a fresh virtual loop throws, or null.
template <class T>
std::exception_ptr error_of(aio::Coro<T> coro) {
    auto loop = virtual_loop();
    try {
        loop->run_until_complete(std::move(coro));
    } catch (...) {
        return std::current_exception();
    }
    return nullptr;
}

// The coroutine names of a traceback's frames, outermost first.
inline std::vector<std::string> names(const std::vector<aio::FrameSummary>& frames) {
    std::vector<std::string> out;
    for (const aio::FrameSummary& f : frames) out.push_back(f.name);
    return out;
}

// Clang 14 with -fsanitize=undefined (its `function` check) and -g cannot compile a
// coroutine that is a function template with external linkage ("Cannot represent a
// difference across sections", llvm/llvm-project#49689): hence the unnamed namespace.
namespace {

// Awaits `awaitable`; gives Python's repr of the E it throws ("RuntimeError('...')",
// "QueueShutDown()"), or "no exception".
template <class E, class A>
aio::Coro<std::string> thrown_by(A awaitable) {
    std::string what = "no exception";
    try {
        co_await std::move(awaitable);
    } catch (const E& e) {
        what = aio::repr(e);
    }
    co_return what;
}

}  // namespace

}  // namespace test
