// test_subprocess.cpp - create_subprocess_exec / create_subprocess_shell and Process:
// exit codes and deaths by signal, communicate both ways with megabytes, DEVNULL and
// STDOUT, cwd and env, a program that cannot start, cancellation of wait, communicate
// and creation, 100 children at once, and a real peer (python3) whose lines arrive as
// it prints them. Each test checks that no child (zombie or not) and no fd is left.
#include <doctest/doctest.h>

#include <string>
#include <utility>
#include <vector>

#include "helpers.hpp"
#include "lesson01_loop/events.hpp"
#include "lesson02_coroutines/sleep.hpp"
#include "lesson03_tasks/exceptions.hpp"
#include "lesson03_tasks/gather.hpp"
#include "lesson03_tasks/tasks.hpp"
#include "lesson03_tasks/timeouts.hpp"
#include "lesson05_io/subprocess.hpp"
#include "subprocess_helpers.hpp"

namespace {

using aio::subprocess::DEVNULL;
using aio::subprocess::PIPE;
using aio::subprocess::STDOUT;

std::string text(const aio::bytes& data) { return std::string(data.view()); }

aio::Coro<std::vector<int>> exit_codes() {
    std::vector<int> codes;
    for (int code = 0; code <= 3; code += 3) {
        std::string script = "exit " + std::to_string(code);
        aio::Process proc = co_await aio::create_subprocess_exec("sh", "-c", script);
        CHECK(proc.repr() == "<Process " + std::to_string(proc.pid) + ">");
        int rc = co_await proc.wait();
        codes.push_back(rc);
        CHECK(proc.returncode() == rc);
    }
    co_return codes;
}

aio::Coro<std::vector<int>> signal_deaths() {
    std::vector<int> codes;
    aio::Process killed = co_await aio::create_subprocess_exec("sleep", "100");
    CHECK_FALSE(killed.returncode().has_value());
    killed.kill();
    codes.push_back(co_await killed.wait());
    // After wait() the transport is finished: asyncio 3.11 raises ProcessLookupError().
    CHECK(test::error_text([&] { killed.kill(); }) ==
          "ProcessLookupError: [Errno 3] No such process");
    aio::Process terminated = co_await aio::create_subprocess_exec("sleep", "100");
    terminated.terminate();
    codes.push_back(co_await terminated.wait());
    co_return codes;
}

// Copies stdin to stdout and to stderr as it reads: a peer that blocks unless all
// three pipes move at once.
const char* tee_both = R"(import sys
i, o, e = sys.stdin.buffer, sys.stdout.buffer, sys.stderr.buffer
while True:
    b = i.read1(65536)
    if not b:
        break
    o.write(b); e.write(b)
o.flush(); e.flush())";

aio::Coro<bool> communicate_megabytes() {
    aio::bytes input(std::string(8 << 20, 'x'));
    for (std::size_t i = 0; i < input.size(); i += 4096) input.data()[i] = char('a' + i % 26);
    aio::ProcessOptions options{.stdin_ = PIPE, .stdout_ = PIPE, .stderr_ = PIPE};
    aio::Process proc = co_await aio::create_subprocess_exec("python3", "-c", tee_both, options);
    auto [out, err] = co_await proc.communicate(input);
    CHECK(proc.returncode() == 0);
    co_return out.view() == input.view() && err.view() == input.view();
}

aio::Coro<std::string> communicate_empty_input() {
    aio::ProcessOptions options{.stdin_ = PIPE, .stdout_ = PIPE};
    aio::Process proc = co_await aio::create_subprocess_exec("cat", options);
    auto [out, err] = co_await proc.communicate(aio::bytes());
    co_return "out=" + out.repr() + " err=" + err.repr() +
        " rc=" + std::to_string(*proc.returncode());
}

aio::Coro<int> communicate_to_a_child_that_does_not_read() {
    aio::ProcessOptions options{.stdin_ = PIPE};
    aio::Process proc = co_await aio::create_subprocess_exec("true", options);
    co_await proc.wait();  // gone: its stdin's reader is closed
    auto [out, err] = co_await proc.communicate(aio::bytes(std::string(1 << 20, 'x')));
    co_return *proc.returncode();
}

aio::Coro<std::string> devnull_and_stdout() {
    aio::ProcessOptions options{.stdin_ = DEVNULL, .stdout_ = PIPE, .stderr_ = STDOUT};
    aio::Process proc = co_await aio::create_subprocess_exec(
        "sh", "-c", "echo out; echo err >&2; cat; echo end", options);
    CHECK_FALSE(proc.stdin_.has_value());
    CHECK_FALSE(proc.stderr_.has_value());
    auto [out, err] = co_await proc.communicate();
    co_return text(out);
}

aio::Coro<std::string> cwd_and_env() {
    aio::ProcessOptions options{.stdout_ = PIPE};
    options.cwd = "/tmp";
    options.env.emplace();
    (*options.env)["AIO_X"] = "hello";
    (*options.env)["PATH"] = "/usr/bin:/bin";
    aio::Process proc =
        co_await aio::create_subprocess_exec("sh", "-c", "pwd; echo $AIO_X", options);
    auto [out, err] = co_await proc.communicate();
    co_return text(out);
}

aio::Coro<std::string> missing_program() {
    aio::ProcessOptions options{.stdin_ = PIPE, .stdout_ = PIPE, .stderr_ = PIPE};
    try {
        co_await aio::create_subprocess_exec("no-such-program-aio", options);
    } catch (...) {
        co_return aio::describe_exception(std::current_exception());
    }
    co_return "no exception";
}

aio::Coro<int> wait_cancelled_then_waited() {
    aio::Process proc = co_await aio::create_subprocess_exec("sleep", "0.2");
    bool timed_out = false;
    try {
        co_await aio::wait_for(proc.wait(), 0.01);
    } catch (const aio::TimeoutError&) {
        timed_out = true;
    }
    CHECK(timed_out);
    CHECK_FALSE(proc.returncode().has_value());
    co_return co_await proc.wait();
}

aio::Coro<std::string> communicate_cancelled_then_again() {
    aio::ProcessOptions options{.stdout_ = PIPE};
    aio::Process proc = co_await aio::create_subprocess_exec(
        "sh", "-c", "echo first; sleep 0.3; echo second", options);
    bool timed_out = false;
    try {
        co_await aio::wait_for(proc.communicate(), 0.1);
    } catch (const aio::TimeoutError&) {
        timed_out = true;
    }
    CHECK(timed_out);
    auto [out, err] = co_await proc.communicate();
    co_return text(out);
}

aio::Coro<std::string> creation_cancelled() {
    aio::EventLoop& loop = aio::get_running_loop();
    aio::ProcessOptions options{.stdin_ = PIPE, .stdout_ = PIPE};
    aio::Task<aio::Process> task =
        aio::create_task(loop, aio::create_subprocess_exec("sleep", "100", options));
    co_await aio::sleep(0);  // the task's first step: the child is spawned
    CHECK(test::children() != "");
    task.cancel();
    std::string outcome = "not cancelled";
    try {
        co_await task;
    } catch (const aio::CancelledError&) {
        outcome = "cancelled";
    }
    co_return outcome + " children=[" + test::children() + "]";
}

aio::Coro<std::string> echo(int i) {
    aio::ProcessOptions options{.stdout_ = PIPE};
    aio::Process proc =
        co_await aio::create_subprocess_exec("sh", "-c", "echo " + std::to_string(i), options);
    auto [out, err] = co_await proc.communicate();
    co_return text(out);
}

aio::Coro<bool> hundred_children() {
    std::vector<aio::Coro<std::string>> all;
    for (int i = 0; i < 100; ++i) all.push_back(echo(i));
    std::vector<std::string> outs = co_await aio::gather(std::move(all));
    bool ok = outs.size() == 100;
    for (int i = 0; ok && i < 100; ++i)
        ok = outs[static_cast<std::size_t>(i)] == std::to_string(i) + "\n";
    co_return ok;
}

// The tutorials' child: three lines, 0.2 s apart, each flushed as printed.
const char* three_lines =
    "import time\n"
    "for i in range(3):\n"
    "    print('line', i, flush=True)\n"
    "    time.sleep(0.2)\n";

aio::Coro<std::vector<double>> line_times() {
    aio::EventLoop& loop = aio::get_running_loop();
    double start = loop.time();
    aio::ProcessOptions options{.stdout_ = PIPE};
    aio::Process proc = co_await aio::create_subprocess_exec("python3", "-c", three_lines, options);
    std::vector<double> times;
    aio::AsyncGenerator<aio::bytes> lines = proc.stdout_->lines();
    int n = 0;
    while (std::optional<aio::bytes> line = co_await lines.next()) {
        CHECK(text(*line) == "line " + std::to_string(n++) + "\n");
        times.push_back(loop.time() - start);
    }
    CHECK(co_await proc.wait() == 0);
    co_return times;
}

aio::Coro<std::string> shell_and_stdin_writer() {
    aio::ProcessOptions out_pipe{.stdout_ = PIPE};
    aio::Process sum = co_await aio::create_subprocess_shell("echo $((6 * 7))", out_pipe);
    auto [out, err] = co_await sum.communicate();
    aio::ProcessOptions both{.stdin_ = PIPE, .stdout_ = PIPE};
    aio::Process cat = co_await aio::create_subprocess_exec("cat", both);
    cat.stdin_->write(std::string_view("hello\n"));
    co_await cat.stdin_->drain();
    aio::bytes line = co_await cat.stdout_->readline();
    cat.stdin_->close();
    aio::bytes rest = co_await cat.stdout_->read();
    co_await cat.wait();
    co_return text(out) + text(line) + "rest=" + rest.repr();
}

}  // namespace

TEST_SUITE("lesson05") {
    TEST_CASE("create_subprocess_exec: wait() gives the exit code (0, 3), as returncode") {
        test::LoopFixture f;
        CHECK(test::run(*f.loop, exit_codes()) == std::vector<int>{0, 3});
        CHECK(test::children() == "");
    }

    TEST_CASE("Process: kill() gives returncode -9, terminate() -15; kill() after wait() raises") {
        for (const char* watcher : {"pidfd", "thread"}) {
            CAPTURE(watcher);
            test::ChildWatcherEnv env(watcher);
            test::LoopFixture f;
            CHECK(test::run(*f.loop, signal_deaths()) == std::vector<int>{-9, -15});
            CHECK(test::children() == "");
        }
    }

    TEST_CASE("communicate: 8 MiB in while 8 MiB come out on stdout and stderr at once") {
        test::LoopFixture f;
        CHECK(test::run(*f.loop, communicate_megabytes(), 60));
        CHECK(test::children() == "");
    }

    TEST_CASE("communicate: empty input closes stdin at once") {
        test::LoopFixture f;
        CHECK(test::run(*f.loop, communicate_empty_input()) == "out=b'' err=b'' rc=0");
    }

    TEST_CASE("communicate: a BrokenPipeError on stdin is ignored, as asyncio does") {
        test::LoopFixture f;
        CHECK(test::run(*f.loop, communicate_to_a_child_that_does_not_read()) == 0);
    }

    TEST_CASE("DEVNULL stdin reads EOF; stderr=STDOUT goes into the stdout pipe") {
        test::LoopFixture f;
        CHECK(test::run(*f.loop, devnull_and_stdout()) == "out\nerr\nend\n");
    }

    TEST_CASE("cwd and env reach the child") {
        test::LoopFixture f;
        CHECK(test::run(*f.loop, cwd_and_env()) == "/tmp\nhello\n");
    }

    TEST_CASE("a missing program raises FileNotFoundError at the await, no pipe left open") {
        test::LoopFixture f;
        CHECK(test::run(*f.loop, missing_program()) ==
              "FileNotFoundError: [Errno 2] No such file or directory: 'no-such-program-aio'");
        CHECK(test::children() == "");
    }

    TEST_CASE("cancelling wait() leaves the child running and a later wait() working") {
        test::LoopFixture f;
        CHECK(test::run(*f.loop, wait_cancelled_then_waited()) == 0);
    }

    TEST_CASE(
        "cancelling communicate() leaves the Process usable (what it had read is lost, as in "
        "asyncio)") {
        test::LoopFixture f;
        CHECK(test::run(*f.loop, communicate_cancelled_then_again()) == "second\n");
        CHECK(test::children() == "");
    }

    TEST_CASE("cancelling creation kills and reaps the child and closes its pipes") {
        test::LoopFixture f;
        CHECK(test::run(*f.loop, creation_cancelled()) == "cancelled children=[]");
    }

    TEST_CASE("100 children at once through create_subprocess_exec: all reaped, no fd left") {
        for (const char* watcher : {"pidfd", "thread"}) {
            CAPTURE(watcher);
            test::ChildWatcherEnv env(watcher);
            test::LoopFixture f;
            CHECK(test::run(*f.loop, hundred_children(), 60));
            CHECK(test::children() == "");
        }
    }

    TEST_CASE("a real peer: python3's lines, 0.2 s apart, arrive as printed, not at exit") {
        test::LoopFixture f;
        std::vector<double> times = test::run(*f.loop, line_times());
        REQUIRE(times.size() == 3);
        CHECK(times[1] - times[0] > 0.15);
        CHECK(times[2] - times[1] > 0.15);
        CHECK(test::children() == "");
    }

    TEST_CASE("create_subprocess_shell runs /bin/sh -c; stdin is a StreamWriter") {
        test::LoopFixture f;
        CHECK(test::run(*f.loop, shell_and_stdin_writer()) == "42\nhello\nrest=b''");
    }
}
