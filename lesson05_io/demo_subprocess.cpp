// demo_subprocess.cpp - the demo's subprocess part (tutorial 004's "subprocess with
// live output"): a child that prints to stdout and stderr with pauses, both pipes read
// line by line as the lines come, each stamped with the loop's time; then its exit
// code, and a program that does not exist. The child is `sh -c` with echo and sleep,
// which every machine has. While the child runs, the loop counts it as external work,
// so even the tour's virtual clock runs at real speed and the stamps are true.
#include <exception>
#include <optional>
#include <string>

#include "lesson01_loop/exceptions.hpp"
#include "lesson02_coroutines/coroutines.hpp"
#include "lesson03_tasks/gather.hpp"
#include "lesson05_io/demo.hpp"
#include "lesson05_io/subprocess.hpp"

namespace {

using aio::subprocess::PIPE;

const char* script =
    "echo 'step 1: download'; sleep 0.2; "
    "echo 'warning: slow mirror' >&2; sleep 0.2; "
    "echo 'step 2: unpack'; sleep 0.2; "
    "echo 'done'; exit 3";

// `async for line in stream:` print it with the time it came.
aio::Coro<void> print_lines(std::string name, aio::StreamReader stream) {
    aio::AsyncGenerator<aio::bytes> lines = stream.lines();
    while (std::optional<aio::bytes> line = co_await lines.next())
        demo::say(name + ": " + aio::repr(*line));
}

aio::Coro<void> missing_program() {
    try {
        co_await aio::create_subprocess_exec("no-such-program");
    } catch (const aio::OSError&) {
        demo::say("create_subprocess_exec('no-such-program') raised " +
                  aio::describe_exception(std::current_exception()));
    }
}

}  // namespace

aio::Coro<void> demo::subprocess_part() {
    demo::start_clock();
    aio::ProcessOptions options{.stdout_ = PIPE, .stderr_ = PIPE};
    aio::Process proc = co_await aio::create_subprocess_exec("sh", "-c", script, options);
    demo::say("started " + proc.repr() + ": sh -c 'echo ...; sleep 0.2; ...'");
    co_await aio::gather(print_lines("stdout", *proc.stdout_),
                         print_lines("stderr", *proc.stderr_));
    int returncode = co_await proc.wait();
    demo::say("wait() -> " + std::to_string(returncode) + " (reaped: no zombie left)");
    co_await missing_program();
}
