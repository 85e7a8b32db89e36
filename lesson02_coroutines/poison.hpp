// poison.hpp - AIO_POISON / AIO_UNPOISON: mark memory the program must not touch, so
// that AddressSanitizer reports a touch as use-after-poison (no-ops in other builds).
// For the frame pool's free blocks (frame_pool.cpp) and a dead frame whose block its
// task still lives in (frame_room.cpp): recycling memory must not hide a use-after-free.
#pragma once

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
