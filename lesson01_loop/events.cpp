// events.cpp - see events.hpp.
#include "lesson01_loop/events.hpp"

#include "lesson01_loop/exceptions.hpp"

namespace aio {

constinit thread_local EventLoop* detail::running_loop = nullptr;

namespace {
thread_local EventLoop* current_loop = nullptr;
}  // namespace

void detail::set_running_loop(EventLoop* loop) noexcept { running_loop = loop; }

void detail::throw_no_running_loop() { throw RuntimeError("no running event loop"); }

EventLoop& get_event_loop() {
    if (detail::running_loop) return *detail::running_loop;
    if (current_loop) return *current_loop;
    throw RuntimeError("There is no current event loop in thread; call set_event_loop() first");
}

void set_event_loop(EventLoop* loop) noexcept { current_loop = loop; }

std::unique_ptr<EventLoop> new_event_loop() { return std::make_unique<EventLoop>(); }

}  // namespace aio
