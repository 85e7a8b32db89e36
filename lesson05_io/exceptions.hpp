// exceptions.hpp - the errors of I/O: Python's OSError subclasses, socket.gaierror, and
// asyncio's IncompleteReadError and LimitOverrunError (asyncio: exceptions.py).
//
// Python's OSError(errno, text) constructor hands back the subclass its errno names:
// ECONNREFUSED gives ConnectionRefusedError, EPIPE BrokenPipeError, ENOENT
// FileNotFoundError. So `except ConnectionResetError:` catches a peer's reset however
// deep it was raised. C++ constructors cannot choose their class, so the one place
// that turns an errno into an exception is make_os_error() below (throw_os_error
// throws it); every system call of this lesson reports its failure through it.
//
//   OSError                            (lesson 1)
//    ├── BlockingIOError               EAGAIN EWOULDBLOCK EINPROGRESS EALREADY
//    ├── ConnectionError
//    │    ├── BrokenPipeError          EPIPE ESHUTDOWN
//    │    ├── ConnectionAbortedError   ECONNABORTED
//    │    ├── ConnectionRefusedError   ECONNREFUSED
//    │    └── ConnectionResetError     ECONNRESET
//    ├── FileExistsError               EEXIST
//    ├── FileNotFoundError             ENOENT
//    ├── InterruptedError              EINTR
//    ├── IsADirectoryError             EISDIR
//    ├── NotADirectoryError            ENOTDIR
//    ├── PermissionError               EACCES EPERM
//    └── gaierror                      getaddrinfo's EAI_* codes (socket.gaierror)
// Python maps ETIMEDOUT to its TimeoutError, which is an OSError there; this library's
// TimeoutError (lesson 3) is the timeouts' and carries no errno, so ETIMEDOUT stays a
// plain OSError here.
#pragma once

#include <cstddef>
#include <exception>
#include <optional>
#include <stdexcept>
#include <string>
#include <typeinfo>

#include "lesson01_loop/exceptions.hpp"
#include "lesson05_io/bytes.hpp"

namespace aio {

namespace detail {
// One of Python's OSError subclasses: its base's constructors, its own Python name
// (Self::python_type).
template <class Self, class Base>
class OSErrorKind : public Base {
public:
    using Base::Base;
    PythonException::Name python_name() const noexcept override {
        return {Self::python_type, typeid(Self)};
    }
};
}  // namespace detail

class BlockingIOError : public detail::OSErrorKind<BlockingIOError, OSError> {
public:
    using OSErrorKind::OSErrorKind;
    static constexpr const char* python_type = "BlockingIOError";
};
class ConnectionError : public detail::OSErrorKind<ConnectionError, OSError> {
public:
    using OSErrorKind::OSErrorKind;
    static constexpr const char* python_type = "ConnectionError";
};
class BrokenPipeError : public detail::OSErrorKind<BrokenPipeError, ConnectionError> {
public:
    using OSErrorKind::OSErrorKind;
    static constexpr const char* python_type = "BrokenPipeError";
};
class ConnectionAbortedError : public detail::OSErrorKind<ConnectionAbortedError, ConnectionError> {
public:
    using OSErrorKind::OSErrorKind;
    static constexpr const char* python_type = "ConnectionAbortedError";
};
class ConnectionRefusedError : public detail::OSErrorKind<ConnectionRefusedError, ConnectionError> {
public:
    using OSErrorKind::OSErrorKind;
    static constexpr const char* python_type = "ConnectionRefusedError";
};
class ConnectionResetError : public detail::OSErrorKind<ConnectionResetError, ConnectionError> {
public:
    using OSErrorKind::OSErrorKind;
    static constexpr const char* python_type = "ConnectionResetError";
};
class FileExistsError : public detail::OSErrorKind<FileExistsError, OSError> {
public:
    using OSErrorKind::OSErrorKind;
    static constexpr const char* python_type = "FileExistsError";
};
class FileNotFoundError : public detail::OSErrorKind<FileNotFoundError, OSError> {
public:
    using OSErrorKind::OSErrorKind;
    static constexpr const char* python_type = "FileNotFoundError";
};
class InterruptedError : public detail::OSErrorKind<InterruptedError, OSError> {
public:
    using OSErrorKind::OSErrorKind;
    static constexpr const char* python_type = "InterruptedError";
};
class IsADirectoryError : public detail::OSErrorKind<IsADirectoryError, OSError> {
public:
    using OSErrorKind::OSErrorKind;
    static constexpr const char* python_type = "IsADirectoryError";
};
class NotADirectoryError : public detail::OSErrorKind<NotADirectoryError, OSError> {
public:
    using OSErrorKind::OSErrorKind;
    static constexpr const char* python_type = "NotADirectoryError";
};
class PermissionError : public detail::OSErrorKind<PermissionError, OSError> {
public:
    using OSErrorKind::OSErrorKind;
    static constexpr const char* python_type = "PermissionError";
};
// Python: socket.gaierror(EAI_NONAME, 'Name or service not known'); errno is the
// (negative) EAI_* code, the text gai_strerror's.
class gaierror : public detail::OSErrorKind<gaierror, OSError> {
public:
    using OSErrorKind::OSErrorKind;
    static constexpr const char* python_type = "socket.gaierror";
};

// Python's built-in NotImplementedError (a RuntimeError): what a pipe transport raises for
// the half of Transport it does not have (write() on a read pipe, pause_reading() on a
// write pipe), as asyncio's ReadTransport/WriteTransport base methods do.
class NotImplementedError : public RuntimeError {
public:
    using RuntimeError::RuntimeError;
    Name python_name() const noexcept override {
        return {"NotImplementedError", typeid(NotImplementedError)};
    }
};

// The OSError subclass Python would raise for `err`, with `text` (default: strerror)
// and an optional filename: "[Errno 111] Connect call failed ('127.0.0.1', 1)".
std::exception_ptr make_os_error(int err, std::string text = {}, std::string filename = {});
[[noreturn]] void throw_os_error(int err, std::string text = {}, std::string filename = {});

// asyncio.IncompleteReadError: readexactly(n) met EOF after partial bytes (Python's
// EOFError subclass). str: "3 bytes read on a total of 10 expected bytes".
class IncompleteReadError : public std::runtime_error, public PythonException {
public:
    IncompleteReadError(bytes partial, std::optional<std::size_t> expected);
    const bytes& partial() const noexcept { return partial_; }
    std::optional<std::size_t> expected() const noexcept { return expected_; }
    Name python_name() const noexcept override {
        return {"asyncio.exceptions.IncompleteReadError", typeid(IncompleteReadError)};
    }

private:
    bytes partial_;
    std::optional<std::size_t> expected_;  // None: read until a separator that never came
};

// asyncio.LimitOverrunError: readuntil() found no separator within the limit.
// consumed() is how many bytes the caller would have to consume to go on (the data stays
// in the reader's buffer, as asyncio leaves it).
class LimitOverrunError : public std::runtime_error, public PythonException {
public:
    LimitOverrunError(const std::string& message, std::size_t consumed)
        : std::runtime_error(message), consumed_(consumed) {}
    std::size_t consumed() const noexcept { return consumed_; }
    Name python_name() const noexcept override {
        return {"asyncio.exceptions.LimitOverrunError", typeid(LimitOverrunError)};
    }

private:
    std::size_t consumed_;
};

}  // namespace aio
