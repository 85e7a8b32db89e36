// selector_events.cpp - callbacks on file descriptors
// (asyncio: selector_events.BaseSelectorEventLoop.add_reader/_remove_reader/...).
//
// The loop keeps, per fd, at most one reader and one writer handle, and tells the
// selector the union of what they want (asyncio keeps one selector key per fd with a
// read|write mask the same way). The handles are persistent: they run in every
// iteration in which their fd is ready, until removed. A handle that is removed while
// it sits in the ready queue, or while it runs, is cancelled and recycled afterwards.
#include <fcntl.h>

#include <cerrno>
#include <stdexcept>
#include <string>

#include "lesson01_loop/event_loop.hpp"
#include "lesson01_loop/exceptions.hpp"

namespace aio {

namespace {
unsigned mask_of(CallbackHandle* reader, CallbackHandle* writer) {
    return (reader ? EVENT_READ : 0u) | (writer ? EVENT_WRITE : 0u);
}
}  // namespace

void EventLoop::add_fd_callback(int fd, unsigned event, CallbackHandle* h) {
    // Checked here, not by the selector, so that every selector reports a bad fd the
    // same way and at once (poll would only say POLLNVAL later).
    if (fd < 0 || ::fcntl(fd, F_GETFD) == -1) {
        release(h);
        throw OSError(std::string(event == EVENT_READ ? "add_reader" : "add_writer") + "(fd " +
                          std::to_string(fd) + ")",
                      EBADF);
    }
    h->persistent_ = true;
    if (static_cast<std::size_t>(fd) >= fds_.size()) fds_.resize(static_cast<std::size_t>(fd) + 1);
    FdCallbacks& entry = fds_[static_cast<std::size_t>(fd)];
    CallbackHandle*& slot = event == EVENT_READ ? entry.reader : entry.writer;
    unsigned old_mask = mask_of(entry.reader, entry.writer);
    CallbackHandle* old = slot;
    slot = h;
    try {
        update_selector(fd, old_mask, mask_of(entry.reader, entry.writer));
    } catch (...) {
        slot = old;
        release(h);
        throw;
    }
    if (old) drop_fd_handle(old);  // asyncio: add_reader cancels the handle it replaces
}

bool EventLoop::remove_fd_callback(int fd, unsigned event) {
    if (is_closed() || fd < 0 || static_cast<std::size_t>(fd) >= fds_.size()) return false;
    FdCallbacks& entry = fds_[static_cast<std::size_t>(fd)];
    CallbackHandle*& slot = event == EVENT_READ ? entry.reader : entry.writer;
    if (!slot) return false;
    unsigned old_mask = mask_of(entry.reader, entry.writer);
    CallbackHandle* old = slot;
    slot = nullptr;
    update_selector(fd, old_mask, mask_of(entry.reader, entry.writer));
    drop_fd_handle(old);
    return true;
}

bool EventLoop::remove_reader(int fd) {
    check_thread();
    return remove_fd_callback(fd, EVENT_READ);
}

bool EventLoop::remove_writer(int fd) {
    check_thread();
    return remove_fd_callback(fd, EVENT_WRITE);
}

// An unchanged mask is still passed to modify(): the fd may have been closed and its
// number reused since it was registered, and modify() re-adds what the kernel forgot.
void EventLoop::update_selector(int fd, unsigned old_mask, unsigned new_mask) {
    if (old_mask == 0) {
        selector_->add(fd, new_mask);
        ++user_fds_;
    } else if (new_mask == 0) {
        selector_->remove(fd);
        --user_fds_;
    } else {
        selector_->modify(fd, new_mask);
    }
}

// A removed or replaced fd handle: recycle it now unless the ready queue or the stack
// still refers to it; run_ready recycles it then.
void EventLoop::drop_fd_handle(CallbackHandle* h) noexcept {
    h->cancel();
    if (!h->queued_ && !h->running_) release(h);
}

}  // namespace aio
