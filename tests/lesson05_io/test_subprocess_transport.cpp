// test_subprocess_transport.cpp - the lower layer: loop.subprocess_exec with a
// SubprocessProtocol, the transport's get_pid / get_returncode / get_pipe_transport /
// send_signal / close, and the order of the protocol's callbacks.
#include <doctest/doctest.h>

#include <csignal>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "helpers.hpp"
#include "lesson01_loop/events.hpp"
#include "lesson02_coroutines/futures.hpp"
#include "lesson05_io/base_subprocess.hpp"
#include "subprocess_helpers.hpp"

namespace {

// Writes down each callback; `done` is set at connection_lost, `exited` at process_exited.
struct Recorder : aio::SubprocessProtocol {
    std::vector<std::string> trace;
    std::string out;
    aio::Future<void> exited{aio::get_running_loop()};
    aio::Future<void> done{aio::get_running_loop()};
    void connection_made(std::shared_ptr<aio::SubprocessTransport>) override {
        trace.push_back("connection_made");
    }
    void pipe_data_received(int fd, aio::bytes data) override {
        if (fd == 1) out += std::string(data.view());
    }
    void pipe_connection_lost(int fd, std::exception_ptr exc) override {
        trace.push_back("pipe_connection_lost " + std::to_string(fd) + (exc ? " error" : " None"));
    }
    void process_exited() override {
        trace.push_back("process_exited");
        exited.set_result();
    }
    void connection_lost(std::exception_ptr) override {
        trace.push_back("connection_lost");
        done.set_result();
    }
};

aio::Coro<std::string> callbacks_in_order() {
    aio::EventLoop& loop = aio::get_running_loop();
    auto [transport, protocol] = co_await loop.subprocess_exec(
        [] { return std::make_shared<Recorder>(); }, "sh", "-c", "echo hi; exit 4");
    CHECK(transport->get_pid() > 0);
    CHECK(transport->get_pipe_transport(0) != nullptr);
    CHECK(transport->get_pipe_transport(1) != nullptr);
    CHECK(transport->get_pipe_transport(2) != nullptr);
    CHECK(transport->get_pipe_transport(3) == nullptr);
    transport->get_pipe_transport(0)->close();  // stdin: we write nothing
    co_await protocol->done;
    CHECK(transport->get_returncode() == 4);
    CHECK(protocol->trace.front() == "connection_made");
    CHECK(protocol->trace.back() == "connection_lost");
    CHECK(protocol->trace.size() == 6);  // made, 3 pipes lost, exited, lost
    bool threw = false;
    try {
        transport->send_signal(SIGTERM);
    } catch (const aio::ProcessLookupError&) {
        threw = true;
    }
    CHECK(threw);
    co_return protocol->out;
}

aio::Coro<int> close_kills_a_running_child() {
    aio::EventLoop& loop = aio::get_running_loop();
    auto [transport, protocol] = co_await loop.subprocess_shell(
        [] { return std::make_shared<Recorder>(); }, std::string("exec sleep 100"));
    CHECK_FALSE(transport->get_returncode().has_value());
    transport->close();
    CHECK(transport->is_closing());
    co_await protocol->done;
    co_return *transport->get_returncode();
}

aio::Coro<int> close_after_exit_leaves_the_code() {
    aio::EventLoop& loop = aio::get_running_loop();
    aio::PopenOptions options{.stdin_ = aio::subprocess::DEVNULL};
    auto [transport, protocol] = co_await loop.subprocess_shell(
        [] { return std::make_shared<Recorder>(); }, std::string("exit 0"), options);
    CHECK(transport->get_pipe_transport(0) == nullptr);
    co_await protocol->exited;
    transport->close();
    co_await protocol->done;
    co_return *transport->get_returncode();
}

aio::Coro<std::shared_ptr<aio::SubprocessTransport>> left_running() {
    aio::EventLoop& loop = aio::get_running_loop();
    auto [transport, protocol] = co_await loop.subprocess_shell(
        [] { return std::make_shared<Recorder>(); }, std::string("exec sleep 100"));
    co_return transport;
}

}  // namespace

TEST_SUITE("lesson05") {
    TEST_CASE("subprocess_exec: connection_made first, connection_lost last, after every pipe") {
        test::LoopFixture f;
        CHECK(test::run(*f.loop, callbacks_in_order()) == "hi\n");
        CHECK(test::children() == "");
    }

    TEST_CASE("SubprocessTransport.close() kills a child still running (returncode -9)") {
        for (const char* watcher : {"pidfd", "thread"}) {
            CAPTURE(watcher);
            test::ChildWatcherEnv env(watcher);
            test::LoopFixture f;
            CHECK(test::run(*f.loop, close_kills_a_running_child()) == -9);
            CHECK(test::children() == "");
        }
    }

    TEST_CASE("SubprocessTransport.close() after the exit keeps its returncode") {
        test::LoopFixture f;
        CHECK(test::run(*f.loop, close_after_exit_leaves_the_code()) == 0);
    }

    TEST_CASE("closing the loop kills and reaps a child whose transport is still open") {
        for (const char* watcher : {"pidfd", "thread"}) {
            CAPTURE(watcher);
            test::ChildWatcherEnv env(watcher);
            std::shared_ptr<aio::SubprocessTransport> transport;
            {
                test::LoopFixture f;
                transport = test::run(*f.loop, left_running());
                CHECK(test::children() != "");
            }
            CHECK(test::children() == "");
            transport.reset();
        }
    }
}
