// frame_pool.hpp - where coroutine frames and futures get their memory.
//
// Every coroutine call allocates a frame (the compiler cannot elide it once the
// coroutine is handed to a task), so spawning a task costs at least one allocation.
// This pool makes that allocation cheap: per thread, one free list per 16-byte size
// class up to 1 KiB; larger blocks go to ::operator new.
//
// Blocks cross threads (run_coroutine_threadsafe makes a frame on the caller's thread
// and the loop thread frees it), so each block remembers its owner: a 16-byte header
// in front of it names the owning thread's pool (16 keeps operator new's alignment). A
// free on the owner's thread is a push on its free list, as fast as a pool without
// owners; a free on any other thread pushes the block onto the owner's "remote" stack
// for its class (one CAS, lock-free, many pushers), which the owner takes whole (one
// exchange) when its own list of that class runs dry. So a block always goes back to
// a pool that reuses it, and a thread that keeps sending frames to a loop reuses the
// same few blocks instead of growing the loop thread's lists without bound. The
// header costs 16 B a block, which the 16-byte classes (64-byte ones before) give back
// on average, not at every size. A task and its frame share one block (frame_room.hpp).
//
// A thread's pool outlives the thread when its blocks do: at thread exit the cached
// blocks go to the system, each remote stack is closed, and the shared part (Owner) is
// kept until the last block still alive elsewhere is freed (then to the system).
//
// The pool keeps what it caches until the thread exits (a server's next burst reuses
// it) or until pool_trim() hands it back; aio::Runner::close (and so aio::run) trims,
// since a finished run is where a spike's blocks stop being useful. A cap on each
// list instead would cost a counter on every allocation and make a steady server
// allocate again after every burst.
//
// The pool must not hide bugs: under AddressSanitizer a block on a free list is
// poisoned (its header, the pool's, never is), so touching a destroyed coroutine
// frame is still reported as use-after-poison instead of silently reading recycled
// memory; each block is its own ::operator new allocation, so LeakSanitizer still
// reports a leaked frame.
//
// asyncio has no counterpart: Python allocates every frame and future on its heap.
#pragma once

#include <cstddef>

namespace aio::detail {

// Any thread. A block of at least `size` bytes, aligned as ::operator new's.
void* pool_allocate(std::size_t size);
// Any thread; `size` as given to pool_allocate. Back to the block's owning pool.
void pool_deallocate(void* block, std::size_t size) noexcept;

// Blocks handed out and not yet returned, on this thread (for tests and benches).
std::size_t pool_blocks_in_use() noexcept;
// Pooled blocks that exist now, in use or cached, in every thread's pool: what the
// pools have taken from the system and not given back (for tests).
std::size_t pool_blocks_from_system() noexcept;
// Free blocks cached on this thread's lists, ready for reuse (for tests).
std::size_t pool_blocks_cached() noexcept;
// Bytes the pool gives a request of `size` (header included), for benches.
std::size_t pool_block_bytes(std::size_t size) noexcept;

// This thread: gives every cached free block back to the system (those freed here and
// those other threads returned), and returns how many. Blocks in use are untouched.
std::size_t pool_trim() noexcept;

// Mix-in: `struct X : PoolAllocated { ... }` makes `new X` use the pool.
struct PoolAllocated {
    static void* operator new(std::size_t size) { return pool_allocate(size); }
    static void operator delete(void* block, std::size_t size) noexcept {
        pool_deallocate(block, size);
    }
};

}  // namespace aio::detail
