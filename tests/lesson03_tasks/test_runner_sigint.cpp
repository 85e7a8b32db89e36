// test_runner_sigint.cpp - Ctrl+C in aio::run (asyncio 3.11's Runner: runners.py run and
// _on_sigint). Each case starts sigint_child.cpp as a child process with SIGINT at its
// default action (posix_spawn, POSIX_SPAWN_SETSIGDEF), waits for its "started" line,
// sends SIGINT, and checks what it printed and how it ended. The expected outcomes are
// what CPython 3.11 does with the same five-line scripts.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <string>
#include <thread>

#include "lesson02_coroutines/sleep.hpp"
#include "lesson03_tasks/runners.hpp"

extern char** environ;

namespace {

struct Child {
    pid_t pid = -1;
    int out = -1;  // the child's stdout
    int err = -1;  // the child's stderr
};

struct Outcome {
    std::string out, err;
    int status = 0;  // waitpid's
};

// posix_spawn `sigint_child mode`, stdout and stderr on pipes, SIGINT at SIG_DFL and
// unblocked whatever the test runner gave us.
Child spawn_child(const std::string& mode) {
    const char* path = std::getenv("AIO_SIGINT_CHILD");
    REQUIRE_MESSAGE(path, "AIO_SIGINT_CHILD is not set: run the test through meson");
    int out[2], err[2];
    REQUIRE(::pipe2(out, O_CLOEXEC) == 0);
    REQUIRE(::pipe2(err, O_CLOEXEC) == 0);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out[1], 1);
    posix_spawn_file_actions_adddup2(&actions, err[1], 2);
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    posix_spawnattr_setsigdefault(&attr, &set);
    sigemptyset(&set);
    posix_spawnattr_setsigmask(&attr, &set);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
    std::string arg0 = path;
    char* argv[] = {arg0.data(), const_cast<char*>(mode.c_str()), nullptr};
    Child child;
    int rc = ::posix_spawn(&child.pid, path, &actions, &attr, argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    ::close(out[1]);
    ::close(err[1]);
    child.out = out[0];
    child.err = err[0];
    REQUIRE(rc == 0);
    return child;
}

// Reads fd until `text` has arrived (true) or EOF / 10 s without it (false).
bool read_until(int fd, std::string& got, const std::string& text) {
    while (got.find(text) == std::string::npos) {
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, 10'000) <= 0) return false;
        char buf[512];
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n <= 0) return false;
        got.append(buf, static_cast<std::size_t>(n));
    }
    return true;
}

void read_all(int fd, std::string& got) {
    read_until(fd, got, std::string(1, '\0'));  // never arrives: reads to EOF
    ::close(fd);
}

// Starts the child, sends SIGINT after each of `lines` has been printed, collects the
// rest and reaps it.
Outcome interrupt(const std::string& mode, std::initializer_list<const char*> lines) {
    Child child = spawn_child(mode);
    Outcome result;
    for (const char* line : lines) {
        bool seen = read_until(child.out, result.out, line);
        CHECK_MESSAGE(seen, "no '" << line << "' from sigint_child " << mode);
        ::kill(child.pid, SIGINT);
    }
    read_all(child.out, result.out);
    read_all(child.err, result.err);
    REQUIRE(::waitpid(child.pid, &result.status, 0) == child.pid);
    return result;
}

bool killed_by_sigint(int status) { return WIFSIGNALED(status) && WTERMSIG(status) == SIGINT; }

bool ends_with(const std::string& text, const std::string& tail) {
    return text.size() >= tail.size() &&
           text.compare(text.size() - tail.size(), tail.size(), tail) == 0;
}

}  // namespace

TEST_CASE("Ctrl+C in run(): finally and async-with exits run, then the program dies of SIGINT") {
    Outcome r = interrupt("finally", {"started\n"});
    CHECK(r.out == "started\naexit ran\nfinally ran\n");  // the inner block first, as in Python
    CHECK(ends_with(r.err, "KeyboardInterrupt\n"));
    CHECK(killed_by_sigint(r.status));
}

TEST_CASE("Ctrl+C in run(): a main that catches CancelledError returns normally") {
    Outcome r = interrupt("caught", {"started\n"});
    CHECK(r.out == "started\ncaught\nresult 7 SIGINT default: yes\n");
    CHECK(r.err == "");
    CHECK(WIFEXITED(r.status));
    CHECK(WEXITSTATUS(r.status) == 0);
}

TEST_CASE("Ctrl+C in run(): the second one ends the program at once") {
    Outcome r = interrupt("twice", {"started\n", "caught\n"});
    CHECK(r.out == "started\ncaught\n");
    CHECK(r.err == "KeyboardInterrupt\n");
    CHECK(killed_by_sigint(r.status));
}

TEST_CASE("Ctrl+C in run(): the second one ends a loop that is stuck in a callback") {
    Child child = spawn_child("stuck");
    Outcome r;
    REQUIRE(read_until(child.out, r.out, "started\n"));
    ::kill(child.pid, SIGINT);
    ::usleep(100'000);
    ::kill(child.pid, SIGINT);
    read_all(child.out, r.out);
    read_all(child.err, r.err);
    REQUIRE(::waitpid(child.pid, &r.status, 0) == child.pid);
    CHECK(r.err == "KeyboardInterrupt\n");
    CHECK(killed_by_sigint(r.status));
}

namespace {

bool sigint_is(void (*handler)(int)) {
    struct sigaction current {};
    ::sigaction(SIGINT, nullptr, &current);
    return current.sa_handler == handler;
}

// What SIGINT's action is while main runs: the default one, or not.
aio::Coro<bool> sigint_default_inside() { co_return sigint_is(SIG_DFL); }

// async def main(): os.kill(os.getpid(), SIGINT); await sleep(0.01); return 5
aio::Coro<int> interrupt_self() {
    ::kill(::getpid(), SIGINT);
    co_await aio::sleep(0.01);
    co_return 5;
}

}  // namespace

TEST_CASE("run() leaves an ignored SIGINT alone, as asyncio leaves a non-default one") {
    struct sigaction before {};
    struct sigaction ignore {};
    ignore.sa_handler = SIG_IGN;
    REQUIRE(::sigaction(SIGINT, &ignore, &before) == 0);
    int result = aio::run(interrupt_self());  // the SIGINT is ignored: main is not cancelled
    CHECK(result == 5);
    CHECK(sigint_is(SIG_IGN));
    ::sigaction(SIGINT, &before, nullptr);
}

TEST_CASE("run() off the main thread does not touch SIGINT") {
    struct sigaction before {};
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    REQUIRE(::sigaction(SIGINT, &dfl, &before) == 0);
    bool default_inside = false;
    std::thread other([&default_inside] { default_inside = aio::run(sigint_default_inside()); });
    other.join();
    CHECK(default_inside);
    CHECK_FALSE(aio::run(sigint_default_inside()));  // on the main thread run() takes it
    CHECK(sigint_is(SIG_DFL));                       // and puts the default back
    ::sigaction(SIGINT, &before, nullptr);
}
