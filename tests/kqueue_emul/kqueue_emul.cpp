// kqueue_emul.cpp - a kqueue(2) test double, Linux only, so that the selector macOS and
// the BSDs use (lesson01_loop/selector_kqueue.cpp) is compiled and runs the lesson suite
// here too. It is an emulation, not a port: a table of registered (fd, filter) pairs per
// kqueue, and a wait is one ppoll(2) over their fds. What it does:
//   kqueue()   a real fd (an eventfd nobody writes), so close() works on it; its number
//              keys the table. A number handed out again resets a stale entry.
//   changes    EV_ADD (adds, or replaces udata) and EV_DELETE, for EVFILT_READ and
//              EVFILT_WRITE on fds. Errors as the BSDs report them: an EV_ERROR entry
//              (errno in data) while the event list has room, and then the remaining
//              changes are still applied; else -1 and errno. ENOENT: no such filter;
//              EBADF: not an open fd; EINVAL: a filter or flags not emulated.
//   waiting    level-triggered readiness; EV_EOF on hang-up; data = bytes readable
//              (FIONREAD, 0 where it does not answer) for EVFILT_READ, 0 for
//              EVFILT_WRITE; udata as registered. A null timeout waits forever.
//   closing    the kernel drops an fd's filters when it is closed. close() cannot be
//              hooked, so each kevent() call forgets the filters of fds that are no
//              longer open (F_GETFD fails) or that poll reports as POLLNVAL.
// What it does not do: EV_CLEAR, EV_ONESHOT, EV_ENABLE/EV_DISABLE, EV_RECEIPT, other
// filters (timers, signals, processes, vnodes), fflags, a pollable kqueue fd. An fd closed
// and reopened between two calls keeps its filters (the kernel would have dropped them),
// and changes made while another thread waits on the same kqueue count from its next
// call. One mutex guards the table.
#include <sys/event.h>

#if !defined(__linux__)
#error "kqueue_emul.cpp is a Linux test double; elsewhere use the system's kqueue"
#endif

#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>

#include <cerrno>
#include <climits>
#include <map>
#include <mutex>
#include <utility>
#include <vector>

namespace {

using Key = std::pair<uintptr_t, int16_t>;  // (fd, filter)

struct Queue {
    std::map<Key, void*> filters;  // registered filters -> their udata
};

std::mutex registry_mutex;
std::map<int, Queue> registry;  // kqueue fd -> its queue; guarded by registry_mutex

bool is_open(uintptr_t ident) {
    return ident <= INT_MAX && ::fcntl(static_cast<int>(ident), F_GETFD) != -1;
}

int fail(int err) {
    errno = err;
    return -1;
}

// The queue of kq, or null if kq is not an open kqueue (a stale entry is dropped).
Queue* find_queue(int kq) {
    auto it = registry.find(kq);
    if (it == registry.end()) return nullptr;
    if (::fcntl(kq, F_GETFD) == -1) {
        registry.erase(it);
        return nullptr;
    }
    return &it->second;
}

// The kernel's "closing an fd removes its filters", applied late.
void forget_closed_fds(Queue& q) {
    std::erase_if(q.filters, [](const auto& entry) { return !is_open(entry.first.first); });
}

void forget_fd(Queue& q, uintptr_t ident) {
    q.filters.erase(Key{ident, EVFILT_READ});
    q.filters.erase(Key{ident, EVFILT_WRITE});
}

// Applies one change; returns 0 or the errno value the kernel would give.
int apply_change(Queue& q, const struct kevent& change) {
    if (change.filter != EVFILT_READ && change.filter != EVFILT_WRITE) return EINVAL;
    if (!is_open(change.ident)) return EBADF;
    Key key{change.ident, change.filter};
    switch (change.flags) {
        case EV_ADD: q.filters[key] = change.udata; return 0;
        case EV_DELETE: return q.filters.erase(key) ? 0 : ENOENT;
        default: return EINVAL;  // no action, or flags not emulated
    }
}

// What each filter asks poll for, and which of poll's answers make it ready or EOF.
struct FilterPoll {
    short request, ready, eof;
};
constexpr FilterPoll read_poll{POLLIN | POLLRDHUP, POLLIN | POLLRDHUP | POLLHUP | POLLERR,
                               POLLRDHUP | POLLHUP};
constexpr FilterPoll write_poll{POLLOUT, POLLOUT | POLLHUP | POLLERR, POLLHUP | POLLERR};

const FilterPoll& poll_of(int16_t filter) { return filter == EVFILT_READ ? read_poll : write_poll; }

intptr_t bytes_readable(int fd) {
    int n = 0;
    return ::ioctl(fd, FIONREAD, &n) == 0 ? n : 0;
}

}  // namespace

int kqueue(void) {
    int fd = ::eventfd(0, 0);
    if (fd < 0) return -1;
    std::lock_guard lock(registry_mutex);
    registry[fd] = Queue{};  // resets the entry of a closed kqueue that had this number
    return fd;
}

int kevent(int kq, const struct kevent* changelist, int nchanges, struct kevent* eventlist,
           int nevents, const struct timespec* timeout) {
    if (nchanges < 0 || nevents < 0) return fail(EINVAL);
    std::vector<pollfd> fds;  // one per watched fd, for the wait
    {
        std::lock_guard lock(registry_mutex);
        Queue* q = find_queue(kq);
        if (!q) return fail(EBADF);
        forget_closed_fds(*q);

        int nerrors = 0;
        for (int i = 0; i < nchanges; ++i) {
            struct kevent change = changelist[i];  // the lists may be the same array
            int err = apply_change(*q, change);
            if (err == 0) continue;
            if (nerrors == nevents) return fail(err);  // no room: the rest is not applied
            change.flags = EV_ERROR;
            change.data = err;
            eventlist[nerrors++] = change;
        }
        if (nerrors > 0) return nerrors;  // as on FreeBSD: errors come back without a wait
        if (nevents == 0) return 0;

        for (const auto& [key, udata] : q->filters) {
            int fd = static_cast<int>(key.first);
            if (fds.empty() || fds.back().fd != fd) fds.push_back(pollfd{fd, 0, 0});
            fds.back().events |= poll_of(key.second).request;
        }
    }

    // The wait, without the lock, so that other threads can use other kqueues.
    if (::ppoll(fds.data(), fds.size(), timeout, nullptr) < 0) return -1;

    std::lock_guard lock(registry_mutex);
    Queue* q = find_queue(kq);
    if (!q) return fail(EBADF);
    int n = 0;
    for (const pollfd& p : fds) {
        if (p.revents == 0) continue;
        uintptr_t ident = static_cast<uintptr_t>(p.fd);
        if (p.revents & POLLNVAL) {  // closed during the wait
            forget_fd(*q, ident);
            continue;
        }
        for (int16_t filter : {int16_t{EVFILT_READ}, int16_t{EVFILT_WRITE}}) {
            auto it = q->filters.find(Key{ident, filter});  // deleted during the wait?
            const FilterPoll& fp = poll_of(filter);
            if (it == q->filters.end() || !(p.revents & fp.ready) || n == nevents) continue;
            uint16_t flags = (p.revents & fp.eof) ? EV_EOF : 0;
            intptr_t data = filter == EVFILT_READ ? bytes_readable(p.fd) : 0;
            EV_SET(&eventlist[n++], ident, filter, flags, 0, data, it->second);
        }
    }
    return n;
}
