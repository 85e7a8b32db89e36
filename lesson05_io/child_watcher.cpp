// child_watcher.cpp - the pidfd and the thread child watchers (asyncio 3.12:
// unix_events.PidfdChildWatcher, ThreadedChildWatcher), kept per loop in a
// LoopExtension that kills and reaps what is left when the loop closes.
#include "lesson05_io/child_watcher.hpp"

#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <thread>
#include <utility>

namespace aio::detail {

namespace {

// glibc 2.36 has pidfd_open(); older ones do not, so the system call is made directly.
// The fd is close-on-exec always (pidfd_open sets O_CLOEXEC itself).
int pidfd_open(int pid) noexcept {
#ifdef SYS_pidfd_open
    return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
#else
    (void)pid;
    errno = ENOSYS;
    return -1;
#endif
}

// waitpid, again after EINTR. -1 with errno otherwise.
int waitpid_retry(int pid, int* status, int options) noexcept {
    int r;
    do r = ::waitpid(pid, status, options);
    while (r < 0 && errno == EINTR);
    return r;
}

// One watched child.
struct Watch {
    int pid = 0;
    std::function<void(int)> on_exit;
    int pidfd = -1;      // the pidfd watcher's fd; -1 for the thread watcher
    std::thread thread;  // the thread watcher's thread; joined on the loop thread
};

class ChildWatchers final : public LoopExtension {
public:
    explicit ChildWatchers(EventLoop& loop) : loop_(&loop) {}
    ChildWatcherKind add(int pid, std::function<void(int)> on_exit);
    std::size_t size() const noexcept { return watches_.size(); }
    void loop_closing(EventLoop&) noexcept override;

private:
    bool start_pidfd(const std::shared_ptr<Watch>& watch);
    void start_thread(const std::shared_ptr<Watch>& watch);
    void pidfd_ready(int pid);
    void thread_done(int pid);
    void finish(int pid, int returncode);

    EventLoop* loop_;
    std::map<int, std::shared_ptr<Watch>> watches_;  // loop thread only
};

ChildWatcherKind ChildWatchers::add(int pid, std::function<void(int)> on_exit) {
    auto watch = std::make_shared<Watch>();
    watch->pid = pid;
    watch->on_exit = std::move(on_exit);
    watches_[pid] = watch;
    loop_->add_external_work();
    if (child_watcher_kind() == ChildWatcherKind::pidfd && start_pidfd(watch))
        return ChildWatcherKind::pidfd;
    start_thread(watch);
    return ChildWatcherKind::thread;
}

// asyncio: PidfdChildWatcher.add_child_handler. False where pidfd_open fails.
bool ChildWatchers::start_pidfd(const std::shared_ptr<Watch>& watch) {
    watch->pidfd = pidfd_open(watch->pid);
    if (watch->pidfd < 0) return false;
    int pid = watch->pid;
    loop_->add_reader(watch->pidfd, [this, pid] { pidfd_ready(pid); });
    return true;
}

// asyncio: ThreadedChildWatcher._do_waitpid, in its own thread, with one change: the
// thread only waits (waitid with WNOWAIT) and the loop thread reaps. asyncio's thread
// reaps, so between its waitpid and the loop's callback the pid is free for the system
// to reuse, and a send_signal() meanwhile could hit a stranger.
void ChildWatchers::start_thread(const std::shared_ptr<Watch>& watch) {
    int pid = watch->pid;
    EventLoop* loop = loop_;
    watch->thread = std::thread([this, loop, pid] {
        siginfo_t info{};
        while (::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOWAIT) < 0 &&
               errno == EINTR) {
        }
        try {
            loop->call_soon_threadsafe([this, pid] { thread_done(pid); });
        } catch (...) {  // the loop is closed: loop_closing joins this thread anyway
        }
    });
}

// asyncio: PidfdChildWatcher._do_wait. The pidfd is readable: the child has exited.
void ChildWatchers::pidfd_ready(int pid) {
    auto it = watches_.find(pid);
    if (it == watches_.end()) return;
    Watch& w = *it->second;
    int status = 0;
    int r = waitpid_retry(pid, &status, WNOHANG);
    if (r == 0) return;  // not yet (a spurious wake-up)
    loop_->remove_reader(w.pidfd);
    ::close(w.pidfd);
    w.pidfd = -1;
    finish(pid, r > 0 ? waitstatus_to_exitcode(status) : 255);
}

// The thread watcher's report, on the loop thread: the child has exited; reap it.
void ChildWatchers::thread_done(int pid) {
    auto it = watches_.find(pid);
    if (it == watches_.end()) return;
    it->second->thread.join();
    int status = 0;
    int r = waitpid_retry(pid, &status, 0);
    finish(pid, r > 0 ? waitstatus_to_exitcode(status) : 255);
}

void ChildWatchers::finish(int pid, int returncode) {
    auto node = watches_.extract(pid);
    loop_->finish_external_work();
    std::function<void(int)> on_exit = std::move(node.mapped()->on_exit);
    on_exit(returncode);
}

// The loop closes: its transports are closed, which kills a child still running; the
// child is then reaped here at once (it cannot outlive a SIGKILL), and on_exit told, so
// that its transport knows the pid is no longer its own (and never signals it again).
void ChildWatchers::loop_closing(EventLoop& loop) noexcept {
    std::map<int, std::shared_ptr<Watch>> watches = std::move(watches_);
    watches_.clear();
    for (auto& [pid, watch] : watches) {
        ::kill(pid, SIGKILL);
        if (watch->pidfd >= 0) {
            loop.remove_reader(watch->pidfd);
            ::close(watch->pidfd);
        } else if (watch->thread.joinable()) {
            watch->thread.join();
        }
        int status = 0;
        int r = waitpid_retry(pid, &status, 0);
        loop.finish_external_work();
        try {
            watch->on_exit(r > 0 ? waitstatus_to_exitcode(status) : 255);
        } catch (...) {  // the loop is closing: nobody is left to tell
        }
    }
}

}  // namespace

ChildWatcherKind child_watcher_kind() {
    const char* name = std::getenv("AIO_CHILD_WATCHER");
    if (name != nullptr && std::strcmp(name, "thread") == 0) return ChildWatcherKind::thread;
    return ChildWatcherKind::pidfd;
}

ChildWatcherKind add_child_handler(EventLoop& loop, int pid, std::function<void(int)> on_exit) {
    return loop.extension<ChildWatchers>().add(pid, std::move(on_exit));
}

std::size_t watched_children(EventLoop& loop) { return loop.extension<ChildWatchers>().size(); }

int waitstatus_to_exitcode(int status) noexcept {
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    if (WIFSIGNALED(status)) return -WTERMSIG(status);
    return status;
}

}  // namespace aio::detail
