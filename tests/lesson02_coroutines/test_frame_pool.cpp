// test_frame_pool.cpp - the frame pool on one thread: reuse, trim, and that a free block
// stays poisoned under AddressSanitizer; and the room in front of a frame, where its
// driver lives (frame_room.hpp). (The cross-thread cases are in lesson03's
// test_threads_memory.cpp, which the ThreadSanitizer build runs too.)
#include <doctest/doctest.h>

#include <cstddef>
#include <cstdint>
#include <vector>

#include "../lesson01_loop/helpers.hpp"
#include "lesson02_coroutines/coroutines.hpp"
#include "lesson02_coroutines/driver.hpp"
#include "lesson02_coroutines/frame_pool.hpp"
#include "lesson02_coroutines/frame_room.hpp"
#include "lesson02_coroutines/futures.hpp"

#if defined(__SANITIZE_ADDRESS__)
#define TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TEST_ASAN 1
#endif
#endif
#if defined(TEST_ASAN)
#include <sanitizer/asan_interface.h>
constexpr bool asan_build = true;
bool poisoned(const void* p) { return __asan_address_is_poisoned(p) != 0; }
#else
constexpr bool asan_build = false;
bool poisoned(const void*) { return false; }
#endif

namespace {

using aio::detail::pool_allocate;
using aio::detail::pool_blocks_cached;
using aio::detail::pool_blocks_from_system;
using aio::detail::pool_blocks_in_use;
using aio::detail::pool_deallocate;
using aio::detail::pool_trim;

aio::Coro<int> leaf(int x) { co_return x; }

aio::Coro<int> sum_of_leaves(int n) {
    int sum = 0;
    for (int i = 0; i < n; ++i) sum += co_await leaf(i);
    co_return sum;
}

aio::Coro<int> waits_for(aio::Future<int> fut) { co_return co_await fut; }

}  // namespace

TEST_SUITE("lesson02") {
    TEST_CASE("frame pool: a freed block is the next one its size class hands out") {
        void* block = pool_allocate(100);
        pool_deallocate(block, 100);
        std::size_t before = pool_blocks_from_system();
        void* again = pool_allocate(110);  // the same 16-byte class (97..112 bytes)
        CHECK(again == block);
        CHECK(pool_blocks_from_system() == before);
        pool_deallocate(again, 110);
    }

    TEST_CASE("frame pool: blocks are aligned as operator new's, whatever their size") {
        for (std::size_t size = 1; size <= 1100; size += 37) {
            void* p = pool_allocate(size);
            CHECK(reinterpret_cast<std::uintptr_t>(p) % __STDCPP_DEFAULT_NEW_ALIGNMENT__ == 0);
            pool_deallocate(p, size);
        }
    }

    TEST_CASE("frame pool: pool_trim gives every cached block back to the system") {
        std::vector<void*> blocks;
        for (int i = 0; i < 500; ++i) blocks.push_back(pool_allocate(48 + 16 * (i % 10)));
        for (int i = 0; i < 500; ++i) pool_deallocate(blocks[i], 48 + 16 * (i % 10));
        CHECK(pool_blocks_cached() >= 500);
        std::size_t held = pool_blocks_from_system();
        std::size_t cached = pool_blocks_cached();
        CHECK(pool_trim() == cached);
        CHECK(pool_blocks_cached() == 0);
        CHECK(pool_blocks_from_system() == held - cached);
        CHECK(pool_trim() == 0);
    }

    TEST_CASE("frame pool: a trimmed pool still serves coroutines") {
        pool_trim();
        auto loop = test::virtual_loop();
        CHECK(loop->run_until_complete(sum_of_leaves(100)) == 4950);
        std::size_t cached = pool_blocks_cached();
        CHECK(cached > 0);  // the frames came back to the lists
        CHECK(pool_trim() == cached);
    }

    TEST_CASE("a done callback that close() drops unrun releases its future") {
        auto loop = test::virtual_loop();
        std::size_t before = aio::detail::pool_blocks_in_use();
        bool ran = false;
        {
            aio::Future<int> fut(*loop);
            fut.add_done_callback([&ran](aio::Future<int>&) { ran = true; });
            fut.set_result(1);  // the callback is queued, holding the future
        }
        CHECK(aio::detail::pool_blocks_in_use() == before + 1);
        loop->close();  // drops the callback unrun: its reference must go with it
        CHECK_FALSE(ran);
        CHECK(aio::detail::pool_blocks_in_use() == before);
    }

    TEST_CASE("frame pool: a free block is poisoned, a handed-out one is not" *
              doctest::skip(!asan_build)) {
        char* block = static_cast<char*>(pool_allocate(200));
        CHECK_FALSE(poisoned(block));
        CHECK_FALSE(poisoned(block + 199));
        pool_deallocate(block, 200);
        CHECK(poisoned(block));  // a use-after-free of a frame is still reported
        CHECK(poisoned(block + 199));
        char* again = static_cast<char*>(pool_allocate(200));
        REQUIRE(again == block);
        CHECK_FALSE(poisoned(again));
        pool_deallocate(again, 200);
    }

    TEST_CASE("frame room: a driver is made in its frame's block, one pool block for both") {
        auto loop = test::virtual_loop();
        std::size_t before = pool_blocks_in_use();
        aio::Coro<int> coro = leaf(7);
        CHECK(pool_blocks_in_use() == before + 1);  // the frame, with its room
        void* room = aio::detail::frame_room(coro.frame(), sizeof(aio::Driver));
        REQUIRE(room != nullptr);
        {
            aio::detail::Ref<aio::Driver> d = aio::drive(*loop, std::move(coro));
            CHECK(static_cast<void*>(d.get()) == room);
            CHECK(pool_blocks_in_use() == before + 1);  // no second block for the driver
            aio::detail::run_until_done(*loop, *d);
            CHECK(aio::take_result<int>(*d) == 7);
            CHECK(pool_blocks_in_use() == before + 1);  // done: its frame holds the result
        }
        CHECK(pool_blocks_in_use() == before);  // the last reference freed the block
    }

    TEST_CASE("frame room: a room holds one driver, and an awaited frame's room stays empty") {
        aio::Coro<int> coro = leaf(1);
        void* room = aio::detail::frame_room(coro.frame(), sizeof(aio::Driver));
        REQUIRE(room != nullptr);
        CHECK(aio::detail::frame_room(coro.frame(), 64 * 1024) == nullptr);  // too big
        auto loop = test::virtual_loop();
        aio::detail::Ref<aio::Driver> d = aio::drive(*loop, std::move(coro));
        CHECK(aio::detail::frame_room(d->suspended_frame(), sizeof(aio::Driver)) == nullptr);
        aio::detail::run_until_done(*loop, *d);
    }

    TEST_CASE(
        "frame room: loop.close() destroys a pending driver's frame; the block waits for "
        "the driver") {
        std::size_t before = pool_blocks_in_use();
        aio::detail::Ref<aio::Driver> d;
        void* frame = nullptr;
        {
            auto loop = test::virtual_loop();
            aio::Future<int> never(*loop);
            d = aio::drive(*loop, waits_for(never));
            d->set_log_destroy_pending(false);
            loop->run_once();  // suspended on `never`
            frame = d->suspended_frame().address();
            loop->close();  // the frame is destroyed; the driver is still referenced here
            CHECK_FALSE(d->has_frame());
            CHECK_FALSE(d->done());
            if (asan_build) CHECK(poisoned(frame));  // a touch of the dead frame is reported
        }
        CHECK(pool_blocks_in_use() == before + 1);  // the block: the driver still lives in it
        d = {};
        CHECK(pool_blocks_in_use() == before);
    }
}
