// selector_epoll.cpp - the epoll(7) selector, Linux's default
// (asyncio: selectors.EpollSelector).
//
// The kernel keeps the interest list, so select() costs O(ready fds), not O(watched).
// Used level-triggered, like asyncio: an fd that still has data is reported again.
//
// Closing an fd removes it from the interest list by itself (if it was not dup'ed), so
// remove() ignores ENOENT/EBADF, and modify() of an fd number that was closed and
// reopened falls back to EPOLL_CTL_ADD.
#if defined(__linux__)
#include <sys/epoll.h>
#include <unistd.h>

#include <cerrno>

#include "lesson01_loop/exceptions.hpp"
#include "lesson01_loop/selectors.hpp"

namespace aio {

namespace {

unsigned to_epoll_events(unsigned events) {
    unsigned mask = 0;
    if (events & EVENT_READ) mask |= EPOLLIN;
    if (events & EVENT_WRITE) mask |= EPOLLOUT;
    return mask;
}

class EpollSelector final : public Selector {
public:
    EpollSelector() : epfd_(::epoll_create1(EPOLL_CLOEXEC)) {
        if (epfd_ < 0) throw OSError("epoll_create1", errno);
    }
    ~EpollSelector() override { ::close(epfd_); }

    void add(int fd, unsigned events) override {
        if (ctl(EPOLL_CTL_ADD, fd, events) == 0) return;
        if (errno == EEXIST && ctl(EPOLL_CTL_MOD, fd, events) == 0) return;
        throw OSError("epoll_ctl(ADD)", errno);
    }

    void modify(int fd, unsigned events) override {
        if (ctl(EPOLL_CTL_MOD, fd, events) == 0) return;
        if (errno == ENOENT && ctl(EPOLL_CTL_ADD, fd, events) == 0) return;
        throw OSError("epoll_ctl(MOD)", errno);
    }

    void remove(int fd) override {
        if (ctl(EPOLL_CTL_DEL, fd, 0) == 0) return;
        if (errno == ENOENT || errno == EBADF) return;  // closed while registered
        throw OSError("epoll_ctl(DEL)", errno);
    }

    void select(double timeout, std::vector<SelectorEvent>& out) override {
        int n = ::epoll_wait(epfd_, events_, max_events, timeout_to_ms(timeout));
        if (n < 0) {
            if (errno == EINTR) return;
            throw OSError("epoll_wait", errno);
        }
        for (int i = 0; i < n; ++i) {
            unsigned ev = events_[i].events;
            // Errors and hang-ups wake both directions, as in Python's EpollSelector;
            // the loop ignores a direction it has no callback for.
            unsigned events = 0;
            if (ev & ~static_cast<unsigned>(EPOLLIN)) events |= EVENT_WRITE;
            if (ev & ~static_cast<unsigned>(EPOLLOUT)) events |= EVENT_READ;
            int fd = events_[i].data.fd;
            out.push_back(SelectorEvent{fd, events});
        }
    }

    const char* name() const override { return "epoll"; }

private:
    static constexpr int max_events = 256;

    int ctl(int op, int fd, unsigned events) {
        epoll_event ev{};
        ev.events = to_epoll_events(events);
        ev.data.fd = fd;
        return ::epoll_ctl(epfd_, op, fd, &ev);
    }

    int epfd_;
    epoll_event events_[max_events];
};

}  // namespace

std::unique_ptr<Selector> make_epoll_selector() { return std::make_unique<EpollSelector>(); }

}  // namespace aio
#endif
