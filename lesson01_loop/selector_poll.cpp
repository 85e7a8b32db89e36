// selector_poll.cpp - the poll(2) selector (asyncio: selectors.PollSelector).
//
// The plainest of the three: every select() hands the kernel the whole array of
// watched fds, and the kernel scans it. That makes each call O(number of fds), which
// is why epoll and kqueue exist, but it is easy to read and works everywhere.
//
// Invariant: fds_[index_of_[fd]].fd == fd for every watched fd; removal moves the last
// pollfd into the hole, so the array stays dense.
#include <poll.h>

#include <cerrno>
#include <unordered_map>

#include "lesson01_loop/exceptions.hpp"
#include "lesson01_loop/selectors.hpp"

namespace aio {

namespace {

short to_poll_events(unsigned events) {
    short mask = 0;
    if (events & EVENT_READ) mask |= POLLIN;
    if (events & EVENT_WRITE) mask |= POLLOUT;
    return mask;
}

class PollSelector final : public Selector {
public:
    void add(int fd, unsigned events) override {
        if (fd < 0) throw OSError("poll selector: add", EBADF);
        if (index_of_.count(fd)) return modify(fd, events);
        index_of_[fd] = fds_.size();
        fds_.push_back(pollfd{fd, to_poll_events(events), 0});
        masks_.push_back(events);
    }

    void modify(int fd, unsigned events) override {
        auto it = index_of_.find(fd);
        if (it == index_of_.end()) return add(fd, events);
        fds_[it->second].events = to_poll_events(events);
        masks_[it->second] = events;
    }

    void remove(int fd) override {
        auto it = index_of_.find(fd);
        if (it == index_of_.end()) return;
        std::size_t hole = it->second;
        index_of_.erase(it);
        if (hole != fds_.size() - 1) {
            fds_[hole] = fds_.back();
            masks_[hole] = masks_.back();
            index_of_[fds_[hole].fd] = hole;
        }
        fds_.pop_back();
        masks_.pop_back();
    }

    void select(double timeout, std::vector<SelectorEvent>& out) override {
        int n = ::poll(fds_.data(), fds_.size(), timeout_to_ms(timeout));
        if (n < 0) {
            if (errno == EINTR) return;
            throw OSError("poll", errno);
        }
        for (std::size_t i = 0; i < fds_.size() && n > 0; ++i) {
            short revents = fds_[i].revents;
            if (revents == 0) continue;
            --n;
            // Like Python's selectors: anything but POLLIN (HUP, ERR, NVAL) wakes the
            // writer and anything but POLLOUT wakes the reader, so whoever is waiting
            // finds out about the error by trying the I/O.
            unsigned events = 0;
            if (revents & ~POLLIN) events |= EVENT_WRITE;
            if (revents & ~POLLOUT) events |= EVENT_READ;
            events &= masks_[i];
            if (events) out.push_back(SelectorEvent{fds_[i].fd, events});
        }
    }

    const char* name() const override { return "poll"; }

private:
    std::vector<pollfd> fds_;
    std::vector<unsigned> masks_;  // parallel to fds_
    std::unordered_map<int, std::size_t> index_of_;
};

}  // namespace

std::unique_ptr<Selector> make_poll_selector() { return std::make_unique<PollSelector>(); }

}  // namespace aio
