// selectors.hpp - "which of these file descriptors are ready?" behind one small
// interface (asyncio: the selectors module, which asyncio's loop is built on).
//
// The loop keeps the table of callbacks per fd; a selector only knows which fds to
// watch for reading and/or writing, and answers select(timeout) with the ready ones.
// Three implementations, each in its own file, all level-triggered (an fd that stays
// readable is reported again on the next select, which is what asyncio expects):
//   selector_poll.cpp    poll(2): portable, O(n) per call, the teaching baseline
//   selector_epoll.cpp   epoll(7): the Linux default, O(ready) per call
//   selector_kqueue.cpp  kqueue(2): the macOS/BSD default
// AIO_SELECTOR=poll|epoll|kqueue picks one for new_event_loop(); the default is the
// best the platform has, as asyncio's DefaultSelector.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace aio {

// asyncio: selectors.EVENT_READ / EVENT_WRITE.
enum : unsigned { EVENT_READ = 1u, EVENT_WRITE = 2u };

struct SelectorEvent {
    int fd;
    unsigned events;  // EVENT_READ | EVENT_WRITE; may name a direction not asked for
                      // (an error wakes both), so the loop checks its own table
};

class Selector {
public:
    virtual ~Selector() = default;
    // Start watching fd for `events` (non-zero). Throws aio::OSError on a bad fd.
    virtual void add(int fd, unsigned events) = 0;
    // Change what an fd already watched is watched for (non-zero).
    virtual void modify(int fd, unsigned events) = 0;
    // Stop watching. Tolerates an fd that was closed while registered: the kernel may
    // have forgotten it already (epoll, kqueue), and that is not an error.
    virtual void remove(int fd) = 0;
    // Wait at most `timeout` seconds (negative: forever; 0: just look) and append the
    // ready fds to `out`. An interrupted wait (EINTR) returns with nothing appended.
    virtual void select(double timeout, std::vector<SelectorEvent>& out) = 0;
    virtual const char* name() const = 0;
};

using SelectorFactory = std::unique_ptr<Selector> (*)();

// Built in where the platform has them; each throws aio::OSError if it cannot start.
std::unique_ptr<Selector> make_poll_selector();
std::unique_ptr<Selector> make_epoll_selector();   // Linux only
std::unique_ptr<Selector> make_kqueue_selector();  // where <sys/event.h> exists

// The selector called `name`; throws aio::ValueError naming the choices.
std::unique_ptr<Selector> make_selector(std::string_view name);
// From AIO_SELECTOR, else the platform's best.
std::unique_ptr<Selector> make_default_selector();
// Names make_selector accepts, best first.
std::vector<std::string> available_selectors();
// Adds a selector by name. The tests use this to add the kqueue selector built
// against their kqueue emulation on Linux.
void register_selector(std::string_view name, SelectorFactory factory);

// Poll timeouts in whole milliseconds, rounded up so a wait never ends before the
// deadline it was computed for (asyncio rounds the same way, or the loop would spin
// on a timer that is 0.4 ms away). Negative means forever: -1.
int timeout_to_ms(double timeout);

}  // namespace aio
