// helpers.hpp - what several lesson-3 test files share, beside lesson 1's helpers.
#pragma once

#include <cstdio>
#include <string>

#include "../lesson01_loop/helpers.hpp"
#include "lesson01_loop/events.hpp"
#include "lesson03_tasks/tasks.hpp"

namespace test {

// The running loop's time, for traces: "1", "2.5".
inline std::string now() {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", aio::get_running_loop().time());
    return buf;
}

// Awaits a task from a coroutine of its own (to run it under outcome() and the like).
template <class T>
aio::Coro<T> await_task(aio::Task<T> t) {
    co_return co_await t;
}

}  // namespace test
