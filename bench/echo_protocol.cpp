// echo_protocol.cpp - lesson 5's echo benchmark server, on a Protocol: asyncio's
// EchoServerProtocol (protocols.hpp's example), data_received writes the bytes back.
// No coroutine per connection, no reader buffer: the transport's recv() hands a bytes
// object to data_received, which gives the same object to write(), whose send() takes it
// whole when nothing is buffered.
//
// usage: echo_protocol PORT
//   Serves 127.0.0.1:PORT (backlog 1024, as every peer) until killed.
//
// asyncio's version: bench/peers/echo/echo_server.py PORT protocol.
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <utility>

#include "lesson01_loop/events.hpp"
#include "lesson03_tasks/runners.hpp"
#include "lesson05_io/protocols.hpp"
#include "lesson05_io/servers.hpp"
#include "lesson05_io/transports.hpp"

namespace {

class EchoProtocol : public aio::Protocol {
public:
    void connection_made(std::shared_ptr<aio::Transport> transport) override {
        transport_ = std::move(transport);
    }
    void data_received(aio::bytes data) override { transport_->write(std::move(data)); }
    // Drop the transport: the transport <-> protocol cycle ends here (as asyncio's GC).
    void connection_lost(std::exception_ptr) override { transport_.reset(); }

private:
    std::shared_ptr<aio::Transport> transport_;
};

aio::Coro<void> amain(int port) {
    aio::EventLoop& loop = aio::get_running_loop();
    auto factory = [] { return std::make_shared<EchoProtocol>(); };
    std::shared_ptr<aio::Server> server =
        co_await loop.create_server(factory, "127.0.0.1", port, 1024);
    co_await server->serve_forever();
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 2 || std::atoi(argv[1]) <= 0) {
        std::fprintf(stderr, "usage: echo_protocol PORT\n");
        return 2;
    }
    aio::run(amain(std::atoi(argv[1])));
}
