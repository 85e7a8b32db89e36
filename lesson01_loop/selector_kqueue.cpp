// selector_kqueue.cpp - the kqueue(2) selector, the macOS/BSD default
// (asyncio: selectors.KqueueSelector).
//
// Like epoll, the kernel keeps the interest list, so select() costs O(ready fds). But
// kqueue watches (fd, filter) pairs rather than fds: reading and writing are two filters,
// EVFILT_READ and EVFILT_WRITE, each added or deleted on its own. So we remember per fd
// which filters are registered, and add/modify/remove become a changelist of EV_ADDs and
// EV_DELETEs submitted in one kevent() call.
//
// Closing an fd removes its filters by itself, so remove() ignores ENOENT/EBADF, and
// modify() sends EV_ADD for every wanted filter (re-adding one is harmless), which
// re-registers an fd number that was closed and reopened. Filters are level-triggered
// unless added with EV_CLEAR, which we do not: an fd that still has data is reported
// again. EV_EOF (the other end hung up) and EV_ERROR only wake the filter's direction;
// the callback finds out what happened by trying the I/O.
#include <fcntl.h>
#include <sys/event.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <unordered_map>

#include "lesson01_loop/exceptions.hpp"
#include "lesson01_loop/selectors.hpp"

namespace aio {

namespace {

constexpr unsigned directions[] = {EVENT_READ, EVENT_WRITE};

int filter_of(unsigned direction) { return direction == EVENT_READ ? EVFILT_READ : EVFILT_WRITE; }

unsigned direction_of(int filter) {
    if (filter == EVFILT_READ) return EVENT_READ;
    if (filter == EVFILT_WRITE) return EVENT_WRITE;
    return 0;
}

class KqueueSelector final : public Selector {
public:
    KqueueSelector() : kq_(::kqueue()) {
        if (kq_ < 0) throw OSError("kqueue", errno);
        ::fcntl(kq_, F_SETFD, FD_CLOEXEC);  // kqueue() has no close-on-exec flag of its own
    }
    ~KqueueSelector() override { ::close(kq_); }

    void add(int fd, unsigned events) override { update(fd, events); }
    void modify(int fd, unsigned events) override { update(fd, events); }
    void remove(int fd) override {
        if (filters_.count(fd)) update(fd, 0);
    }

    void select(double timeout, std::vector<SelectorEvent>& out) override {
        // Whole milliseconds rounded up, as the other selectors wait, so that a wait
        // never ends before the timer it was computed for. Null waits forever.
        timespec ts{};
        const timespec* wait = nullptr;
        if (timeout >= 0) {
            int ms = timeout_to_ms(timeout);
            ts.tv_sec = ms / 1000;
            ts.tv_nsec = static_cast<long>(ms % 1000) * 1000000L;
            wait = &ts;
        }
        int n = ::kevent(kq_, nullptr, 0, events_, max_events, wait);
        if (n < 0) {
            if (errno == EINTR) return;
            throw OSError("kevent", errno);
        }
        // One entry per filter: an fd ready both ways comes twice, once per direction.
        // EV_EOF or EV_ERROR in flags still just wakes the filter's direction.
        for (int i = 0; i < n; ++i) {
            unsigned events = direction_of(events_[i].filter);
            if (events) out.push_back(SelectorEvent{static_cast<int>(events_[i].ident), events});
        }
    }

    const char* name() const override { return "kqueue"; }

private:
    static constexpr int max_events = 256;

    // Makes the kernel watch fd for exactly `want` (0: not at all).
    void update(int fd, unsigned want) {
        auto it = filters_.find(fd);
        unsigned had = it == filters_.end() ? 0 : it->second;
        struct kevent changes[2];
        int n = 0;
        for (unsigned dir : directions) {
            if (want & dir)
                EV_SET(&changes[n++], fd, filter_of(dir), EV_ADD, 0, 0, 0);
            else if (had & dir)
                EV_SET(&changes[n++], fd, filter_of(dir), EV_DELETE, 0, 0, 0);
        }
        if (n == 0) return;

        // With room in the event list for one entry per change, a failing change comes
        // back as an EV_ERROR entry (errno in data) instead of ending the call, so every
        // change is tried. Ready events that may follow are dropped: level-triggered,
        // select() reports them again.
        struct kevent results[2];
        timespec zero{};
        int r = ::kevent(kq_, changes, n, results, n, &zero);
        if (r < 0) throw OSError("kevent", errno);
        int add_error = 0, delete_error = 0;
        for (int i = 0; i < r; ++i) {
            const struct kevent& res = results[i];
            if (!(res.flags & EV_ERROR) || res.data == 0) continue;
            if (res.ident != static_cast<uintptr_t>(fd)) continue;
            int err = static_cast<int>(res.data);
            if (want & direction_of(res.filter))
                add_error = err;
            else if (err != ENOENT && err != EBADF)  // closed while registered: already gone
                delete_error = err;
        }

        if (add_error) {
            // Leave no half registration behind (say READ added, WRITE refused): a
            // level-triggered filter without a callback would wake every select().
            EV_SET(&changes[0], fd, EVFILT_READ, EV_DELETE, 0, 0, 0);
            EV_SET(&changes[1], fd, EVFILT_WRITE, EV_DELETE, 0, 0, 0);
            ::kevent(kq_, changes, 2, results, 2, &zero);
            filters_.erase(fd);
            throw OSError("kevent(EV_ADD)", add_error);
        }
        if (want)
            filters_[fd] = want;
        else
            filters_.erase(fd);
        if (delete_error) throw OSError("kevent(EV_DELETE)", delete_error);
    }

    int kq_;
    std::unordered_map<int, unsigned> filters_;  // fd -> EVENT_READ|EVENT_WRITE registered
    struct kevent events_[max_events];
};

}  // namespace

std::unique_ptr<Selector> make_kqueue_selector() { return std::make_unique<KqueueSelector>(); }

}  // namespace aio
