// exceptions.hpp - the errors lesson 3 adds (asyncio: exceptions.py, and Python's
// built-in TimeoutError that asyncio.timeout and wait_for raise since 3.11).
#pragma once

#include <stdexcept>
#include <string>

namespace aio {

// What wait_for and timeout() raise when the deadline passes.
class TimeoutError : public std::runtime_error {
public:
    TimeoutError() : std::runtime_error("timed out") {}
    explicit TimeoutError(const std::string& what) : std::runtime_error(what) {}
};

}  // namespace aio
