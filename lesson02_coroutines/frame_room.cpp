// frame_room.cpp - see frame_room.hpp for the scheme.
#include "lesson02_coroutines/frame_room.hpp"

#include "lesson02_coroutines/poison.hpp"

namespace aio::detail {

namespace {

// 16: the frame after the room keeps operator new's alignment.
constexpr std::size_t align = 16;
constexpr std::size_t round_up(std::size_t n) { return (n + align - 1) / align * align; }

}  // namespace

// Written during static initialisation only, before any thread but the main one exists;
// constinit, so that it has its first value before any dynamic initialiser (lesson 2's,
// lesson 3's set_frame_room) widens it.
constinit std::size_t frame_room_now = round_up(sizeof(FrameTag));

void keep_dead_frame(void* frame, std::size_t bytes) noexcept {
    AIO_POISON(frame, bytes);  // a touch of the destroyed frame is still reported
}

std::size_t set_frame_room(std::size_t bytes) noexcept {
    std::size_t wanted = round_up(bytes + sizeof(FrameTag));
    if (wanted > frame_room_now) frame_room_now = wanted;
    return frame_room_now;
}

void free_frame_room(void* room, unsigned room_bytes) noexcept {
    void* frame = static_cast<char*>(room) + room_bytes;
    std::size_t frame_bytes = frame_tag(frame).frame_bytes;
    AIO_UNPOISON(frame, frame_bytes);
    pool_deallocate(room, room_bytes + frame_bytes);
}

}  // namespace aio::detail
