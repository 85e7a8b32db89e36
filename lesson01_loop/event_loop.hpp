// event_loop.hpp - the reactor (asyncio: base_events.BaseEventLoop and
// selector_events.BaseSelectorEventLoop).
//
// An EventLoop owns three queues of work and turns them, one iteration at a time:
//   ready    callbacks to run in the next iteration, FIFO        (ready_queue.hpp)
//   timers   callbacks to run at a time on the loop's clock       (timers.hpp)
//   fds      callbacks to run when a file descriptor is ready     (selectors.hpp)
// run_once() is one iteration, written as the numbered phases drawn in this lesson's
// README; run_forever() repeats it until stop().
//
// Threads: an EventLoop belongs to the thread that runs it. Only call_soon_threadsafe
// may be called from elsewhere; in debug mode the other scheduling calls check this.
//
// Lifetime: a HandleRef/TimerHandle must not outlive the loop that issued it.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "lesson01_loop/clocks.hpp"
#include "lesson01_loop/exception_context.hpp"
#include "lesson01_loop/handles.hpp"
#include "lesson01_loop/location.hpp"
#include "lesson01_loop/ready_queue.hpp"
#include "lesson01_loop/selectors.hpp"
#include "lesson01_loop/timers.hpp"
#include "lesson01_loop/waker.hpp"

namespace aio {

class EventLoop;

// Per-loop state that a later lesson attaches to the loop (see EventLoop::extension).
// asyncio keeps such state as loop attributes (_default_executor) or in module dicts
// keyed by loop (tasks._all_tasks). close() calls loop_closing while the loop can still
// take callbacks, then empties its queues, then calls loop_closed.
class LoopExtension {
public:
    virtual ~LoopExtension() = default;
    virtual void loop_closing(EventLoop&) noexcept {}
    virtual void loop_closed(EventLoop&) noexcept {}
};

namespace detail {
std::size_t new_extension_slot() noexcept;
// A process-wide serial number per loop, never reused (see EventLoop::id).
inline std::uint64_t new_loop_id() noexcept {
    static std::atomic<std::uint64_t> last{0};
    return last.fetch_add(1, std::memory_order_relaxed) + 1;
}
template <class E>
inline const std::size_t extension_slot = new_extension_slot();
// How EventLoop::extension makes a loop's E the first time it is asked for.
using ExtensionMaker = std::unique_ptr<LoopExtension> (*)(EventLoop&);
template <class E>
std::unique_ptr<LoopExtension> make_extension(EventLoop& loop) {
    return std::make_unique<E>(loop);
}
}  // namespace detail

using ExceptionHandler = std::function<void(EventLoop&, const ExceptionContext&)>;

class EventLoop {
public:
    // Null arguments mean "the default": AIO_SELECTOR / AIO_CLOCK, else epoll (Linux)
    // or kqueue (BSD/macOS) and the monotonic clock. AIO_DEBUG=1 turns debug mode on.
    explicit EventLoop(std::unique_ptr<Selector> selector = nullptr,
                       std::unique_ptr<Clock> clock = nullptr);
    ~EventLoop();
    EventLoop(const EventLoop&) = delete;
    EventLoop& operator=(const EventLoop&) = delete;

    // ---- scheduling callbacks (asyncio: call_soon, call_later, call_at) ----------
    template <class F>
    HandleRef call_soon(F&& callback, Location where = Location::current());
    template <class F>
    TimerHandle call_later(double delay, F&& callback, Location where = Location::current());
    template <class F>
    TimerHandle call_at(double when, F&& callback, Location where = Location::current());
    // The one method any thread may call. Wakes the loop if it is blocked in select().
    template <class F>
    HandleRef call_soon_threadsafe(F&& callback, Location where = Location::current());
    // Queue a handle the caller owns (an embedded one, e.g. a Task's step): the
    // allocation-free form of call_soon that lessons 2 and 3 use for every wake-up.
    void schedule(Handle& handle);
    // The timer form of schedule(): park a handle the caller owns in the timer heap, to
    // join the ready queue at `when` on the loop's clock, in deadline order with the
    // call_at timers (FIFO among equal deadlines). Lesson 2's sleep parks a task's
    // step here: no timer handle, no future. Precondition: not parked, not queued.
    void schedule_at(Handle& handle, double when);
    // Takes a parked handle back out before it is due; its owner may then go at once
    // (the heap no longer reaches it). False if it was not parked.
    bool unschedule(Handle& handle) noexcept;
    // asyncio: base_events.MAXIMUM_SELECT_TIMEOUT. The longest wait for a timer.
    static constexpr double maximum_select_timeout = 24 * 3600;
    // asyncio: BaseEventLoop.time. The loop's clock, in seconds.
    double time() { return clock_->now(); }

    // ---- watching file descriptors (asyncio: add_reader, remove_reader, ...) -----
    // The callback runs every iteration in which fd is readable/writable, until
    // removed. Adding again replaces (and cancels) the previous callback.
    template <class F>
    void add_reader(int fd, F&& callback, Location where = Location::current());
    template <class F>
    void add_writer(int fd, F&& callback, Location where = Location::current());
    // True if a callback was registered (and is now cancelled).
    bool remove_reader(int fd);
    bool remove_writer(int fd);

    // ---- running and stopping ----------------------------------------------------
    void run_forever();
    // One iteration: the six phases in the README. Public so that tests and the
    // lesson's demo can turn the loop by hand.
    void run_once();
    // Finish the current iteration, then return from run_forever. Called before
    // run_forever, it makes run_forever do exactly one iteration.
    void stop() noexcept { stopping_ = true; }
    // Lesson 1 has no futures: lesson 2 teaches this call what to run by defining
    // run_until_complete(EventLoop&, awaitable) next to its Future and coroutine types.
    // Refuses a closed or running loop first, as asyncio does: a refused coroutine is
    // never scheduled, and stays with the caller (these checks come before anything
    // takes it: aio_run_until_complete's parameter is made only after them).
    template <class Awaitable>
    decltype(auto) run_until_complete(Awaitable&& awaitable) {
        check_closed();
        check_not_running();
        return aio_run_until_complete(*this, std::forward<Awaitable>(awaitable));
    }

    // ---- methods whose types come in later lessons ------------------------------
    // asyncio's loop has create_future, create_task, run_in_executor... but a Future
    // is lesson 2's and a Task lesson 3's. Like run_until_complete above, each member
    // forwards to aio_NAME(loop, ...), which the lesson that has the types defines;
    // the call is found by argument-dependent lookup when the member is used, so a
    // program that calls loop.create_task(...) has included lesson 3 already.
    // asyncio: loop.create_future() -> Future<T> (lesson02_coroutines/futures.hpp).
    template <class T = void>
    auto create_future() {
        return aio_create_future(*this, std::type_identity<T>{});
    }
    // asyncio: loop.create_task(coro, name=...) -> Task (lesson03_tasks/tasks.hpp).
    template <class Awaitable>
    auto create_task(Awaitable&& coro, std::string_view name = {}) {
        return aio_create_task(*this, std::forward<Awaitable>(coro), name);
    }
    // asyncio: loop.run_in_executor(executor, func, *args) -> Future; executor may be
    // nullptr (the default one), as None is (lesson03_tasks/threads.hpp).
    template <class Executor, class F, class... Args>
    auto run_in_executor(Executor&& executor, F&& fn, Args&&... args) {
        return aio_run_in_executor(*this, std::forward<Executor>(executor), std::forward<F>(fn),
                                   std::forward<Args>(args)...);
    }
    // asyncio: loop.set_default_executor(executor) (lesson03_tasks/threads.hpp).
    template <class Executor>
    void set_default_executor(Executor executor) {
        aio_set_default_executor(*this, std::move(executor));
    }
    // asyncio: await loop.shutdown_default_executor() (lesson03_tasks/threads.hpp).
    // `Self` is only there to make the call depend on a template parameter, so that
    // it is looked up where it is used, not here, where lesson 3 is unknown.
    template <class Self = EventLoop>
    auto shutdown_default_executor(std::optional<double> timeout = std::nullopt) {
        return aio_shutdown_default_executor(static_cast<Self&>(*this), timeout);
    }

    // asyncio: loop.set_task_factory(factory) / loop.get_task_factory(); factory(loop,
    // coro) makes create_task's tasks, nullptr restores the default (lesson03 tasks.hpp).
    template <class Factory>
    void set_task_factory(Factory factory) {
        aio_set_task_factory(*this, std::move(factory));
    }
    template <class Self = EventLoop>
    auto get_task_factory() {
        return aio_get_task_factory(static_cast<Self&>(*this));
    }

    // asyncio: await loop.sock_recv(sock, n), sock_recv_into, sock_sendall, sock_connect,
    // sock_accept, sock_recvfrom, sock_sendto (lesson05_io/sock_ops.hpp). The socket's
    // type makes each call depend on lesson 5's, and names the address type, so that
    // `loop.sock_connect(sock, {"127.0.0.1", 8888})` takes a braced address.
    template <class Socket>
    auto sock_recv(Socket& sock, std::size_t n) {
        return aio_sock_recv(*this, sock, n);
    }
    template <class Socket, class Buffer>
    auto sock_recv_into(Socket& sock, Buffer& buf) {
        return aio_sock_recv_into(*this, sock, buf);
    }
    template <class Socket, class Data>
    auto sock_sendall(Socket& sock, Data data) {
        return aio_sock_sendall(*this, sock, std::move(data));
    }
    template <class Socket>
    auto sock_connect(Socket& sock, typename Socket::address_type address) {
        return aio_sock_connect(*this, sock, std::move(address));
    }
    template <class Socket>
    auto sock_accept(Socket& sock) {
        return aio_sock_accept(*this, sock);
    }
    template <class Socket>
    auto sock_recvfrom(Socket& sock, std::size_t bufsize) {
        return aio_sock_recvfrom(*this, sock, bufsize);
    }
    template <class Socket, class Data>
    auto sock_sendto(Socket& sock, Data data, typename Socket::address_type address) {
        return aio_sock_sendto(*this, sock, std::move(data), std::move(address));
    }
    // asyncio: await loop.getaddrinfo(host, port, ...) / loop.getnameinfo(address)
    // (lesson05_io/resolver.hpp).
    template <class Self = EventLoop>
    auto getaddrinfo(std::string host, int port, int family = 0, int type = 0, int proto = 0,
                     int flags = 0) {
        return aio_getaddrinfo(static_cast<Self&>(*this), std::move(host), port, family, type,
                               proto, flags);
    }
    template <class Address>
    auto getnameinfo(Address address, int flags = 0) {
        return aio_getnameinfo(*this, std::move(address), flags);
    }

    // asyncio: await loop.create_connection(factory, host, port, family, proto, flags,
    // local_addr) or (factory, sock); create_unix_connection(factory, path | sock);
    // connect_accepted_socket(factory, sock); create_datagram_endpoint(factory,
    // local_addr, remote_addr, family, proto, flags) or (factory, sock). Each gives
    // (transport, protocol) (lesson05_io/base_events.hpp). The arguments are passed on
    // as they are, so an address is written aio::Address{"127.0.0.1", 9999}.
    template <class Factory, class... Args>
    auto create_connection(Factory factory, Args&&... args) {
        return aio_create_connection(*this, std::move(factory), std::forward<Args>(args)...);
    }
    template <class Factory, class... Args>
    auto create_unix_connection(Factory factory, Args&&... args) {
        return aio_create_unix_connection(*this, std::move(factory), std::forward<Args>(args)...);
    }
    template <class Factory, class Socket>
    auto connect_accepted_socket(Factory factory, Socket sock) {
        return aio_connect_accepted_socket(*this, std::move(factory), std::move(sock));
    }
    template <class Factory, class... Args>
    auto create_datagram_endpoint(Factory factory, Args&&... args) {
        return aio_create_datagram_endpoint(*this, std::move(factory), std::forward<Args>(args)...);
    }

    // asyncio: await loop.connect_read_pipe(factory, pipe) / connect_write_pipe(factory,
    // pipe) -> (transport, protocol); pipe is an int fd or a socket, adopted by the
    // transport (lesson05_io/unix_events.hpp).
    template <class Factory, class Pipe>
    auto connect_read_pipe(Factory factory, Pipe pipe) {
        return aio_connect_read_pipe(*this, std::move(factory), std::move(pipe));
    }
    template <class Factory, class Pipe>
    auto connect_write_pipe(Factory factory, Pipe pipe) {
        return aio_connect_write_pipe(*this, std::move(factory), std::move(pipe));
    }

    // asyncio: await loop.create_server(protocol_factory, host, port, backlog=100,
    // reuse_address=True, start_serving=True) -> Server; create_server(factory, sock)
    // for a socket the caller bound; create_unix_server(factory, path)
    // (lesson05_io/servers.hpp). The factory's type makes the call depend on lesson 5.
    template <class Factory>
    auto create_server(Factory factory, std::string host, int port, int backlog = 100,
                       bool reuse_address = true, bool start_serving = true) {
        return aio_create_server(*this, std::move(factory), std::move(host), port, backlog,
                                 reuse_address, start_serving);
    }
    template <class Factory, class Socket>
    requires requires(Socket& s) { s.fileno(); }
    auto create_server(Factory factory, Socket sock, int backlog = 100, bool start_serving = true) {
        return aio_create_server(*this, std::move(factory), std::move(sock), backlog,
                                 start_serving);
    }
    template <class Factory>
    auto create_unix_server(Factory factory, std::string path, int backlog = 100,
                            bool start_serving = true) {
        return aio_create_unix_server(*this, std::move(factory), std::move(path), backlog,
                                      start_serving);
    }

    // asyncio: await loop.subprocess_exec(factory, program, *args, options) and
    // subprocess_shell(factory, cmd, options) -> (transport, protocol): a child
    // process as a SubprocessTransport, every stdio a PIPE unless the options say
    // otherwise (lesson05_io/base_subprocess.hpp).
    template <class Factory, class... Args>
    auto subprocess_exec(Factory factory, Args&&... args) {
        return aio_subprocess_exec(*this, std::move(factory), std::forward<Args>(args)...);
    }
    template <class Factory, class... Args>
    auto subprocess_shell(Factory factory, Args&&... args) {
        return aio_subprocess_shell(*this, std::move(factory), std::forward<Args>(args)...);
    }

    // asyncio: loop.add_signal_handler(sig, callback, *args) / remove_signal_handler(sig)
    // (lesson05_io/unix_signals.hpp): callback(args...) runs as a loop callback each
    // time sig arrives; remove gives whether one was removed, and restores SIG_DFL.
    template <class F, class... Args>
    void add_signal_handler(int sig, F callback, Args... args) {
        aio_add_signal_handler(*this, sig, std::move(callback), std::move(args)...);
    }
    template <class Self = EventLoop>
    bool remove_signal_handler(int sig) {
        return aio_remove_signal_handler(static_cast<Self&>(*this), sig);
    }

    // Drops every pending callback and releases the loop's fds. Idempotent; throws
    // if the loop is running. A closed loop refuses new work.
    void close();
    bool is_running() const noexcept { return running_; }
    bool is_closed() const noexcept { return closed_.load(std::memory_order_relaxed); }

    // ---- errors ------------------------------------------------------------------
    // asyncio: call_exception_handler. Calls the custom handler if set, else the
    // default; a handler that throws is reported by the default one, never thrown.
    void call_exception_handler(const ExceptionContext& context) noexcept;
    void set_exception_handler(ExceptionHandler handler) { handler_ = std::move(handler); }
    const ExceptionHandler& get_exception_handler() const noexcept { return handler_; }
    // asyncio: default_exception_handler. Logs at ERROR the message, then every other
    // key sorted ("handle: <Handle ...>", "task: <Task ...>"), then the exception.
    void default_exception_handler(const ExceptionContext& context);

    // ---- debug mode (asyncio: set_debug, slow_callback_duration) -----------------
    void set_debug(bool enabled) noexcept { debug_.store(enabled, std::memory_order_relaxed); }
    bool get_debug() const noexcept { return debug_.load(std::memory_order_relaxed); }
    double slow_callback_duration = 0.1;  // seconds; debug mode logs longer callbacks

    // ---- introspection -----------------------------------------------------------
    // This loop's identity, never reused by a later loop, even one built at the same
    // address (lesson 4's primitives remember their loop by it). 1, 2, 3, ...
    std::uint64_t id() const noexcept { return id_; }
    Clock& clock() noexcept { return *clock_; }
    const char* selector_name() const noexcept { return selector_name_; }
    std::uint64_t iterations() const noexcept { return iterations_; }
    std::size_t ready_count() const noexcept { return ready_.size(); }
    std::size_t timer_count() const noexcept { return timers_.size(); }

    // ---- hook for lesson 3's thread pool -----------------------------------------
    // Work running elsewhere that will report back with call_soon_threadsafe. While
    // any is pending, a virtual clock does not jump ahead: the loop waits for it in
    // real time, and the clock counts the wait (clocks.hpp, rule 2).
    void add_external_work() noexcept { external_work_.fetch_add(1); }
    void finish_external_work() noexcept { external_work_.fetch_sub(1); }

    // ---- hook for lessons 2 and 3: state kept per loop -------------------------------
    // The loop's one E, made on first use by E(EventLoop&). Lesson 2 keeps its pending
    // coroutine drivers here, lesson 3 its default executor. An array index, not a map.
    template <class E>
    E& extension();

private:
    friend class CallbackHandle;
    friend class RunningScope;
    struct FdCallbacks {
        CallbackHandle* reader = nullptr;
        CallbackHandle* writer = nullptr;
    };

    // One iteration: run_once and run_forever call it inside a RunningScope.
    void iteration();
    // Callbacks are ready, and neither a timer nor an fd can add any: phases 1, 2, 3
    // and 5 would find nothing (no timer, a timeout of 0, no user fd: no system call).
    bool only_ready_work() const noexcept {
        return !ready_.empty() && timers_.empty() && user_fds_ == 0;
    }
    // Phases of an iteration, in order.
    void drop_cancelled_timers();
    double compute_timeout();
    void poll_for_io(double timeout);
    void poll_virtual(double timeout);
    void wait_at_real_speed(double timeout);
    void select(double timeout);
    bool idle() const noexcept;
    void dispatch_io();
    void take_threadsafe_callbacks();
    void move_due_timers();
    void run_ready(std::size_t ntodo);
    void run_ready_counted(std::size_t ntodo);  // run_ready on a virtual clock
    void run_callbacks(std::size_t ntodo);
    void run_handle(Handle& h);
    void call_handle(Handle& h);       // run_handle's part: run it, report what it throws
    void run_handle_timed(Handle& h);  // run_handle in debug mode: warns if it was slow
    void callback_failed(Handle& h);   // reports the exception being handled

    CallbackHandle* acquire(Location where);  // a pooled handle, ready for emplace()
    void grow_pool();                         // one more handle on the free list
    template <class F>
    CallbackHandle* make_handle(F&& callback, Location where);  // acquire + emplace
    void release(CallbackHandle* h) noexcept;                   // back to the pool
    void discard(Handle* h) noexcept;  // a handle dropped from a queue: release if pooled
    // The ready queue holds both kinds: null for an embedded handle (its owner's).
    static CallbackHandle* pooled(Handle* h) noexcept {
        return h->pooled_ ? static_cast<CallbackHandle*>(h) : nullptr;
    }
    void push_ready(Handle* h);
    void push_timer(CallbackHandle* h, double when);
    void timer_cancelled() noexcept;           // a timer in the heap was cancelled
    void release_compacted() noexcept;         // the timers a compaction removed
    void adopt_threadsafe(CallbackHandle* h);  // takes h (deletes it if closed, and throws)
    void add_fd_callback(int fd, unsigned event, CallbackHandle* h);
    bool remove_fd_callback(int fd, unsigned event);
    void update_selector(int fd, unsigned old_mask, unsigned new_mask);
    void drop_fd_handle(CallbackHandle* h) noexcept;
    void drop_everything() noexcept;  // close(): cancel and release all handles

    // Out of line, the first time a loop is asked for its E: extension() stays small
    // enough to inline where every task's creation and end look up lesson 2's list.
    LoopExtension& add_extension(std::size_t slot, detail::ExtensionMaker make);

    // Inline, as schedule() runs it on every wake-up; the throw is out of line.
    void check_closed() const {
        if (closed_.load(std::memory_order_relaxed)) [[unlikely]]
            throw_closed();
    }
    [[noreturn]] static void throw_closed();
    void check_thread() const;
    void check_not_running() const;

    // Fixed after construction.
    const std::uint64_t id_ = detail::new_loop_id();
    std::unique_ptr<Selector> selector_;
    std::unique_ptr<Clock> clock_;
    std::unique_ptr<Waker> waker_;
    double clock_resolution_;
    const char* selector_name_;
    bool virtual_clock_;  // the clock jumps when idle (clocks.hpp's rules)

    // Loop thread only.
    ReadyQueue ready_;
    TimerHeap timers_;
    std::vector<CallbackHandle*> free_;                  // pooled handles not in use
    std::vector<std::unique_ptr<CallbackHandle>> pool_;  // every pooled handle ever made
    std::vector<FdCallbacks> fds_;                       // indexed by fd
    std::size_t user_fds_ = 0;                           // fds with a callback (waker excluded)
    std::vector<SelectorEvent> events_;                  // reused by every select()
    std::vector<CallbackHandle*> scratch_;               // reused by timer compaction
    std::vector<std::unique_ptr<LoopExtension>> extensions_;  // by detail::extension_slot
    ExceptionHandler handler_;
    std::uint64_t iterations_ = 0;
    bool stopping_ = false;
    bool running_ = false;

    // Read by other threads (misuse checks), so atomic; relaxed loads cost nothing.
    std::atomic<std::thread::id> thread_id_{};  // the running thread, else none
    std::atomic<bool> closed_{false};
    std::atomic<bool> debug_{false};

    // Shared with other threads.
    std::mutex threadsafe_mutex_;
    std::vector<CallbackHandle*> threadsafe_;  // guarded by threadsafe_mutex_
    std::atomic<bool> threadsafe_pending_{false};
    std::atomic<int> external_work_{0};
};

// ---- inline implementation -------------------------------------------------------

// Inline: every wake-up of a task (schedule) and every call_soon ends here.
inline void EventLoop::push_ready(Handle* h) {
    if (h->queued_) return;  // already due to run once in this iteration
    ready_.push(h);          // may throw (the ring could not grow): then not queued
    h->queued_ = true;
}

// ---- template implementation -----------------------------------------------------

template <class E>
E& EventLoop::extension() {
    std::size_t slot = detail::extension_slot<E>;
    if (slot < extensions_.size() && extensions_[slot]) [[likely]]
        return static_cast<E&>(*extensions_[slot]);
    return static_cast<E&>(add_extension(slot, &detail::make_extension<E>));
}

template <class F>
CallbackHandle* EventLoop::make_handle(F&& callback, Location where) {
    CallbackHandle* h = acquire(where);
    try {
        h->emplace(std::forward<F>(callback));
    } catch (...) {  // copying the callable threw: the handle goes back unused
        release(h);
        throw;
    }
    return h;
}

template <class F>
HandleRef EventLoop::call_soon(F&& callback, Location where) {
    check_closed();
    check_thread();
    CallbackHandle* h = make_handle(std::forward<F>(callback), where);
    push_ready(h);
    return HandleRef(h);
}

template <class F>
TimerHandle EventLoop::call_later(double delay, F&& callback, Location where) {
    return call_at(time() + delay, std::forward<F>(callback), where);
}

template <class F>
TimerHandle EventLoop::call_at(double when, F&& callback, Location where) {
    check_closed();
    check_thread();
    CallbackHandle* h = make_handle(std::forward<F>(callback), where);
    push_timer(h, when);
    return TimerHandle(h);
}

template <class F>
HandleRef EventLoop::call_soon_threadsafe(F&& callback, Location where) {
    check_closed();
    // Not from the pool (that is the loop thread's); the loop adopts it into the pool.
    auto h = std::make_unique<CallbackHandle>();
    h->where_ = where;
    h->loop_ = this;
    h->emplace(std::forward<F>(callback));
    HandleRef ref(h.get());  // now: once adopted, the loop may run and recycle it at any moment
    adopt_threadsafe(h.release());
    return ref;
}

template <class F>
void EventLoop::add_reader(int fd, F&& callback, Location where) {
    check_closed();
    check_thread();
    CallbackHandle* h = make_handle(std::forward<F>(callback), where);
    add_fd_callback(fd, EVENT_READ, h);
}

template <class F>
void EventLoop::add_writer(int fd, F&& callback, Location where) {
    check_closed();
    check_thread();
    CallbackHandle* h = make_handle(std::forward<F>(callback), where);
    add_fd_callback(fd, EVENT_WRITE, h);
}

}  // namespace aio
