// subprocess.cpp - SubprocessStreamProtocol and Process (asyncio: subprocess.py).
#include "lesson05_io/subprocess.hpp"

#include <algorithm>

#include "lesson01_loop/events.hpp"
#include "lesson03_tasks/gather.hpp"

namespace aio {

namespace detail {

// asyncio: subprocess.SubprocessStreamProtocol (FlowControlMixin + SubprocessProtocol).
// stdin's flow control (pause_writing, drain) is a StreamReaderProtocol's, kept for it.
class SubprocessStreamProtocol final : public SubprocessProtocol {
public:
    SubprocessStreamProtocol(std::size_t limit, EventLoop& loop) : limit_(limit), loop_(&loop) {}

    void connection_made(std::shared_ptr<SubprocessTransport> transport) override;
    void pipe_data_received(int fd, bytes data) override;
    void pipe_connection_lost(int fd, std::exception_ptr exc) override;
    void process_exited() override {
        process_exited_ = true;
        maybe_close_transport();
    }
    void pause_writing() override {
        if (stdin_flow_) stdin_flow_->pause_writing();
    }
    void resume_writing() override {
        if (stdin_flow_) stdin_flow_->resume_writing();
    }

    std::optional<StreamWriter> stdin_;
    std::optional<StreamReader> stdout_;
    std::optional<StreamReader> stderr_;

private:
    std::optional<StreamReader>* reader(int fd) {
        return fd == 1 ? &stdout_ : fd == 2 ? &stderr_ : nullptr;
    }
    void maybe_close_transport();

    std::size_t limit_;
    EventLoop* loop_;
    // Weak: the transport owns this protocol (asyncio's strong pair is a cycle).
    std::weak_ptr<SubprocessTransport> transport_;
    std::shared_ptr<StreamReaderProtocol> stdin_flow_;
    std::vector<int> pipe_fds_;  // the output pipes not yet at EOF
    bool process_exited_ = false;
};

void SubprocessStreamProtocol::connection_made(std::shared_ptr<SubprocessTransport> transport) {
    transport_ = transport;
    for (int fd : {1, 2}) {
        std::shared_ptr<Transport> pipe = transport->get_pipe_transport(fd);
        if (!pipe) continue;
        reader(fd)->emplace(limit_);
        (*reader(fd))->set_transport(pipe);
        pipe_fds_.push_back(fd);
    }
    if (std::shared_ptr<Transport> pipe = transport->get_pipe_transport(0)) {
        stdin_flow_ = std::make_shared<StreamReaderProtocol>(
            StreamReader(limit_), StreamReaderProtocol::ClientConnected{}, loop_);
        stdin_flow_->connection_made(pipe);
        stdin_.emplace(pipe, stdin_flow_, std::nullopt, *loop_);
    }
}

void SubprocessStreamProtocol::pipe_data_received(int fd, bytes data) {
    std::optional<StreamReader>* r = reader(fd);
    if (r && *r) (*r)->feed_data(std::move(data));
}

// asyncio: pipe_connection_lost. stdin: closed, and its drain() waiters woken; an
// output pipe: EOF (or the error) fed to its reader.
void SubprocessStreamProtocol::pipe_connection_lost(int fd, std::exception_ptr exc) {
    if (fd == 0) {
        if (stdin_) stdin_->close();
        if (stdin_flow_) stdin_flow_->connection_lost(exc);
        return;
    }
    std::optional<StreamReader>* r = reader(fd);
    if (r && *r) {
        if (exc)
            (*r)->set_exception(exc);
        else
            (*r)->feed_eof();
    }
    std::erase(pipe_fds_, fd);
    maybe_close_transport();
}

void SubprocessStreamProtocol::maybe_close_transport() {
    if (!pipe_fds_.empty() || !process_exited_) return;
    if (std::shared_ptr<SubprocessTransport> transport = transport_.lock()) transport->close();
    transport_.reset();
}

namespace {

Coro<bytes> nothing() { co_return bytes(); }

// asyncio: Process._feed_stdin.
Coro<bytes> feed_stdin(StreamWriter stdin_writer, bytes input) {
    stdin_writer.write(std::move(input));
    try {
        co_await stdin_writer.drain();
    } catch (const BrokenPipeError&) {  // the child stopped reading: asyncio ignores it
    } catch (const ConnectionResetError&) {
    }
    stdin_writer.close();
    co_return bytes();
}

// asyncio: Process._read_stream. Everything up to EOF, then the pipe closed.
Coro<bytes> read_stream(std::shared_ptr<BaseSubprocessTransport> transport, StreamReader reader,
                        int fd) {
    bytes output = co_await reader.read();
    if (std::shared_ptr<Transport> pipe = transport->get_pipe_transport(fd)) pipe->close();
    co_return output;
}

PopenOptions popen_options(const ProcessOptions& options) {
    return {options.stdin_, options.stdout_, options.stderr_, options.cwd, options.env};
}

}  // namespace

Coro<Process> create_subprocess(std::vector<std::string> args, ProcessOptions options) {
    EventLoop& loop = get_running_loop();
    auto protocol = std::make_shared<SubprocessStreamProtocol>(options.limit, loop);
    // The call named before its await: PopenOptions is an aggregate (GCC 12 destroys
    // one made inside a co_await expression twice).
    Coro<std::shared_ptr<BaseSubprocessTransport>> starting =
        make_subprocess_transport(loop, protocol, std::move(args), popen_options(options));
    std::shared_ptr<BaseSubprocessTransport> transport = co_await std::move(starting);
    co_return Process(std::move(transport), std::move(protocol));
}

}  // namespace detail

Process::Process(std::shared_ptr<detail::BaseSubprocessTransport> transport,
                 std::shared_ptr<detail::SubprocessStreamProtocol> protocol)
    : pid(transport->get_pid()),
      stdin_(protocol->stdin_),
      stdout_(protocol->stdout_),
      stderr_(protocol->stderr_),
      transport_(std::move(transport)),
      protocol_(std::move(protocol)) {}

Coro<int> Process::wait_on(std::shared_ptr<detail::BaseSubprocessTransport> transport) {
    co_return co_await detail::BaseSubprocessTransport::wait(std::move(transport));
}

Coro<std::pair<bytes, bytes>> Process::communicate(std::optional<bytes> input) const {
    return communicate_on(*this, std::move(input));
}

// asyncio: Process.communicate. The three at once, then wait().
Coro<std::pair<bytes, bytes>> Process::communicate_on(Process self, std::optional<bytes> input) {
    Coro<bytes> in = input && self.stdin_ ? detail::feed_stdin(*self.stdin_, std::move(*input))
                                          : detail::nothing();
    Coro<bytes> out =
        self.stdout_ ? detail::read_stream(self.transport_, *self.stdout_, 1) : detail::nothing();
    Coro<bytes> err =
        self.stderr_ ? detail::read_stream(self.transport_, *self.stderr_, 2) : detail::nothing();
    std::array<bytes, 3> results = co_await gather(std::move(in), std::move(out), std::move(err));
    co_await wait_on(self.transport_);
    co_return std::pair{std::move(results[1]), std::move(results[2])};
}

Coro<Process> create_subprocess_shell(std::string cmd, ProcessOptions options) {
    std::vector<std::string> args{"/bin/sh", "-c", std::move(cmd)};
    return detail::create_subprocess(std::move(args), std::move(options));
}

}  // namespace aio
