// child_watcher.hpp - knowing when a child process exits, and reaping it (asyncio:
// unix_events.PidfdChildWatcher and ThreadedChildWatcher).
//
// A child that exits stays a zombie until its parent calls waitpid(); the parent must
// also learn that it exited without blocking the loop. asyncio tried four ways over the
// years; the two left in 3.12 (which dropped the watcher classes from the API and picks
// one itself) are the two here, and neither touches SIGCHLD, whose one process-wide
// handler every library wants to own:
//
//   pidfd   pidfd_open(pid) gives an fd that turns readable when the child exits
//           (Linux 5.3+). add_reader(pidfd) -> readable -> waitpid(pid, WNOHANG) ->
//           close(pidfd) -> on_exit(returncode), all on the loop thread.
//   thread  where pidfd_open fails (ENOSYS on an old kernel, EPERM under a seccomp
//           filter) or AIO_CHILD_WATCHER=thread: a thread per child blocks in
//           waitid(pid, WNOWAIT) and reports through call_soon_threadsafe; the loop
//           joins it and reaps (waitpid) when the report runs.
//
// While a child runs the loop counts it as external work (clocks.hpp, rule 2), so a
// virtual clock runs at real speed and timestamps beside a child tell the truth.
// The loop's closing kills (SIGKILL) every child still watched and reaps it at once:
// a transport is closed with its loop (asyncio's close() kills a running child), and
// nothing is left as a zombie or a thread. Loop thread only, except the thread watcher.
#pragma once

#include <functional>

#include "lesson01_loop/event_loop.hpp"

namespace aio::detail {

// Which watcher add_child_handler uses: AIO_CHILD_WATCHER=thread picks the thread one,
// anything else (or unset) pidfd, with the thread one where pidfd_open fails.
enum class ChildWatcherKind { pidfd, thread };
ChildWatcherKind child_watcher_kind();

// asyncio: AbstractChildWatcher.add_child_handler(pid, callback). `pid` is a child of
// this process that nobody else reaps. on_exit(returncode) runs as a loop callback once
// it has exited and been reaped: its exit status, or -N for a death by signal N (Python's
// os.waitstatus_to_exitcode). 255 if someone else reaped it (asyncio's warning case).
// Returns the watcher that was used.
ChildWatcherKind add_child_handler(EventLoop& loop, int pid, std::function<void(int)> on_exit);

// How many children the loop still watches (tests: none left once all have exited).
std::size_t watched_children(EventLoop& loop);

// Python: os.waitstatus_to_exitcode(status).
int waitstatus_to_exitcode(int status) noexcept;

}  // namespace aio::detail
