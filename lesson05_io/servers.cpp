// servers.cpp - the Server's life: serving, closing, waiting for the last connection
// (asyncio: base_events.Server). The accept loop is accept.cpp's; creating the listening
// sockets is create_server.cpp's.
#include "lesson05_io/servers.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include "lesson01_loop/exceptions.hpp"
#include "lesson02_coroutines/exceptions.hpp"
#include "lesson02_coroutines/sleep.hpp"

namespace aio {

namespace {

// The loop's servers (weak: it keeps none alive). A server still open when its loop
// closes is kept by its connections (kept_by_clients_), and those transports no longer
// detach (the transports' own registry closes them without callbacks): without this,
// its listening sockets would stay open for good. asyncio leaves them to the GC.
class ServerRegistry final : public LoopExtension {
public:
    explicit ServerRegistry(EventLoop&) {}
    void add(std::weak_ptr<Server> server) {
        std::erase_if(servers_, [](const std::weak_ptr<Server>& s) { return s.expired(); });
        servers_.push_back(std::move(server));
    }
    void loop_closed(EventLoop&) noexcept override {
        std::vector<std::shared_ptr<Server>> alive;
        for (const std::weak_ptr<Server>& s : servers_)
            if (std::shared_ptr<Server> strong = s.lock()) alive.push_back(std::move(strong));
        servers_.clear();
        for (const std::shared_ptr<Server>& s : alive) s->loop_closed();
    }

private:
    std::vector<std::weak_ptr<Server>> servers_;
};

}  // namespace

std::shared_ptr<Server> Server::make(EventLoop& loop, std::vector<socket> sockets, Factory factory,
                                     int backlog, std::string unix_path) {
    auto server = std::make_shared<Server>(Key{}, loop, std::move(sockets), std::move(factory),
                                           backlog, std::move(unix_path));
    loop.extension<ServerRegistry>().add(server);
    return server;
}

// Its loop is closed: its fd callbacks and timers are gone, its transports have let go
// of it. What is left is closed here without the loop: the sockets, the Unix socket
// file, the keep-alive its connections held.
void Server::loop_closed() noexcept {
    closed_ = true;
    serving_ = false;
    sockets_.clear();
    retries_.clear();
    remove_unix_path();
    serving_forever_.reset();
    waiters_.clear();
    woken_ = true;
    clients_.clear();
    active_count_ = 0;
    std::shared_ptr<Server> last = std::move(kept_by_clients_);
}

Server::Server(Key, EventLoop& loop, std::vector<socket> sockets, Factory factory, int backlog,
               std::string unix_path)
    : loop_(&loop),
      factory_(std::move(factory)),
      backlog_(backlog > 0 ? backlog : 1),
      unix_path_(std::move(unix_path)),
      sockets_(std::move(sockets)) {
    // Remember which file was bound, so that close() removes this one only (asyncio
    // 3.13: the same st_ino check before its os.unlink).
    struct stat st {};
    if (!unix_path_.empty() && ::stat(unix_path_.c_str(), &st) == 0) {
        unix_dev_ = st.st_dev;
        unix_ino_ = st.st_ino;
    } else {
        unix_path_.clear();
    }
    retries_.resize(sockets_.size());
}

// Only reached once nothing serves any more: a serving server is kept alive by the
// loop's accept callbacks, an attached one by its transports. What is left to do is to
// close the sockets (their destructors) and remove the Unix socket file.
Server::~Server() {
    if (!closed_) remove_unix_path();
}

// asyncio: Server._start_serving. listen() here, not at creation: a server made with
// start_serving=false refuses connections until it starts.
void Server::start_listening() {
    if (closed_) throw RuntimeError("server " + repr() + " is closed");
    if (serving_) return;
    serving_ = true;
    for (std::size_t i = 0; i < sockets_.size(); ++i) {
        sockets_[i].listen(backlog_);
        watch(i);
    }
}

Coro<void> Server::start_serving() {
    std::shared_ptr<Server> self = shared_from_this();
    start_listening();
    // asyncio: "Skip one loop iteration so that all 'loop.add_reader' go through."
    co_await sleep(0);
}

Coro<void> Server::serve_forever() {
    std::shared_ptr<Server> self = shared_from_this();  // the server outlives the wait
    if (serving_forever_)
        throw RuntimeError("server " + repr() + " is already being awaited on serve_forever()");
    if (closed_) throw RuntimeError("server " + repr() + " is closed");
    start_listening();
    Future<void> forever = loop_->create_future<void>();
    serving_forever_ = forever;
    try {
        co_await forever;
    } catch (const CancelledError&) {
        // asyncio 3.11: close() then wait_closed(), which returns at once there once
        // closed. Waiting for the clients (3.12.1+) would keep a cancelled task waiting
        // on peers it does not control; aexit() and wait_closed() still wait for them.
        serving_forever_.reset();
        close();
        throw;
    }
    serving_forever_.reset();  // not reached: the future is only ever cancelled
}

// asyncio: Server.close. The listening sockets leave the loop and are closed here; the
// accepted connections are the transports' and go on.
void Server::close() {
    if (closed_) return;
    std::shared_ptr<Server> self = shared_from_this();  // removing a reader may drop the
                                                        // loop's last reference
    closed_ = true;
    std::vector<socket> sockets = std::move(sockets_);
    sockets_.clear();
    for (socket& sock : sockets)
        if (!loop_->is_closed()) loop_->remove_reader(sock.fileno());
    for (TimerHandle& retry : retries_) retry.cancel();
    retries_.clear();
    serving_ = false;
    remove_unix_path();
    if (serving_forever_ && !serving_forever_->done()) serving_forever_->cancel();
    serving_forever_.reset();
    if (active_count_ == 0) wakeup();
}  // the listening sockets close here

void Server::remove_unix_path() noexcept {
    if (unix_path_.empty()) return;
    struct stat st {};
    if (::stat(unix_path_.c_str(), &st) == 0 && st.st_dev == unix_dev_ && st.st_ino == unix_ino_)
        ::unlink(unix_path_.c_str());
    unix_path_.clear();
}

// asyncio 3.12.1: Server.wait_closed. `woken_` is asyncio's `self._waiters is None`: set
// once the server is closed and the last connection has detached.
Coro<void> Server::wait_closed() {
    std::shared_ptr<Server> self = shared_from_this();
    if (woken_) co_return;
    Future<void> waiter = loop_->create_future<void>();
    waiters_.push_back(waiter);
    co_await waiter;
}

// asyncio: Server._wakeup.
void Server::wakeup() {
    woken_ = true;
    std::vector<Future<void>> waiters = std::move(waiters_);
    waiters_.clear();
    for (Future<void>& waiter : waiters)
        if (!waiter.done()) waiter.set_result();
}

// asyncio 3.13: Server.close_clients / abort_clients. A copy first: closing a
// transport may detach it (and others) while the loop runs.
void Server::close_clients() {
    std::vector<std::shared_ptr<Transport>> clients;
    for (auto& [raw, weak] : clients_)
        if (std::shared_ptr<Transport> t = weak.lock()) clients.push_back(std::move(t));
    for (auto& t : clients) t->close();
}

void Server::abort_clients() {
    std::vector<std::shared_ptr<Transport>> clients;
    for (auto& [raw, weak] : clients_)
        if (std::shared_ptr<Transport> t = weak.lock()) clients.push_back(std::move(t));
    for (auto& t : clients) t->abort();
}

Coro<void> Server::aenter() { co_return; }

// asyncio: AbstractServer.__aexit__ (events.py): close(), then await wait_closed().
Coro<void> Server::aexit(std::exception_ptr) {
    std::shared_ptr<Server> self = shared_from_this();
    close();
    co_await wait_closed();
}

// asyncio: Server._attach. The first connection keeps the server alive until the last
// one detaches (asyncio's transports hold their server).
void Server::attach(const std::shared_ptr<Transport>& transport) {
    clients_.emplace(transport.get(), transport);
    if (active_count_++ == 0) kept_by_clients_ = shared_from_this();
}

// asyncio: Server._detach. The last connection of a closed server wakes wait_closed().
void Server::detach(Transport& transport) {
    clients_.erase(&transport);
    if (active_count_ == 0) return;
    if (--active_count_ > 0) return;
    if (closed_) wakeup();
    std::shared_ptr<Server> last = std::move(kept_by_clients_);
}  // `last` may free the server here, after its last use

std::string Server::repr() const {
    std::string out = "<Server sockets=(";
    for (const socket& sock : sockets_) {
        std::string text = sock.repr();  // <socket.socket fd=6, ...>
        out += "<asyncio.TransportSocket " + text.substr(text.find(' ') + 1) + ", ";
    }
    if (!sockets_.empty()) out.erase(out.size() - 1);  // Python's 1-tuple keeps its comma
    if (sockets_.size() > 1) out.erase(out.size() - 1);
    return out + ")>";
}

}  // namespace aio
