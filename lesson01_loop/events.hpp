// events.hpp - which loop is "the" loop (asyncio: events.py's get_running_loop,
// get_event_loop, set_event_loop, new_event_loop).
//
// Each thread has at most one running loop: the one whose run_forever/run_once is on
// its stack. Code deep inside a callback finds its loop with get_running_loop()
// instead of having it passed down. Separately, a thread may set a current loop with
// set_event_loop, which get_event_loop returns when none is running.
#pragma once

#include <memory>

#include "lesson01_loop/event_loop.hpp"

namespace aio {

// The loop running in this thread; throws aio::RuntimeError("no running event loop").
EventLoop& get_running_loop();
// The running loop or null; never throws (asyncio: events._get_running_loop).
EventLoop* try_get_running_loop() noexcept;
// The running loop, else the one set by set_event_loop; throws aio::RuntimeError
// when there is neither (asyncio 3.12+; 3.11 made one with a DeprecationWarning).
EventLoop& get_event_loop();
// Makes `loop` this thread's current loop (null clears it). The caller keeps ownership.
void set_event_loop(EventLoop* loop) noexcept;
// A fresh loop with the default selector and clock (AIO_SELECTOR, AIO_CLOCK).
std::unique_ptr<EventLoop> new_event_loop();

namespace detail {
// Called by the loop as it starts and stops running (asyncio: _set_running_loop).
void set_running_loop(EventLoop* loop) noexcept;
}  // namespace detail

}  // namespace aio
