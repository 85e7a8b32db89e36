// frame_pool.cpp - see frame_pool.hpp.
#include "lesson02_coroutines/frame_pool.hpp"

#include <array>
#include <new>

#if defined(__SANITIZE_ADDRESS__)
#define AIO_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define AIO_ASAN 1
#endif
#endif

#if defined(AIO_ASAN)
#include <sanitizer/asan_interface.h>
#define AIO_POISON(p, n) ASAN_POISON_MEMORY_REGION(p, n)
#define AIO_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION(p, n)
#else
#define AIO_POISON(p, n) ((void)(p), (void)(n))
#define AIO_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

namespace aio::detail {

namespace {

constexpr std::size_t granule = 64;
constexpr std::size_t classes = 16;  // 64, 128, ..., 1024 bytes

struct FreeBlock {
    FreeBlock* next;
};

// One per thread. Trivially destructible, so touching it costs no thread_local
// initialisation guard; the cached blocks are returned at thread exit by Cleanup,
// which is constructed (and so registered) only on the slow path.
struct Pool {
    std::array<FreeBlock*, classes> heads;
    std::size_t in_use;
    bool cleanup_registered;
};
constinit thread_local Pool pool{};

struct Cleanup {
    ~Cleanup() {
        for (FreeBlock*& head : pool.heads)
            while (head) {
                AIO_UNPOISON(head, granule);  // the link, at least
                FreeBlock* next = head->next;
                ::operator delete(head);
                head = next;
            }
    }
};

void register_cleanup() {
    thread_local Cleanup cleanup;  // constructing it registers the thread-exit hook
    (void)cleanup;
    pool.cleanup_registered = true;
}

std::size_t class_of(std::size_t size) { return (size + granule - 1) / granule - 1; }

}  // namespace

void* pool_allocate(std::size_t size) {
    std::size_t c = class_of(size);
    if (c >= classes) return ::operator new(size);
    ++pool.in_use;
    FreeBlock* block = pool.heads[c];
    if (!block) {
        if (!pool.cleanup_registered) register_cleanup();
        return ::operator new((c + 1) * granule);
    }
    AIO_UNPOISON(block, (c + 1) * granule);
    pool.heads[c] = block->next;
    return block;
}

void pool_deallocate(void* p, std::size_t size) noexcept {
    if (!p) return;
    std::size_t c = class_of(size);
    if (c >= classes) {
        ::operator delete(p);
        return;
    }
    --pool.in_use;
    // A block made on another thread may be freed here first.
    if (!pool.cleanup_registered) register_cleanup();
    auto* block = static_cast<FreeBlock*>(p);
    block->next = pool.heads[c];
    pool.heads[c] = block;
    // Poisoned whole, the link too: the pool unpoisons a block before reading it.
    AIO_POISON(block, (c + 1) * granule);
}

std::size_t pool_blocks_in_use() noexcept { return pool.in_use; }

}  // namespace aio::detail
