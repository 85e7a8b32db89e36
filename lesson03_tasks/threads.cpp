// threads.cpp - see threads.hpp (asyncio: concurrent.futures.thread, and
// base_events' run_in_executor, shutdown_default_executor, close).
#include "lesson03_tasks/threads.hpp"

#include <algorithm>
#include <cstdlib>
#include <iterator>
#include <sstream>

#if defined(__linux__)
#include <pthread.h>
#endif

#include "lesson01_loop/log.hpp"

namespace aio {

// ---- ThreadPoolExecutor (asyncio: concurrent.futures.thread) -----------------------

namespace {
std::atomic<int> pool_counter{0};  // asyncio: ThreadPoolExecutor._counter

int checked_max_workers(std::optional<int> max_workers) {
    if (!max_workers) return ThreadPoolExecutor::default_max_workers();
    if (*max_workers <= 0) throw std::invalid_argument("max_workers must be greater than 0");
    return *max_workers;
}

void name_this_thread(const std::string& name) {
#if defined(__linux__)
    pthread_setname_np(pthread_self(), name.substr(0, 15).c_str());  // 16 bytes with the NUL
#else
    (void)name;
#endif
}
}  // namespace

ThreadPoolExecutor::ThreadPoolExecutor(std::optional<int> max_workers,
                                       std::string thread_name_prefix)
    : max_workers_(checked_max_workers(max_workers)),
      prefix_(thread_name_prefix.empty() ? "ThreadPoolExecutor-" + std::to_string(pool_counter++)
                                         : std::move(thread_name_prefix)) {}

ThreadPoolExecutor::~ThreadPoolExecutor() {
    try {
        shutdown(true);
    } catch (...) {  // joining failed: nothing sensible is left to do in a destructor
    }
}

int ThreadPoolExecutor::default_max_workers() noexcept {
    int cpus = static_cast<int>(std::thread::hardware_concurrency());
    return std::min(32, std::max(cpus, 1) + 4);
}

// asyncio: ThreadPoolExecutor.submit, minus the Future (the item carries its own).
void ThreadPoolExecutor::post(std::shared_ptr<WorkItem> item) {
    std::lock_guard lock(mutex_);
    if (shutdown_) throw RuntimeError("cannot schedule new futures after shutdown");
    queue_.push_back(std::move(item));
    try {
        start_thread_if_needed();
    } catch (...) {
        // No thread could be started. With none at all, the item would never run.
        if (threads_.empty()) {
            queue_.pop_back();
            throw;
        }
    }
    work_ready_.notify_one();
}

// asyncio: ThreadPoolExecutor._adjust_thread_count. A new thread only if the items
// queued outnumber the idle workers and the pool is not full. Called with mutex_ held;
// the new thread waits for that lock before it looks at the queue.
void ThreadPoolExecutor::start_thread_if_needed() {
    if (waiting_ >= queue_.size()) return;
    if (threads_.size() >= static_cast<std::size_t>(max_workers_)) return;
    std::size_t index = threads_.size();
    ++alive_;
    try {
        threads_.emplace_back([this, index] { worker(index); });
    } catch (...) {
        --alive_;
        throw;
    }
}

// asyncio: concurrent.futures.thread._worker. Take items until shut down and empty.
// The last worker out runs the shutdown_then callbacks, after letting go of the lock.
void ThreadPoolExecutor::worker(std::size_t index) {
    name_this_thread(prefix_ + "_" + std::to_string(index));
    std::unique_lock lock(mutex_);
    for (;;) {
        ++waiting_;
        work_ready_.wait(lock, [this] { return !queue_.empty() || shutdown_; });
        --waiting_;
        if (queue_.empty()) break;  // shut down, and nothing left to do
        std::shared_ptr<WorkItem> item = std::move(queue_.front());
        queue_.pop_front();
        ++running_;
        lock.unlock();
        item->run();
        item.reset();  // asyncio: `del work_item`, outside the lock
        lock.lock();
        --running_;
    }
    if (--alive_ > 0) return;
    std::vector<std::function<void()>> stopped = std::move(on_stopped_);
    on_stopped_.clear();
    lock.unlock();
    for (auto& fn : stopped) fn();
}

// asyncio: ThreadPoolExecutor.shutdown(wait, cancel_futures=...). Dropped items learn
// it through cancel(), outside the lock.
void ThreadPoolExecutor::shutdown(bool wait, bool cancel_futures) {
    std::deque<std::shared_ptr<WorkItem>> dropped;
    {
        std::lock_guard lock(mutex_);
        shutdown_ = true;
        if (cancel_futures) dropped.swap(queue_);
        work_ready_.notify_all();
    }
    for (auto& item : dropped) item->cancel();
    dropped.clear();
    if (wait) join_all();
}

void ThreadPoolExecutor::shutdown_then(std::function<void()> on_stopped) {
    shutdown(false);
    {
        std::lock_guard lock(mutex_);
        if (alive_ > 0) {
            on_stopped_.push_back(std::move(on_stopped));
            return;
        }
    }
    on_stopped();
}

// A worker that shuts its own pool down cannot join itself: it is detached instead,
// and is about to return anyway.
void ThreadPoolExecutor::join_all() {
    std::lock_guard joining(join_mutex_);
    std::vector<std::thread> threads;
    {
        std::lock_guard lock(mutex_);
        threads.swap(threads_);
    }
    for (std::thread& t : threads) {
        if (t.get_id() == std::this_thread::get_id())
            t.detach();
        else
            t.join();
    }
}

std::size_t ThreadPoolExecutor::thread_count() const {
    std::lock_guard lock(mutex_);
    return threads_.size();
}

bool ThreadPoolExecutor::is_shut_down() const {
    std::lock_guard lock(mutex_);
    return shutdown_;
}

bool ThreadPoolExecutor::idle() const {
    std::lock_guard lock(mutex_);
    return queue_.empty() && running_ == 0;
}

// ---- the way back to the loop ------------------------------------------------------

namespace detail {

bool LoopPort::deliver(std::shared_ptr<ThreadCallBase> call) noexcept {
    return call_soon_threadsafe([call = std::move(call)] { call->complete_on_loop(); });
}

void LoopPort::detach() noexcept {
    std::lock_guard lock(mutex_);
    loop_ = nullptr;
}

// The callback that deliver() queued holds a reference, so removing the loop's own
// (keep_) cannot destroy this call under our feet.
void ThreadCallBase::complete_on_loop() {
    loop_->finish_external_work();
    loop_->extension<LoopThreads>().remove(*this);
    settle();
}

// ---- per-loop state ------------------------------------------------------------------

LoopThreads::LoopThreads(EventLoop& loop) : loop_(loop), port_(std::make_shared<LoopPort>(loop)) {}

LoopThreads::~LoopThreads() {
    port_->detach();
    if (default_) release_executor(std::move(default_));
}

ThreadPoolExecutor& LoopThreads::default_executor() {
    // asyncio: BaseEventLoop._check_default_executor
    if (shutdown_called_) throw RuntimeError("Executor shutdown has been called");
    if (!default_) default_ = std::make_shared<ThreadPoolExecutor>(std::nullopt, "asyncio");
    return *default_;
}

void LoopThreads::set_default_executor(std::shared_ptr<ThreadPoolExecutor> executor) {
    if (!executor) throw std::invalid_argument("executor must be ThreadPoolExecutor instance");
    std::shared_ptr<ThreadPoolExecutor> previous = std::exchange(default_, std::move(executor));
    if (previous) release_executor(std::move(previous));
}

void LoopThreads::add(std::shared_ptr<ThreadCallBase> call) noexcept {
    ThreadCallBase* c = call.get();
    c->keep_ = std::move(call);
    c->next_ = head_;
    if (head_) head_->prev_ = c;
    head_ = c;
}

void LoopThreads::remove(ThreadCallBase& call) noexcept {
    if (!call.keep_) return;  // not tracked (or already removed)
    if (call.prev_) call.prev_->next_ = call.next_;
    if (call.next_) call.next_->prev_ = call.prev_;
    if (head_ == &call) head_ = call.next_;
    call.prev_ = call.next_ = nullptr;
    call.keep_.reset();
}

// asyncio: BaseEventLoop.close's executor.shutdown(wait=False). The port goes first:
// from then on no worker reaches this loop, and the futures can be dropped here.
void LoopThreads::loop_closing(EventLoop&) noexcept {
    port_->detach();
    while (head_) {
        std::shared_ptr<ThreadCallBase> call = head_->keep_;
        remove(*call);
        call->drop_future();
    }
    if (!default_) return;
    default_->shutdown(false);
    release_executor(std::move(default_));
}

// ---- executors that outlive their loop -------------------------------------------------

namespace {
// Busy executors nobody else holds, joined at process exit (asyncio:
// concurrent.futures.thread._python_exit). Finished ones are joined on the next adopt().
class Graveyard {
public:
    void adopt(std::shared_ptr<ThreadPoolExecutor> pool) {
        std::vector<std::shared_ptr<ThreadPoolExecutor>> finished;
        {
            std::lock_guard lock(mutex_);
            auto busy_end = std::partition(pools_.begin(), pools_.end(),
                                           [](const auto& p) { return !p->idle(); });
            finished.assign(std::make_move_iterator(busy_end),
                            std::make_move_iterator(pools_.end()));
            pools_.erase(busy_end, pools_.end());
            pools_.push_back(std::move(pool));
        }
        finished.clear();  // joins, outside the lock: their workers have nothing to do
    }
    void join_all() {
        std::vector<std::shared_ptr<ThreadPoolExecutor>> pools;
        {
            std::lock_guard lock(mutex_);
            pools.swap(pools_);
        }
        for (auto& pool : pools) pool->shutdown(true);
    }

private:
    std::mutex mutex_;
    std::vector<std::shared_ptr<ThreadPoolExecutor>> pools_;
};

// Never destroyed, so that a loop destroyed during static destruction can still use
// it; the threads are joined by an atexit handler instead.
Graveyard& graveyard() {
    static Graveyard* instance = [] {
        auto* made = new Graveyard();
        std::atexit([] { graveyard().join_all(); });
        return made;
    }();
    return *instance;
}
}  // namespace

void release_executor(std::shared_ptr<ThreadPoolExecutor> executor) noexcept {
    try {
        if (executor.use_count() == 1 && !executor->idle()) graveyard().adopt(std::move(executor));
        executor.reset();  // the last reference to an idle pool: joins at once
    } catch (...) {
    }
}

}  // namespace detail

// ---- the asyncio functions ------------------------------------------------------------

void set_default_executor(EventLoop& loop, std::shared_ptr<ThreadPoolExecutor> executor) {
    loop.extension<detail::LoopThreads>().set_default_executor(std::move(executor));
}

namespace {
// Cancels a timer on every way out of the scope.
struct CancelTimer {
    TimerHandle& timer;
    ~CancelTimer() { timer.cancel(); }
};

std::string seconds_text(double seconds) {
    std::ostringstream out;
    out << seconds;
    return out.str();
}
}  // namespace

// asyncio 3.12: BaseEventLoop.shutdown_default_executor and _do_shutdown. Instead of a
// helper thread that joins the workers, the last worker to exit reports back through
// the port; the loop thread then joins threads that are already gone.
Coro<void> shutdown_default_executor(EventLoop& loop, std::optional<double> timeout) {
    detail::LoopThreads& threads = loop.extension<detail::LoopThreads>();
    threads.mark_shutdown_called();
    std::shared_ptr<ThreadPoolExecutor> pool = threads.default_executor_if_any();
    if (!pool) co_return;
    Future<bool> joined = threads.start(threads.make_call([] { return true; }), [&](auto call) {
        pool->shutdown_then([call] { call->run(); });
    });
    TimerHandle timer;
    CancelTimer cancel_timer{timer};
    if (timeout)
        timer = loop.call_later(*timeout, [joined]() mutable {
            if (!joined.done()) joined.set_result(false);
        });
    bool finished = co_await joined;
    if (!finished) {
        log(LogLevel::warning, "The executor did not finishing joining its threads within " +
                                   seconds_text(*timeout) + " seconds.");
        co_return;
    }
    pool->shutdown(true);  // asyncio: thread.join(); the workers have exited already
}

}  // namespace aio
