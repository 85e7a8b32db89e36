// test_main.cpp - doctest's main for lesson 5, after adding the kqueue selector built
// against tests/kqueue_emul on platforms without a real kqueue (as lesson 1's). On Linux
// the suite is its descendants' subreaper: a grandchild a test leaves behind (a shell's
// `sleep` still running when the shell is killed) becomes this process's child, so
// test::children() sees it and the test fails, instead of the orphan holding the test's
// stdout open long after the suite has finished.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <cstdio>
#include <cstdlib>
#if defined(__linux__)
#include <sys/prctl.h>
#endif

#include "lesson01_loop/selectors.hpp"

int main(int argc, char** argv) {
#if defined(AIO_KQUEUE_EMULATED)
    aio::register_selector("kqueue", aio::make_kqueue_selector);
#endif
#if defined(__linux__)
    ::prctl(PR_SET_CHILD_SUBREAPER, 1);
#endif
    const char* selector = std::getenv("AIO_SELECTOR");
    std::printf("lesson05 suite, selector: %s\n", selector ? selector : "(default)");
    doctest::Context context(argc, argv);
    return context.run();
}
