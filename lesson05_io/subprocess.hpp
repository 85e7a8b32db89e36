// subprocess.hpp - a child process with streams on its pipes (asyncio: subprocess.py,
// create_subprocess_exec, create_subprocess_shell, Process).
//
// The upper of asyncio's two layers: a SubprocessProtocol (base_subprocess.hpp) that
// feeds a StreamReader per output pipe and gives a StreamWriter for stdin, and a
// Process that wraps the transport. What the tutorials write as
//
//   proc = await asyncio.create_subprocess_exec('python3', '-c', code,
//                                               stdout=asyncio.subprocess.PIPE)
//   async for line in proc.stdout: ...
//   await proc.wait()
//
// is here
//
//   aio::ProcessOptions options{.stdout_ = aio::subprocess::PIPE};
//   aio::Process proc = co_await aio::create_subprocess_exec("python3", "-c", code, options);
//   aio::AsyncGenerator<aio::bytes> lines = proc.stdout_->lines();
//   while (std::optional<aio::bytes> line = co_await lines.next()) ...
//   int returncode = co_await proc.wait();
//
// communicate(input) writes input and closes stdin while it reads stdout and stderr
// to EOF, all three at once (gather), then waits: a child that writes megabytes to both
// pipes while it still reads megabytes from stdin never blocks on a full pipe. A
// BrokenPipeError or ConnectionResetError on stdin (the child stopped reading) is
// ignored, as asyncio's _feed_stdin does.
//
// Differences from asyncio 3.11:
//   - stdin_, stdout_, stderr_ (and the options' fields) carry an underscore: <cstdio>
//     may define stdin/stdout/stderr as macros.
//   - returncode() is a method; communicate() gives empty bytes for a stream that is
//     not a PIPE (Python: None).
//   - wait() returns once the child is reaped, before its pipes close (see
//     base_subprocess.hpp).
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "lesson02_coroutines/coroutines.hpp"
#include "lesson05_io/base_subprocess.hpp"
#include "lesson05_io/bytes.hpp"
#include "lesson05_io/streams.hpp"

namespace aio {

namespace detail {
class SubprocessStreamProtocol;
}

// asyncio: create_subprocess_exec's keyword arguments. Each stdio field is nullopt
// (inherit: the default), subprocess::PIPE, subprocess::DEVNULL, subprocess::STDOUT
// (stderr only), or an fd.
struct ProcessOptions {
    std::optional<int> stdin_ = std::nullopt;
    std::optional<int> stdout_ = std::nullopt;
    std::optional<int> stderr_ = std::nullopt;
    std::optional<std::string> cwd = std::nullopt;
    std::optional<std::map<std::string, std::string>> env = std::nullopt;
    std::size_t limit = DEFAULT_STREAM_LIMIT;  // the StreamReaders' limit
};

// asyncio: subprocess.Process. Copies share the one child.
class Process {
public:
    Process(std::shared_ptr<detail::BaseSubprocessTransport> transport,
            std::shared_ptr<detail::SubprocessStreamProtocol> protocol);

    int pid;
    std::optional<StreamWriter> stdin_;   // set if stdin was a PIPE
    std::optional<StreamReader> stdout_;  // set if stdout was a PIPE
    std::optional<StreamReader> stderr_;  // set if stderr was a PIPE

    // None while the child runs; its exit status, or -N after a death by signal N.
    std::optional<int> returncode() const { return transport_->get_returncode(); }
    // asyncio: wait(). The returncode once the child has exited. Cancelling it leaves
    // the child alone, and a later wait() works.
    Coro<int> wait() const { return wait_on(transport_); }
    // asyncio: communicate(input=None) -> (stdout_data, stderr_data). input (b'' too)
    // is written and stdin closed; without input stdin is left as it is.
    Coro<std::pair<bytes, bytes>> communicate(std::optional<bytes> input = std::nullopt) const;
    // Nothing once the child has exited (asyncio's Popen rule).
    void send_signal(int sig) const { transport_->send_signal(sig); }
    void terminate() const { transport_->terminate(); }
    void kill() const { transport_->kill(); }
    // "<Process 1234>".
    std::string repr() const { return "<Process " + std::to_string(pid) + ">"; }

    const std::shared_ptr<detail::BaseSubprocessTransport>& transport() const noexcept {
        return transport_;
    }

private:
    static Coro<int> wait_on(std::shared_ptr<detail::BaseSubprocessTransport> transport);
    static Coro<std::pair<bytes, bytes>> communicate_on(Process self, std::optional<bytes> input);

    std::shared_ptr<detail::BaseSubprocessTransport> transport_;
    std::shared_ptr<detail::SubprocessStreamProtocol> protocol_;
};

namespace detail {
Coro<Process> create_subprocess(std::vector<std::string> args, ProcessOptions options);
}  // namespace detail

// asyncio: await create_subprocess_exec(program, *args, stdin=None, stdout=None,
// stderr=None, limit=..., cwd=..., env=...):
//
//   aio::ProcessOptions options{.stdout_ = aio::subprocess::PIPE};
//   aio::Process proc = co_await aio::create_subprocess_exec("ls", "-l", "/", options);
//
// The arguments are strings (or a std::vector of them), then optionally the options,
// named first: GCC 12 destroys twice an aggregate made inside a co_await expression,
// and rejects a braced list of strings in a coroutine ("array used as initializer").
// A program that cannot start raises here (FileNotFoundError: [Errno 2] No such file or
// directory: 'prog'), every pipe closed. Cancelled, the child is killed and reaped and
// its pipes closed before CancelledError propagates.
template <class... Args>
Coro<Process> create_subprocess_exec(std::string program, Args&&... args) {
    std::vector<std::string> argv;
    argv.push_back(std::move(program));
    ProcessOptions options;
    detail::collect(argv, options, std::forward<Args>(args)...);
    return detail::create_subprocess(std::move(argv), std::move(options));
}

// asyncio: await create_subprocess_shell(cmd, ...): /bin/sh -c cmd.
Coro<Process> create_subprocess_shell(std::string cmd, ProcessOptions options = {});

}  // namespace aio
