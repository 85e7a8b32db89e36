// events.hpp - which loop is "the" loop (asyncio: events.py's get_running_loop,
// get_event_loop, set_event_loop, new_event_loop).
//
// Each thread has at most one running loop: the one whose run_forever/run_once is on
// its stack. Code deep inside a callback finds its loop with get_running_loop()
// instead of having it passed down. Separately, a thread may set a current loop with
// set_event_loop, which get_event_loop returns when none is running.
//
// Differences from asyncio 3.11 (the reference): get_event_loop with no running loop
// and no loop set throws RuntimeError, as asyncio 3.14 does. 3.11 makes a new loop,
// sets it and returns it, silently, when called in the main thread before any
// set_event_loop (`python3 -W always -c 'import asyncio; print(asyncio.get_event_loop())'`
// prints a loop and no warning); 3.12 and 3.13 still do, with a DeprecationWarning.
// Followed here because a loop made that way belongs to nobody: no one closes it, so
// its fds and pending callbacks live until the process ends. Make one with
// new_event_loop(), or let lesson 3's aio::run make, set and close it.
#pragma once

#include <memory>

#include "lesson01_loop/event_loop.hpp"

namespace aio {

namespace detail {
// This thread's running loop, or null (asyncio: events._running_loop.loop). constinit
// lets other files read it directly, not through the wrapper that thread_local
// variables with a dynamic initializer need: both calls below are inline, as every
// create_task asks for the running loop.
extern constinit thread_local EventLoop* running_loop;
[[noreturn]] void throw_no_running_loop();
}  // namespace detail

// The loop running in this thread; throws aio::RuntimeError("no running event loop").
inline EventLoop& get_running_loop() {
    if (!detail::running_loop) detail::throw_no_running_loop();
    return *detail::running_loop;
}
// The running loop or null; never throws (asyncio: events._get_running_loop).
inline EventLoop* try_get_running_loop() noexcept { return detail::running_loop; }
// The running loop, else the one set by set_event_loop; throws aio::RuntimeError
// when there is neither (asyncio 3.14's behaviour; see the top of this file).
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
