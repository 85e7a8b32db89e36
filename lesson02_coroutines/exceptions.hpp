// exceptions.hpp - the errors futures raise (asyncio: exceptions.py).
//
// CancelledError is what a cancelled future's result() throws and what appears at the
// co_await of a cancelled task; it carries the message given to cancel(msg).
// InvalidStateError is asking a future for something it cannot give yet (or twice).
// Neither derives from the other or from aio::RuntimeError, as in asyncio, so that
// `catch (const std::exception&)` in user code is the only thing that swallows both.
// Each prints as Python prints it (lesson 1's PythonException): repr CancelledError('x'),
// and a traceback's last line asyncio.exceptions.CancelledError: x.
#pragma once

#include <exception>
#include <stdexcept>
#include <string>
#include <typeinfo>

#include "lesson01_loop/exceptions.hpp"

namespace aio {

// asyncio: exceptions.CancelledError. what() is the cancel message ("" if none).
class CancelledError : public std::exception, public PythonException {
public:
    CancelledError() = default;
    explicit CancelledError(std::string message) : message_(std::move(message)) {}
    const char* what() const noexcept override { return message_.c_str(); }
    const std::string& message() const noexcept { return message_; }
    Name python_name() const noexcept override {
        return {"asyncio.exceptions.CancelledError", typeid(CancelledError)};
    }

private:
    std::string message_;
};

// True if `error` holds a CancelledError (costs a rethrow: for the rare paths only).
inline bool is_cancelled_error(const std::exception_ptr& error) noexcept {
    if (!error) return false;
    try {
        std::rethrow_exception(error);
    } catch (const CancelledError&) {
        return true;
    } catch (...) {
        return false;
    }
}

// asyncio: exceptions.InvalidStateError.
class InvalidStateError : public std::logic_error, public PythonException {
public:
    using std::logic_error::logic_error;
    Name python_name() const noexcept override {
        return {"asyncio.exceptions.InvalidStateError", typeid(InvalidStateError)};
    }
};

// Python's GeneratorExit: thrown at an async generator's co_yield by aclose(), so
// that its cleanup runs. The generator should let it pass (or return). Its message is
// empty, as Python's: repr GeneratorExit().
class GeneratorExit : public std::exception, public PythonException {
public:
    const char* what() const noexcept override { return ""; }
    Name python_name() const noexcept override { return {"GeneratorExit", typeid(GeneratorExit)}; }
};

}  // namespace aio
