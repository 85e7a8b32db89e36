// helpers.hpp - what the traceback tests of lessons 2 and 3 share, beside lesson 1's.
#pragma once

#include <exception>
#include <string>
#include <utility>
#include <vector>

#include "../lesson01_loop/helpers.hpp"
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

}  // namespace test
