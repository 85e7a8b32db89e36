// test_subprocess_watcher.cpp - starting a child (spawn.hpp) and reaping it
// (child_watcher.hpp), below the transport: exec errors raised in the caller, exit
// codes and deaths by signal, both watchers, the loop's closing, and many children at
// once with none left behind. The thread watcher's cases also run under TSan.
#include <doctest/doctest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <string>
#include <vector>

#include "helpers.hpp"
#include "lesson02_coroutines/futures.hpp"
#include "lesson02_coroutines/sleep.hpp"
#include "lesson05_io/child_watcher.hpp"
#include "lesson05_io/spawn.hpp"
#include "subprocess_helpers.hpp"

namespace {

int spawn_sh(const std::string& script) {
    aio::detail::SpawnRequest request;
    request.args = {"/bin/sh", "-c", script};
    return aio::detail::spawn(request);
}

// The returncodes of `scripts`, run at once and watched by the loop's watcher.
aio::Coro<std::vector<int>> run_all(aio::EventLoop* loop, std::vector<std::string> scripts) {
    std::vector<aio::Future<int>> exits;
    for (const std::string& script : scripts) {
        aio::Future<int> exited(*loop);
        exits.push_back(exited);
        aio::detail::add_child_handler(*loop, spawn_sh(script),
                                       [exited](int rc) mutable { exited.set_result(rc); });
    }
    std::vector<int> codes;
    for (aio::Future<int>& exited : exits) codes.push_back(co_await exited);
    co_return codes;
}

void check_exit_codes(const char* watcher) {
    test::ChildWatcherEnv env(watcher);
    test::LoopFixture f;
    std::vector<int> codes = test::run(
        *f.loop, run_all(f.loop.get(), {"exit 0", "exit 3", "kill -9 $$", "kill -TERM $$"}));
    CHECK(codes == std::vector<int>{0, 3, -9, -15});
    CHECK(aio::detail::watched_children(*f.loop) == 0);
    CHECK(test::children() == "");
}

}  // namespace

TEST_SUITE("lesson05") {
    TEST_CASE("spawn: a missing program raises FileNotFoundError naming it, in the caller") {
        test::LoopFixture f;
        aio::detail::SpawnRequest request;
        request.args = {"no-such-program-aio"};
        CHECK(test::error_text([&] { aio::detail::spawn(request); }) ==
              "FileNotFoundError: [Errno 2] No such file or directory: 'no-such-program-aio'");
        request.args = {"/no/such/dir/prog"};
        CHECK(test::error_text([&] { aio::detail::spawn(request); }) ==
              "FileNotFoundError: [Errno 2] No such file or directory: '/no/such/dir/prog'");
        CHECK(test::children() == "");  // the failed child was reaped
    }

    TEST_CASE("spawn: a file without the x bit is PermissionError, a bad cwd names the cwd") {
        test::LoopFixture f;
        char path[] = "/tmp/aio-noexec-XXXXXX";
        int fd = ::mkstemp(path);
        REQUIRE(fd >= 0);
        ::close(fd);
        ::chmod(path, 0644);
        aio::detail::SpawnRequest request;
        request.args = {path};
        CHECK(test::error_text([&] { aio::detail::spawn(request); }) ==
              std::string("PermissionError: [Errno 13] Permission denied: '") + path + "'");
        ::unlink(path);
        request.args = {"/tmp"};  // a directory: EACCES as well
        CHECK(test::error_text([&] { aio::detail::spawn(request); }) ==
              "PermissionError: [Errno 13] Permission denied: '/tmp'");
        request.args = {"true"};
        request.cwd = "/no/such/dir";
        CHECK(test::error_text([&] { aio::detail::spawn(request); }) ==
              "FileNotFoundError: [Errno 2] No such file or directory: '/no/such/dir'");
        CHECK(test::children() == "");
    }

    TEST_CASE("child watcher (pidfd): exit codes, and -N for a death by signal N") {
        check_exit_codes("pidfd");
    }

    TEST_CASE("child watcher (thread): exit codes, and -N for a death by signal N") {
        check_exit_codes("thread");
    }

    TEST_CASE("child watcher: AIO_CHILD_WATCHER picks the watcher") {
        {
            test::ChildWatcherEnv env("thread");
            CHECK(aio::detail::child_watcher_kind() == aio::detail::ChildWatcherKind::thread);
        }
        test::ChildWatcherEnv env("pidfd");
        CHECK(aio::detail::child_watcher_kind() == aio::detail::ChildWatcherKind::pidfd);
    }

    TEST_CASE("child watcher: 100 short-lived children at once, all reaped, no fd left") {
        for (const char* watcher : {"pidfd", "thread"}) {
            CAPTURE(watcher);
            test::ChildWatcherEnv env(watcher);
            test::LoopFixture f;
            std::vector<std::string> scripts;
            for (int i = 0; i < 100; ++i) scripts.push_back("exit " + std::to_string(i % 7));
            std::vector<int> codes = test::run(*f.loop, run_all(f.loop.get(), scripts), 30);
            REQUIRE(codes.size() == 100);
            for (int i = 0; i < 100; ++i) CHECK(codes[static_cast<std::size_t>(i)] == i % 7);
            CHECK(test::children() == "");
            errno = 0;
            CHECK(::waitpid(-1, nullptr, WNOHANG) == -1);
            CHECK(errno == ECHILD);
        }
    }

    TEST_CASE(
        "child watcher: the loop's closing kills and reaps a child still running, and says so") {
        for (const char* watcher : {"pidfd", "thread"}) {
            CAPTURE(watcher);
            test::ChildWatcherEnv env(watcher);
            int code = 0;
            {
                test::LoopFixture f;
                int pid = spawn_sh("exec sleep 100");
                aio::detail::add_child_handler(*f.loop, pid, [&code](int rc) { code = rc; });
                f.loop->run_until_complete(aio::sleep(0.01));
                CHECK(test::children() != "");
            }
            CHECK(code == -9);  // told, so its transport never signals the pid again
            CHECK(test::children() == "");
        }
    }
}
