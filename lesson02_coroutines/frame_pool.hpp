// frame_pool.hpp - where coroutine frames and futures get their memory.
//
// Every coroutine call allocates a frame (the compiler cannot elide it once the
// coroutine is handed to a task), so spawning a task costs at least one allocation.
// This pool makes that allocation cheap: per thread, one free list per 64-byte size
// class up to 1 KiB; larger blocks go to ::operator new. A block freed on another
// thread joins that thread's lists, which is fine: memory is memory.
//
// The pool must not hide bugs: under AddressSanitizer a block on a free list is
// poisoned, so touching a destroyed coroutine frame is still reported as
// use-after-poison instead of silently reading recycled memory.
//
// asyncio has no counterpart: Python allocates every frame and future on its heap.
#pragma once

#include <cstddef>

namespace aio::detail {

void* pool_allocate(std::size_t size);
void pool_deallocate(void* block, std::size_t size) noexcept;

// Blocks handed out and not yet returned, on this thread (for tests and benches).
std::size_t pool_blocks_in_use() noexcept;

// Mix-in: `struct X : PoolAllocated { ... }` makes `new X` use the pool.
struct PoolAllocated {
    static void* operator new(std::size_t size) { return pool_allocate(size); }
    static void operator delete(void* block, std::size_t size) noexcept {
        pool_deallocate(block, size);
    }
};

}  // namespace aio::detail
