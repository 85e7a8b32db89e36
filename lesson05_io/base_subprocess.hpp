// base_subprocess.hpp - a child process as a transport and a protocol (asyncio:
// base_subprocess.py, the SubprocessTransport/SubprocessProtocol interfaces of
// transports.py and protocols.py, unix_events._UnixSubprocessTransport).
//
// The lower of asyncio's two subprocess layers: loop.subprocess_exec(factory, args)
// starts the child (spawn.hpp), makes each of its PIPE stdio fds a pipe transport
// (unix_events.hpp) whose little protocol forwards to the one SubprocessProtocol with
// the fd's number, and has the child watched (child_watcher.hpp):
//
//   child's stdout ──read pipe──▶ pipe protocol(fd=1) ──▶ pipe_data_received(1, data)
//                                                     ──▶ pipe_connection_lost(1, exc)
//   child exits ──pidfd/thread──▶ waitpid ──▶ process_exited() ──▶ wait() wakes
//   all pipes lost and the child reaped ──▶ connection_lost(None), the protocol dropped
//
// The order of callbacks is asyncio's: connection_made first (data or an exit that come
// earlier are held until it has run), then pipe_* and process_exited as they happen,
// connection_lost last. close() closes the pipes and kills (SIGKILL) a child still
// running, not one that exited; the loop's closing does the same (child_watcher.hpp).
//
// Differences from asyncio 3.11:
//   - wait() wakes when the child has been reaped, not when its pipes are closed too
//     (3.11 wakes waiters in _call_connection_lost): a grandchild that keeps the
//     child's stdout open no longer makes wait() hang although returncode is known.
//   - send_signal() after close raises ProcessLookupError(3, 'No such process');
//     asyncio's _check_proc raises a bare ProcessLookupError().
//   - No SIGCHLD handler at all; see child_watcher.hpp.
#pragma once

#include <array>
#include <csignal>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "lesson01_loop/event_loop.hpp"
#include "lesson02_coroutines/coroutines.hpp"
#include "lesson02_coroutines/futures.hpp"
#include "lesson05_io/base_events.hpp"
#include "lesson05_io/bytes.hpp"
#include "lesson05_io/exceptions.hpp"
#include "lesson05_io/protocols.hpp"
#include "lesson05_io/spawn.hpp"
#include "lesson05_io/transports.hpp"
#include "lesson05_io/unix_events.hpp"

namespace aio {

class SubprocessTransport;

// Python's ProcessLookupError (errno ESRCH): the process is gone.
class ProcessLookupError : public detail::OSErrorKind<ProcessLookupError, OSError> {
public:
    using OSErrorKind::OSErrorKind;
    static constexpr const char* python_type = "ProcessLookupError";
};

// asyncio: protocols.SubprocessProtocol. fd is 0 (stdin), 1 (stdout) or 2 (stderr).
class SubprocessProtocol : public BaseProtocol {
public:
    virtual void connection_made(std::shared_ptr<SubprocessTransport> /*transport*/) {}
    virtual void pipe_data_received(int /*fd*/, bytes /*data*/) {}
    virtual void pipe_connection_lost(int /*fd*/, std::exception_ptr /*exc*/) {}
    virtual void process_exited() {}
};

// asyncio: transports.SubprocessTransport.
class SubprocessTransport : public BaseTransport {
public:
    virtual int get_pid() const = 0;
    // None while the child runs; its exit status, or -N after a death by signal N.
    virtual std::optional<int> get_returncode() const = 0;
    // The pipe transport of fd 0, 1 or 2; null if that fd is not a PIPE.
    virtual std::shared_ptr<Transport> get_pipe_transport(int fd) const = 0;
    // Nothing once the child has exited (Popen.send_signal's rule); ProcessLookupError
    // after the transport is finished.
    virtual void send_signal(int sig) = 0;
    void terminate() { send_signal(SIGTERM); }
    void kill() { send_signal(SIGKILL); }
};

// Python's subprocess.PIPE, STDOUT and DEVNULL, as the stdio options take them (any
// other value >= 0 is an fd the child gets; nullopt leaves the parent's).
namespace subprocess {
inline constexpr int PIPE = -1;
inline constexpr int STDOUT = -2;
inline constexpr int DEVNULL = -3;
}  // namespace subprocess

// The keyword arguments of subprocess_exec and create_subprocess_exec. Written
// {.stdout_ = aio::subprocess::PIPE}: the trailing underscore because <cstdio> may
// define stdin/stdout/stderr as macros (musl: #define stdin (stdin)).
struct PopenOptions {
    std::optional<int> stdin_ = std::nullopt;
    std::optional<int> stdout_ = std::nullopt;
    std::optional<int> stderr_ = std::nullopt;
    std::optional<std::string> cwd = std::nullopt;
    std::optional<std::map<std::string, std::string>> env = std::nullopt;  // None: the parent's
};

namespace detail {

// asyncio: base_subprocess.BaseSubprocessTransport (+ _UnixSubprocessTransport).
class BaseSubprocessTransport final : public SubprocessTransport,
                                      public std::enable_shared_from_this<BaseSubprocessTransport> {
public:
    BaseSubprocessTransport(EventLoop& loop, std::shared_ptr<SubprocessProtocol> protocol);
    ~BaseSubprocessTransport() override;

    ExtraInfo get_extra_info(std::string_view) const override { return std::monostate{}; }
    bool is_closing() const override { return closed_; }
    void close() override;
    int get_pid() const override { return pid_; }
    std::optional<int> get_returncode() const override { return returncode_; }
    std::shared_ptr<Transport> get_pipe_transport(int fd) const override;
    void send_signal(int sig) override;
    std::shared_ptr<SubprocessProtocol> get_protocol() const { return protocol_; }
    // "<BaseSubprocessTransport pid=1234 running stdin=<...> stdout=<...>>".
    std::string repr() const;

    // asyncio: _wait. The returncode, once the child is reaped.
    static Coro<int> wait(std::shared_ptr<BaseSubprocessTransport> self);

    // ---- the creation (base_subprocess.__init__ + _connect_pipes) -------------------
    // Spawns the child and has it watched. Throws spawn's OSError.
    void start(const SpawnRequest& request);
    // The pipe transports over `parent_fds` (our ends of the child's PIPEs, -1 where
    // none), then connection_made, then the held callbacks.
    static Coro<void> connect(std::shared_ptr<BaseSubprocessTransport> self,
                              std::array<OwnedFd, 3> parent_fds);

    // ---- from the pipe protocols and the watcher ------------------------------------
    void pipe_data_received(int fd, bytes data);
    void pipe_connection_lost(int fd, std::exception_ptr exc);
    void pipe_pause_writing();
    void pipe_resume_writing();
    void process_exited(int returncode);

private:
    // asyncio: _call. Run cb soon, or hold it until connection_made has run.
    void call(std::function<void()> cb);
    void try_finish();
    void call_connection_lost();
    bool pipes_lost() const;

    EventLoop* loop_;
    std::shared_ptr<SubprocessProtocol> protocol_;  // null after connection_lost
    int pid_ = -1;
    std::optional<int> returncode_;
    bool closed_ = false;
    bool finished_ = false;  // connection_lost scheduled
    std::array<std::shared_ptr<Transport>, 3> pipes_;
    std::array<bool, 3> pipe_expected_{};  // a PIPE: connection_lost will come
    std::array<bool, 3> pipe_lost_{};
    // Callbacks held until connection_made (asyncio: _pending_calls); nullopt after.
    std::optional<std::vector<std::function<void()>>> pending_calls_{std::in_place};
    std::vector<Future<int>> exit_waiters_;
};

// The transport, created, spawned and connected; on failure or cancellation the child
// is killed and reaped and every pipe closed before the error is raised.
Coro<std::shared_ptr<BaseSubprocessTransport>> make_subprocess_transport(
    EventLoop& loop, std::shared_ptr<SubprocessProtocol> protocol, std::vector<std::string> args,
    PopenOptions options);

template <class Factory>
using SubprocessConnection =
    Coro<std::pair<std::shared_ptr<SubprocessTransport>, std::shared_ptr<protocol_of<Factory>>>>;

// The factory is called when the coroutine runs, as asyncio's first line does.
template <class Factory>
SubprocessConnection<Factory> subprocess_with(EventLoop& loop, Factory protocol_factory,
                                              std::vector<std::string> args, PopenOptions options) {
    std::shared_ptr<protocol_of<Factory>> protocol = protocol_factory();
    // Named before its await: PopenOptions is an aggregate (GCC 12, unix_events.hpp).
    Coro<std::shared_ptr<BaseSubprocessTransport>> starting =
        make_subprocess_transport(loop, protocol, std::move(args), std::move(options));
    std::shared_ptr<SubprocessTransport> transport = co_await std::move(starting);
    co_return std::pair{std::move(transport), std::move(protocol)};
}

// loop.subprocess_exec's default: every stdio fd a PIPE.
inline PopenOptions all_pipes() {
    return {subprocess::PIPE, subprocess::PIPE, subprocess::PIPE, std::nullopt, std::nullopt};
}

}  // namespace detail

namespace detail {
// Sorts a subprocess call's arguments: strings (or a vector of them) into args, the
// Options (loop.subprocess_exec's PopenOptions, create_subprocess_exec's
// ProcessOptions; last) into options.
template <class Options>
void collect(std::vector<std::string>&, Options&) {}
template <class Options, class A, class... Rest>
void collect(std::vector<std::string>& args, Options& options, A&& arg, Rest&&... rest) {
    using T = std::remove_cvref_t<A>;
    if constexpr (std::is_same_v<T, Options>) {
        static_assert(sizeof...(Rest) == 0, "the options come last");
        options = std::forward<A>(arg);
    } else if constexpr (std::is_same_v<T, std::vector<std::string>>) {
        args.insert(args.end(), arg.begin(), arg.end());
    } else {
        args.emplace_back(std::forward<A>(arg));
    }
    if constexpr (sizeof...(Rest) > 0) collect(args, options, std::forward<Rest>(rest)...);
}
}  // namespace detail

// asyncio: await loop.subprocess_exec(protocol_factory, program, *args, stdin=PIPE,
// stdout=PIPE, stderr=PIPE, cwd=..., env=...) -> (transport, protocol). The arguments
// are strings (or a std::vector of them), then optionally a PopenOptions, named first
// (see create_subprocess_exec in subprocess.hpp for why).
template <class Factory, class... Args>
detail::SubprocessConnection<Factory> aio_subprocess_exec(EventLoop& loop, Factory protocol_factory,
                                                          std::string program, Args&&... args) {
    std::vector<std::string> argv;
    argv.push_back(std::move(program));
    PopenOptions options = detail::all_pipes();
    detail::collect(argv, options, std::forward<Args>(args)...);
    return detail::subprocess_with(loop, std::move(protocol_factory), std::move(argv),
                                   std::move(options));
}

// asyncio: await loop.subprocess_shell(protocol_factory, cmd, ...): /bin/sh -c cmd.
template <class Factory>
detail::SubprocessConnection<Factory> aio_subprocess_shell(
    EventLoop& loop, Factory protocol_factory, std::string cmd,
    PopenOptions options = detail::all_pipes()) {
    std::vector<std::string> argv;
    argv.push_back("/bin/sh");
    argv.push_back("-c");
    argv.push_back(std::move(cmd));
    return detail::subprocess_with(loop, std::move(protocol_factory), std::move(argv),
                                   std::move(options));
}

}  // namespace aio
