// events.cpp - see events.hpp.
#include "lesson01_loop/events.hpp"

#include "lesson01_loop/exceptions.hpp"

namespace aio {

namespace {
thread_local EventLoop* running_loop = nullptr;
thread_local EventLoop* current_loop = nullptr;
}  // namespace

void detail::set_running_loop(EventLoop* loop) noexcept { running_loop = loop; }

EventLoop* try_get_running_loop() noexcept { return running_loop; }

EventLoop& get_running_loop() {
    if (!running_loop) throw RuntimeError("no running event loop");
    return *running_loop;
}

EventLoop& get_event_loop() {
    if (running_loop) return *running_loop;
    if (current_loop) return *current_loop;
    throw RuntimeError("There is no current event loop in thread; call set_event_loop() first");
}

void set_event_loop(EventLoop* loop) noexcept { current_loop = loop; }

std::unique_ptr<EventLoop> new_event_loop() { return std::make_unique<EventLoop>(); }

}  // namespace aio
