// base_subprocess.cpp - the subprocess transport and its pipe protocols (asyncio:
// base_subprocess.BaseSubprocessTransport, WriteSubprocessPipeProto,
// ReadSubprocessPipeProto; unix_events._make_subprocess_transport).
#include "lesson05_io/base_subprocess.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "lesson01_loop/exceptions.hpp"
#include "lesson05_io/child_watcher.hpp"

namespace aio::detail {

namespace {

// asyncio: WriteSubprocessPipeProto / ReadSubprocessPipeProto. One pipe of the child,
// forwarding to its transport with the fd's number. The strong reference to the
// transport is dropped at connection_lost (asyncio: self.proc = None).
class SubprocessPipeProtocol final : public Protocol {
public:
    SubprocessPipeProtocol(std::shared_ptr<BaseSubprocessTransport> proc, int fd)
        : proc_(std::move(proc)), fd_(fd) {}
    void data_received(bytes data) override {
        if (proc_) proc_->pipe_data_received(fd_, std::move(data));
    }
    void connection_lost(std::exception_ptr exc) override {
        std::shared_ptr<BaseSubprocessTransport> proc = std::move(proc_);
        if (proc) proc->pipe_connection_lost(fd_, std::move(exc));
    }
    void pause_writing() override {
        if (proc_) proc_->pipe_pause_writing();
    }
    void resume_writing() override {
        if (proc_) proc_->pipe_resume_writing();
    }

private:
    std::shared_ptr<BaseSubprocessTransport> proc_;
    int fd_;
};

// The fds of the child's stdio, as Popen._get_handles makes them: ours (the parent's
// ends of PIPEs), the ones we opened for the child (closed once it is spawned), and
// what the child gets as 0, 1, 2.
struct Stdio {
    std::array<OwnedFd, 3> parent;
    std::array<OwnedFd, 3> child_owned;
    std::array<int, 3> child{-1, -1, -1};
};

void open_pipe(Stdio& s, int i) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) < 0) throw_os_error(errno);
    OwnedFd read_end(fds[0]);
    OwnedFd write_end(fds[1]);
    s.parent[i] = i == 0 ? std::move(write_end) : std::move(read_end);
    s.child_owned[i] = i == 0 ? std::move(read_end) : std::move(write_end);
    s.child[i] = s.child_owned[i].get();
}

void open_one(Stdio& s, int i, std::optional<int> spec) {
    if (!spec) return;
    if (*spec == subprocess::PIPE) return open_pipe(s, i);
    if (*spec == subprocess::DEVNULL) {
        int fd = ::open("/dev/null", O_RDWR | O_CLOEXEC);
        if (fd < 0) throw_os_error(errno, {}, "/dev/null");
        s.child_owned[i] = OwnedFd(fd);
        s.child[i] = fd;
    } else if (*spec == subprocess::STDOUT && i == 2) {
        s.child[2] = s.child[1] >= 0 ? s.child[1] : 1;
    } else if (*spec >= 0) {
        s.child[i] = *spec;
    } else {
        throw ValueError("STDOUT can only be used for stderr");
    }
}

Stdio open_stdio(const PopenOptions& options) {
    Stdio s;
    open_one(s, 0, options.stdin_);
    open_one(s, 1, options.stdout_);
    open_one(s, 2, options.stderr_);
    return s;
}

}  // namespace

BaseSubprocessTransport::BaseSubprocessTransport(EventLoop& loop,
                                                 std::shared_ptr<SubprocessProtocol> protocol)
    : loop_(&loop), protocol_(std::move(protocol)) {}

// asyncio: __del__ closes an unclosed transport (and warns). The watcher holds the
// transport while the child runs, so this runs once the child is reaped, or the loop
// closed.
BaseSubprocessTransport::~BaseSubprocessTransport() { close(); }

void BaseSubprocessTransport::start(const SpawnRequest& request) {
    pid_ = spawn(request);
    std::shared_ptr<BaseSubprocessTransport> self = shared_from_this();
    add_child_handler(*loop_, pid_, [self](int returncode) { self->process_exited(returncode); });
}

Coro<void> BaseSubprocessTransport::connect(std::shared_ptr<BaseSubprocessTransport> self,
                                            std::array<OwnedFd, 3> parent_fds) {
    std::array<std::shared_ptr<Protocol>, 3> protocols;
    for (int i = 0; i < 3; ++i) {
        if (parent_fds[i].get() < 0) continue;
        self->pipe_expected_[i] = true;
        protocols[i] = std::make_shared<SubprocessPipeProtocol>(self, i);
    }
    // Named before the await: GCC 12 destroys an aggregate (std::array) made inside a
    // co_await expression twice (unix_events.hpp).
    Coro<ChildPipes> connecting = connect_pipes(*self->loop_, std::move(parent_fds), protocols);
    ChildPipes pipes = co_await std::move(connecting);
    self->pipes_ = pipes;
    if (self->closed_) {  // closed while the pipes were being made
        for (auto& pipe : pipes)
            if (pipe) pipe->close();
    }
    self->protocol_->connection_made(self);
    std::vector<std::function<void()>> held = std::move(*self->pending_calls_);
    self->pending_calls_.reset();
    for (std::function<void()>& cb : held) self->loop_->call_soon(std::move(cb));
}

// asyncio: close(). Pipes closed; a child still running killed (not one already reaped;
// one that has exited and awaits reaping is a zombie, which SIGKILL does not touch).
void BaseSubprocessTransport::close() {
    if (closed_) return;
    closed_ = true;
    for (auto& pipe : pipes_)
        if (pipe) pipe->close();
    if (pid_ > 0 && !returncode_) ::kill(pid_, SIGKILL);
}

std::shared_ptr<Transport> BaseSubprocessTransport::get_pipe_transport(int fd) const {
    return fd >= 0 && fd < 3 ? pipes_[static_cast<std::size_t>(fd)] : nullptr;
}

// asyncio: _check_proc, then Popen.send_signal, which does nothing once returncode is
// set. The pid cannot have been reused before: it is ours until reaped, and reaping
// sets returncode_ in the same loop callback.
void BaseSubprocessTransport::send_signal(int sig) {
    if (finished_ && !protocol_) throw ProcessLookupError(ESRCH, "No such process");
    if (returncode_ || pid_ <= 0) return;
    if (::kill(pid_, sig) < 0) throw_os_error(errno);
}

Coro<int> BaseSubprocessTransport::wait(std::shared_ptr<BaseSubprocessTransport> self) {
    if (self->returncode_) co_return *self->returncode_;
    Future<int> waiter(*self->loop_);
    self->exit_waiters_.push_back(waiter);
    co_return co_await waiter;
}

void BaseSubprocessTransport::call(std::function<void()> cb) {
    if (pending_calls_)
        pending_calls_->push_back(std::move(cb));
    else
        loop_->call_soon(std::move(cb));
}

void BaseSubprocessTransport::pipe_data_received(int fd, bytes data) {
    std::shared_ptr<SubprocessProtocol> p = protocol_;
    call([p, fd, data = std::move(data)]() mutable { p->pipe_data_received(fd, std::move(data)); });
}

void BaseSubprocessTransport::pipe_connection_lost(int fd, std::exception_ptr exc) {
    pipe_lost_[static_cast<std::size_t>(fd)] = true;
    std::shared_ptr<SubprocessProtocol> p = protocol_;
    call([p, fd, exc] { p->pipe_connection_lost(fd, exc); });
    try_finish();
}

void BaseSubprocessTransport::pipe_pause_writing() {
    if (protocol_) protocol_->pause_writing();
}
void BaseSubprocessTransport::pipe_resume_writing() {
    if (protocol_) protocol_->resume_writing();
}

// asyncio: _process_exited. Differs: the wait() futures are woken here, at the exit,
// not once the pipes are closed too (see the header).
void BaseSubprocessTransport::process_exited(int returncode) {
    returncode_ = returncode;
    std::shared_ptr<SubprocessProtocol> p = protocol_;
    if (p) call([p] { p->process_exited(); });
    try_finish();
    std::vector<Future<int>> waiters = std::move(exit_waiters_);
    for (Future<int>& waiter : waiters)
        if (!waiter.done()) waiter.set_result(returncode);
}

bool BaseSubprocessTransport::pipes_lost() const {
    for (std::size_t i = 0; i < 3; ++i)
        if (pipe_expected_[i] && !pipe_lost_[i]) return false;
    return true;
}

// asyncio: _try_finish. The child reaped and every pipe lost: connection_lost(None).
void BaseSubprocessTransport::try_finish() {
    if (!returncode_ || finished_ || !pipes_lost()) return;
    finished_ = true;
    std::shared_ptr<BaseSubprocessTransport> self = shared_from_this();
    call([self] { self->call_connection_lost(); });
}

// asyncio: _call_connection_lost. The protocol's last callback; then it is dropped.
void BaseSubprocessTransport::call_connection_lost() {
    std::shared_ptr<SubprocessProtocol> p = std::move(protocol_);
    if (p) p->connection_lost(nullptr);
}

std::string BaseSubprocessTransport::repr() const {
    std::string out = "<BaseSubprocessTransport";
    if (closed_) out += " closed";
    out += " pid=" + std::to_string(pid_);
    out += returncode_ ? " returncode=" + std::to_string(*returncode_) : " running";
    static const char* const names[] = {"stdin", "stdout", "stderr"};
    for (std::size_t i = 0; i < 3; ++i)
        if (pipe_expected_[i]) out += std::string(" ") + names[i];
    return out + ">";
}

Coro<std::shared_ptr<BaseSubprocessTransport>> make_subprocess_transport(
    EventLoop& loop, std::shared_ptr<SubprocessProtocol> protocol, std::vector<std::string> args,
    PopenOptions options) {
    auto transport = std::make_shared<BaseSubprocessTransport>(loop, std::move(protocol));
    std::array<OwnedFd, 3> parent_fds;
    {
        Stdio stdio = open_stdio(options);
        SpawnRequest request{std::move(args), options.cwd, options.env, stdio.child};
        transport->start(request);  // on failure every fd of `stdio` is closed here
        parent_fds = std::move(stdio.parent);
    }  // the child's ends closed: the child has its own copies
    std::exception_ptr error;
    try {
        // Named first: the std::array argument (GCC 12, see connect()).
        Coro<void> connecting = BaseSubprocessTransport::connect(transport, std::move(parent_fds));
        co_await std::move(connecting);
    } catch (...) {
        error = std::current_exception();
    }
    if (error) {  // asyncio: transp.close(); await transp._wait(); raise
        transport->close();
        co_await BaseSubprocessTransport::wait(transport);
        std::rethrow_exception(error);
    }
    co_return transport;
}

}  // namespace aio::detail
