// exceptions.cpp - from an errno to the OSError subclass Python picks for it
// (CPython: Objects/exceptions.c, the errnomap built by _PyExc_InitState).
#include "lesson05_io/exceptions.hpp"

#include <cerrno>
#include <cstring>

namespace aio {

namespace {

template <class E>
std::exception_ptr make(int err, const std::string& text, const std::string& filename) {
    return std::make_exception_ptr(E(err, text, filename));
}

}  // namespace

std::exception_ptr make_os_error(int err, std::string text, std::string filename) {
    if (text.empty()) text = std::strerror(err);
    switch (err) {
        case EAGAIN:
#if EWOULDBLOCK != EAGAIN
        case EWOULDBLOCK:
#endif
        case EINPROGRESS:
        case EALREADY: return make<BlockingIOError>(err, text, filename);
        case EPIPE:
        case ESHUTDOWN: return make<BrokenPipeError>(err, text, filename);
        case ECONNABORTED: return make<ConnectionAbortedError>(err, text, filename);
        case ECONNREFUSED: return make<ConnectionRefusedError>(err, text, filename);
        case ECONNRESET: return make<ConnectionResetError>(err, text, filename);
        case EEXIST: return make<FileExistsError>(err, text, filename);
        case ENOENT: return make<FileNotFoundError>(err, text, filename);
        case EINTR: return make<InterruptedError>(err, text, filename);
        case EISDIR: return make<IsADirectoryError>(err, text, filename);
        case ENOTDIR: return make<NotADirectoryError>(err, text, filename);
        case EACCES:
        case EPERM: return make<PermissionError>(err, text, filename);
        default: return make<OSError>(err, text, filename);
    }
}

void throw_os_error(int err, std::string text, std::string filename) {
    std::rethrow_exception(make_os_error(err, std::move(text), std::move(filename)));
}

namespace {

// asyncio: IncompleteReadError.__init__'s message.
std::string incomplete_message(std::size_t got, std::optional<std::size_t> expected) {
    return std::to_string(got) + " bytes read on a total of " +
           (expected ? std::to_string(*expected) : std::string("undefined")) + " expected bytes";
}

}  // namespace

IncompleteReadError::IncompleteReadError(bytes partial, std::optional<std::size_t> expected)
    : std::runtime_error(incomplete_message(partial.size(), expected)),
      partial_(std::move(partial)),
      expected_(expected) {}

}  // namespace aio
