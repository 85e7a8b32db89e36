// frame_pool.cpp - see frame_pool.hpp for the scheme.
//
// Who touches what:
//   Local (thread_local)  its thread only: the free lists and the counters.
//   Owner (heap)          the remote stacks: pushed by any thread, taken by the owner;
//                         after the owner's thread exits, `orphans` counts the blocks
//                         still alive and the free that brings it to zero deletes it.
//   Header (each block)   `owner` fixed at creation, read by whoever frees the block;
//                         `next` written by whoever holds the (free) block.
#include "lesson02_coroutines/frame_pool.hpp"

#include <array>
#include <atomic>
#include <cstdint>
#include <new>

#include "lesson02_coroutines/poison.hpp"

namespace aio::detail {

namespace {

constexpr std::size_t granule = 16;
constexpr std::size_t classes = 64;  // 16, 32, ..., 1024 bytes

struct Owner;

// In front of every pooled block; 16 bytes, so the block after it keeps the 16-byte
// alignment ::operator new gives (__STDCPP_DEFAULT_NEW_ALIGNMENT__).
struct Header {
    Owner* owner;  // fixed; null: nobody's (made after its thread's pool was retired)
    Header* next;  // while free: the next block on a free list or remote stack
};
static_assert(sizeof(Header) == 16 && __STDCPP_DEFAULT_NEW_ALIGNMENT__ >= 16);

// The part of a thread's pool other threads may touch. A remote stack holds blocks
// freed on other threads; `closed` marks one whose owner's thread has exited.
struct Owner {
    std::array<std::atomic<Header*>, classes> remote{};
    // Blocks alive after the thread exits, minus those freed since: may dip below zero
    // until the exiting thread adds its count; whoever brings it to 0 deletes this.
    std::atomic<std::ptrdiff_t> orphans{0};
};

Header closed_mark;  // never a real block
Header* const closed = &closed_mark;
Owner no_owner;  // what Local::owner is before the first slow path and after retirement

// One per thread. Trivially destructible, so touching it costs no thread_local
// initialisation guard; Retire (below) runs at thread exit once the pool is in use.
struct Local {
    std::array<Header*, classes> heads;
    Owner* owner;          // never null: no block has &no_owner as its owner
    bool retired;          // the thread is exiting: new blocks are nobody's
    std::size_t in_use;    // handed out here minus freed here
    std::ptrdiff_t owned;  // blocks of `owner` that exist (in use, cached, remote)
};
constinit thread_local Local local{{}, &no_owner, false, 0, 0};

std::atomic<std::size_t> from_system{0};

std::size_t class_of(std::size_t size) { return (size + granule - 1) / granule - 1; }
std::size_t bytes_of(std::size_t c) { return (c + 1) * granule; }

// The header is never poisoned: LeakSanitizer ignores pointers in poisoned memory, and
// after its thread exits a pool's Owner is reachable only through its blocks' headers.
void* hand_out(Header* h, std::size_t c) {
    AIO_UNPOISON(h + 1, bytes_of(c));
    return h + 1;
}

Header* from_the_system(std::size_t c, Owner* owner) {
    auto* h = static_cast<Header*>(::operator new(sizeof(Header) + bytes_of(c)));
    h->owner = owner;
    from_system.fetch_add(1, std::memory_order_relaxed);
    return h;
}

void to_the_system(Header* h, std::size_t c) noexcept {
    AIO_UNPOISON(h, sizeof(Header) + bytes_of(c));
    ::operator delete(h);
    from_system.fetch_sub(1, std::memory_order_relaxed);
}

// Gives a chain of free blocks to the system; returns how many there were.
std::ptrdiff_t release_chain(Header* h, std::size_t c) noexcept {
    std::ptrdiff_t n = 0;
    while (h) {
        Header* next = h->next;
        to_the_system(h, c);
        h = next;
        ++n;
    }
    return n;
}

// Local and remote caches to the system; the remote stacks are left `empty_as`.
std::ptrdiff_t release_cached(Header* empty_as) noexcept {
    std::ptrdiff_t n = 0;
    for (std::size_t c = 0; c < classes; ++c) {
        n += release_chain(local.heads[c], c);
        local.heads[c] = nullptr;
        Header* remote = local.owner->remote[c].exchange(empty_as, std::memory_order_acquire);
        n += release_chain(remote, c);
    }
    local.owned -= n;
    return n;
}

// Thread exit: cache to the system, remote stacks closed, and the Owner left to the
// blocks still alive elsewhere (deleted now if there are none).
void retire() noexcept {
    Owner* owner = local.owner;
    release_cached(closed);
    std::ptrdiff_t alive = local.owned;
    local.owner = &no_owner;
    local.retired = true;
    local.owned = 0;
    if (owner->orphans.fetch_add(alive, std::memory_order_acq_rel) + alive == 0) delete owner;
}

struct Retire {
    ~Retire() { retire(); }
};

// First slow path on this thread: make its Owner and register retire() for its exit.
void adopt() {
    thread_local Retire retire_at_exit;  // constructing it registers the thread-exit hook
    (void)retire_at_exit;
    local.owner = new Owner;
}

// Local list of class c is empty: take what other threads returned, else the system's.
[[gnu::noinline]] void* refill(std::size_t c) {
    if (local.owner == &no_owner && !local.retired) adopt();
    if (local.owner != &no_owner && local.owner->remote[c].load(std::memory_order_relaxed)) {
        Header* h = local.owner->remote[c].exchange(nullptr, std::memory_order_acquire);
        local.heads[c] = h->next;
        return hand_out(h, c);
    }
    Owner* owner = local.retired ? nullptr : local.owner;
    if (owner) ++local.owned;
    return hand_out(from_the_system(c, owner), c);
}

// The block is not this thread's: back to its owner's remote stack, or to the system
// when it has no owner or the owner's thread has exited.
[[gnu::noinline]] void free_foreign(Header* h, std::size_t c) noexcept {
    Owner* owner = h->owner;
    if (!owner) return to_the_system(h, c);
    AIO_POISON(h + 1, bytes_of(c));  // before the push: the owner may take it at once
    std::atomic<Header*>& stack = owner->remote[c];
    Header* top = stack.load(std::memory_order_relaxed);
    do {
        if (top == closed) break;
        h->next = top;
    } while (
        !stack.compare_exchange_weak(top, h, std::memory_order_release, std::memory_order_relaxed));
    if (top != closed) return;
    to_the_system(h, c);
    if (owner->orphans.fetch_sub(1, std::memory_order_acq_rel) == 1) delete owner;
}

}  // namespace

void* pool_allocate(std::size_t size) {
    std::size_t c = class_of(size);
    if (c >= classes) return ::operator new(size);
    ++local.in_use;
    Header* h = local.heads[c];
    if (!h) return refill(c);
    local.heads[c] = h->next;
    return hand_out(h, c);
}

void pool_deallocate(void* p, std::size_t size) noexcept {
    if (!p) return;
    std::size_t c = class_of(size);
    if (c >= classes) {
        ::operator delete(p);
        return;
    }
    --local.in_use;
    Header* h = static_cast<Header*>(p) - 1;
    if (h->owner != local.owner) return free_foreign(h, c);
    h->next = local.heads[c];
    local.heads[c] = h;
    AIO_POISON(p, bytes_of(c));  // the header stays readable: it is the list's link
}

std::size_t pool_blocks_in_use() noexcept { return local.in_use; }

std::size_t pool_blocks_from_system() noexcept {
    return from_system.load(std::memory_order_relaxed);
}

std::size_t pool_blocks_cached() noexcept {
    std::size_t n = 0;
    for (Header* head : local.heads)
        for (Header* h = head; h; h = h->next) ++n;
    return n;
}

std::size_t pool_block_bytes(std::size_t size) noexcept {
    std::size_t c = class_of(size);
    return c >= classes ? size : sizeof(Header) + bytes_of(c);
}

std::size_t pool_trim() noexcept {
    if (local.owner == &no_owner) return 0;
    return static_cast<std::size_t>(release_cached(nullptr));
}

}  // namespace aio::detail
