// exceptions.hpp - the errors lesson 1 can raise.
//
// asyncio raises Python's built-in RuntimeError for loop misuse ("This event loop is
// already running", "Event loop is closed", "no running event loop"). We mirror that
// with aio::RuntimeError so that callers can catch the loop's own complaints apart from
// other std::runtime_errors. Later lessons add their own errors beside their concepts
// (CancelledError and InvalidStateError arrive with futures in lesson 2).
#pragma once

#include <exception>
#include <stdexcept>
#include <string>

namespace aio {

// asyncio: RuntimeError raised by BaseEventLoop._check_closed/_check_running/...
class RuntimeError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// Python's built-in ValueError: an argument of the right type but a wrong value ("The
// future belongs to a different loop than the one specified as the loop argument",
// "BoundedSemaphore released too many times"). It is a std::invalid_argument, so
// `catch (const std::invalid_argument&)` catches it too.
class ValueError : public std::invalid_argument {
public:
    using std::invalid_argument::invalid_argument;
};

// A system call failed; carries errno and names the call (OSError in asyncio).
class OSError : public std::runtime_error {
public:
    OSError(const std::string& what_call, int err);
    int error_code() const noexcept { return err_; }

private:
    int err_;
};

// "aio::RuntimeError: Event loop is closed": the exception's type and message, for
// logs and printable forms. Empty for a null pointer.
std::string describe_exception(const std::exception_ptr& error);

}  // namespace aio
