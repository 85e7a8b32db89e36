// exceptions.hpp - the errors lesson 1 can raise, and how any exception is named the way
// Python names it.
//
// asyncio raises Python's built-in RuntimeError for loop misuse ("This event loop is
// already running", "Event loop is closed", "no running event loop"). We mirror that
// with aio::RuntimeError so that callers can catch the loop's own complaints apart from
// other std::runtime_errors. Python's ValueError and TypeError live here too, the first
// lesson that can be handed a bad argument, so that no later lesson has to reach for a
// neighbour's header to raise one. Later lessons add their own errors beside their
// concepts (CancelledError and InvalidStateError arrive with futures in lesson 2).
//
// Every exception type of this library implements PythonException, a small virtual
// interface that tells lesson 1's printers (describe_exception here, repr/str in
// builtins.hpp, the traceback in traceback.hpp) what Python would show: the type's
// name ("asyncio.exceptions.CancelledError"), the arguments repr() shows, its __cause__,
// and, for lesson 3's ExceptionGroup, its members, without lesson 1 naming those types.
// A type without it (std::runtime_error, a user's MyError) shows its C++ name.
#pragma once

#include <exception>
#include <stdexcept>
#include <string>
#include <typeinfo>
#include <vector>

namespace aio {

// What Python would print for an exception of this library (see above). Mixed into
// each exception class beside its std:: base.
class PythonException {
public:
    // Python's name for the type, qualified as a traceback's last line shows it
    // (type.__module__ + "." + __qualname__, no module for builtins); and the C++ type it
    // names: a user's class derived from an aio error (no override) keeps its C++ name.
    struct Name {
        const char* qualified;  // "RuntimeError", "asyncio.exceptions.CancelledError"
        const std::type_info& type;
    };
    virtual Name python_name() const noexcept = 0;
    // Python's e.args as repr() shows them, between the parentheses: "'bad'", or ""
    // for an empty message. ExceptionGroup adds its list of members.
    virtual std::string python_args() const;
    // Python's e.__cause__ (`raise TimeoutError from exc`); null if none.
    virtual std::exception_ptr python_cause() const noexcept { return nullptr; }
    // ExceptionGroup.exceptions; empty for every other type.
    virtual std::vector<std::exception_ptr> python_members() const { return {}; }
    // The signal the top level ends the program by after its report, 0 for an exit
    // status of 1: CPython 3.8+ re-raises SIGINT for an unhandled KeyboardInterrupt
    // (Modules/main.c, exit_sigint) so that the shell sees "killed by SIGINT" (130).
    virtual int python_exit_signal() const noexcept { return 0; }

protected:
    PythonException() = default;
    PythonException(const PythonException&) = default;
    PythonException& operator=(const PythonException&) = default;
    ~PythonException() = default;
};

// asyncio: RuntimeError raised by BaseEventLoop._check_closed/_check_running/...
class RuntimeError : public std::runtime_error, public PythonException {
public:
    using std::runtime_error::runtime_error;
    Name python_name() const noexcept override { return {"RuntimeError", typeid(RuntimeError)}; }
};

// Python's built-in ValueError: an argument of the right type but a wrong value ("The
// future belongs to a different loop than the one specified as the loop argument",
// "BoundedSemaphore released too many times"). It is a std::invalid_argument, so
// `catch (const std::invalid_argument&)` catches it too.
class ValueError : public std::invalid_argument, public PythonException {
public:
    using std::invalid_argument::invalid_argument;
    Name python_name() const noexcept override { return {"ValueError", typeid(ValueError)}; }
};

// Python's built-in TypeError: an argument of the wrong kind ("A coroutine object is
// required", "invalid exception object"). Also a std::invalid_argument, but not a
// ValueError: `catch (const aio::ValueError&)` lets it pass, as `except ValueError` does.
class TypeError : public std::invalid_argument, public PythonException {
public:
    using std::invalid_argument::invalid_argument;
    Name python_name() const noexcept override { return {"TypeError", typeid(TypeError)}; }
};

// A system call failed; carries errno (Python's OSError). Two forms:
//   OSError("epoll_ctl(ADD)", EBADF)   the loop's own failures: "epoll_ctl(ADD): Bad file
//                                      descriptor", naming the call;
//   OSError(ECONNREFUSED, "Connect call failed ('127.0.0.1', 1)")   Python's
//                                      OSError(errno, strerror): str "[Errno 111] Connect
//                                      call failed ...", repr OSError(111, '...'), as the
//                                      I/O of lesson 5 raises them (with a filename:
//                                      "[Errno 2] No such file or directory: 'a.txt'").
// Lesson 5 adds the subclasses Python picks by errno (ConnectionRefusedError, ...).
class OSError : public std::runtime_error, public PythonException {
public:
    OSError(const std::string& what_call, int err);
    OSError(int err, const std::string& text, const std::string& filename = {});
    int error_code() const noexcept { return err_; }  // Python: e.errno
    Name python_name() const noexcept override { return {"OSError", typeid(OSError)}; }
    std::string python_args() const override;

private:
    int err_;
    std::string strerror_;  // Python: e.strerror; empty in the call-naming form
};

// Python's name for the exception's type: "RuntimeError", "TimeoutError",
// "asyncio.exceptions.CancelledError"; for a type that is not this library's, the
// demangled C++ name ("std::runtime_error", "MyError"). `qualified` false gives the
// bare name repr() uses ("CancelledError").
std::string python_type_name(const std::exception& error, bool qualified = true);

// Python's traceback.format_exception_only, without the newline: the type's name and the
// message, "RuntimeError: Event loop is closed", or the name alone when the message is
// empty ("TimeoutError"). Empty for a null pointer.
std::string describe_exception(const std::exception_ptr& error);

}  // namespace aio
