// test_main.cpp - doctest's main for lesson 5, after adding the kqueue selector built
// against tests/kqueue_emul on platforms without a real kqueue (as lesson 1's).
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <cstdio>
#include <cstdlib>

#include "lesson01_loop/selectors.hpp"

int main(int argc, char** argv) {
#if defined(AIO_KQUEUE_EMULATED)
    aio::register_selector("kqueue", aio::make_kqueue_selector);
#endif
    const char* selector = std::getenv("AIO_SELECTOR");
    std::printf("lesson05 suite, selector: %s\n", selector ? selector : "(default)");
    doctest::Context context(argc, argv);
    return context.run();
}
