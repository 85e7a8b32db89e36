// frame_room.hpp - a coroutine frame's block, with room in front for its driver.
//
// A task is two objects: its coroutine's frame, which the compiler allocates when the
// coroutine is called, and the driver (lesson 3: the Task) that runs it, made later
// by create_task. Two objects would be two allocations per task. So every frame is
// allocated with a room in front of it, big enough for a driver, and the driver of
// that frame is constructed in the room: one pool block per task.
//
//     pool block:  [ room: the driver (a Task), or unused ........ | tag ][ frame ]
//                    ^ Driver* (the driver's own address)            ^ 8 B  ^ handle
//
// Nothing knows at the call whether the frame will become a task: `create_task(f())`
// calls f() first. So every frame pays for the room, also one that is only ever
// awaited (`co_await f()`), and a chain of k awaited coroutines carries k-1 unused
// rooms while it is suspended. That is the price of one allocation per task.
//
// The frame and its driver die at different times (loop.close() destroys the frame
// of a pending task that Task<T> handles still reference; a finished task keeps its
// frame, where its result lives, until the last reference goes). So the block goes
// back to the pool when the second of the two dies: while the room is taken, the
// frame's operator delete keeps the block (under AddressSanitizer it poisons the
// dead frame), and the driver's last release frees it.
//
// The room's size is whatever the largest driver needs (set_frame_room; lesson 2 asks
// for a Driver's, lesson 3 for a Task's): a frame made before that (during static
// initialisation) may have a smaller room, and its driver is then allocated on its own.
// A driver made by a user's task factory is allocated on its own too.
//
// asyncio has no counterpart: a Python Task and its coroutine are two heap objects.
#pragma once

#include <coroutine>
#include <cstddef>
#include <cstdint>

#include "lesson02_coroutines/frame_pool.hpp"

namespace aio::detail {

// The last 8 bytes of the room, right in front of the frame: the frame's own record of
// its block, found from the frame's address alone.
struct FrameTag {
    std::uint32_t frame_bytes;  // as the compiler asked operator new for
    std::uint16_t room_bytes;   // the room, this tag included; a multiple of 16
    bool taken;                 // a driver lives in the room
};
inline FrameTag& frame_tag(void* frame) noexcept { return *(static_cast<FrameTag*>(frame) - 1); }
inline char* room_of(void* frame, const FrameTag& tag) noexcept {
    return static_cast<char*>(frame) - tag.room_bytes;
}

// The room of frames allocated from now on (set_frame_room widens it).
extern std::size_t frame_room_now;

// The promise's operator new / delete (coroutines.hpp): a frame of `bytes` with the
// room in front. Delete keeps the block while a driver lives in the room. Inline, as
// the rest of this file: they are on every coroutine call's path and every spawn's.
inline void* frame_allocate(std::size_t bytes) {
    std::size_t room = frame_room_now;
    char* frame = static_cast<char*>(pool_allocate(room + bytes)) + room;
    frame_tag(frame) = {static_cast<std::uint32_t>(bytes), static_cast<std::uint16_t>(room), false};
    return frame;
}
void keep_dead_frame(void* frame, std::size_t bytes) noexcept;  // poisons it (ASan)
inline void frame_deallocate(void* frame, std::size_t bytes) noexcept {
    FrameTag& tag = frame_tag(frame);
    if (tag.taken) return keep_dead_frame(frame, bytes);  // its driver frees the block
    pool_deallocate(room_of(frame, tag), tag.room_bytes + bytes);
}

// Widens the room of frames allocated from now on to at least `bytes` (never narrows:
// the order in which lessons ask does not matter). Returns the room's size.
std::size_t set_frame_room(std::size_t bytes) noexcept;

// The room of `frame` if a driver of `bytes` fits and none lives there yet; else null.
inline void* frame_room(std::coroutine_handle<> frame, std::size_t bytes) noexcept {
    FrameTag& tag = frame_tag(frame.address());
    if (tag.taken || bytes + sizeof(FrameTag) > tag.room_bytes) return nullptr;
    return room_of(frame.address(), tag);
}
// The driver at `driver` took the room of `frame` (it is the address frame_room gave):
// returns the room's size, which the driver keeps for free_frame_room. 0 if `driver`
// is not in that room (it was allocated on its own).
inline unsigned claim_frame_room(std::coroutine_handle<> frame, const void* driver) noexcept {
    FrameTag& tag = frame_tag(frame.address());
    if (tag.taken || driver != room_of(frame.address(), tag)) return 0;
    tag.taken = true;
    return tag.room_bytes;
}
// The driver of a room, its destructor run, is gone: the block goes back to the pool
// (its frame was destroyed before, or by, that destructor).
void free_frame_room(void* room, unsigned room_bytes) noexcept;

}  // namespace aio::detail
