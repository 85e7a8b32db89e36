// recorder.hpp - a protocol that writes down what its transport calls, for the transport
// and connection tests: the trace of callbacks (repeated data_received collapsed into
// one entry), every byte received, and a future done at connection_lost.
#pragma once

#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "lesson01_loop/event_loop.hpp"
#include "lesson01_loop/exceptions.hpp"
#include "lesson02_coroutines/coroutines.hpp"
#include "lesson02_coroutines/futures.hpp"
#include "lesson02_coroutines/sleep.hpp"
#include "lesson05_io/bytes.hpp"
#include "lesson05_io/protocols.hpp"
#include "lesson05_io/socket.hpp"
#include "lesson05_io/transports.hpp"

namespace test {

class Recorder : public aio::Protocol {
public:
    explicit Recorder(aio::EventLoop& loop) : lost(loop) {}

    void connection_made(std::shared_ptr<aio::Transport> t) override {
        trace.push_back("connection_made");
        transport = std::move(t);
    }
    void data_received(aio::bytes data) override {
        if (trace.empty() || trace.back() != "data_received") trace.push_back("data_received");
        received += data;
    }
    bool eof_received() override {
        trace.push_back("eof_received");
        return keep_open_on_eof;
    }
    void connection_lost(std::exception_ptr exc) override {
        trace.push_back("connection_lost(" + (exc ? aio::describe_exception(exc) : "None") + ")");
        error = exc;
        if (!lost.done()) lost.set_result();
    }
    void pause_writing() override {
        trace.push_back("pause_writing");
        writing_paused = true;
    }
    void resume_writing() override {
        trace.push_back("resume_writing");
        writing_paused = false;
    }

    std::vector<std::string> trace;
    std::shared_ptr<aio::Transport> transport;
    aio::bytes received;
    std::exception_ptr error;
    bool keep_open_on_eof = false;
    bool writing_paused = false;
    aio::Future<void> lost;  // done once connection_lost has been called
};

namespace {

// Waits (polling each millisecond of loop time) until cond() holds; the test's watchdog
// bounds it. cond must capture only references (see the GCC 12 co_await note).
template <class F>
aio::Coro<void> until(F cond) {
    while (!cond()) co_await aio::sleep(0.001);
}

// Two connected non-blocking TCP sockets over loopback: (client, accepted).
inline std::pair<aio::socket, aio::socket> tcp_pair(int family = AF_INET,
                                                    const char* host = "127.0.0.1") {
    aio::socket listener(family, SOCK_STREAM);
    listener.bind({host, 0});
    listener.listen();
    aio::socket client(family, SOCK_STREAM);
    client.connect(listener.getsockname());
    auto accepted = listener.accept();
    client.setblocking(false);
    accepted.first.setblocking(false);
    return {std::move(client), std::move(accepted.first)};
}

// n bytes of a pattern that repeats only every 251 bytes, so a lost or repeated
// chunk shows.
inline aio::bytes pattern(std::size_t n) {
    std::string data(n, '\0');
    for (std::size_t i = 0; i < n; ++i) data[i] = static_cast<char>(i % 251);
    return aio::bytes(std::move(data));
}

}  // namespace

}  // namespace test
