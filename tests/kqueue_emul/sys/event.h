// sys/event.h - the kqueue(2) API as macOS and the BSDs declare it, for the Linux test
// double in ../kqueue_emul.cpp. Only what the emulation implements is declared, so code
// that needs more (EV_CLEAR, EV_ONESHOT, EVFILT_TIMER, ...) fails to compile here rather
// than misbehave at run time.
#pragma once

#include <stdint.h>
#include <sys/types.h>
#include <time.h>

struct kevent {
    uintptr_t ident;  // the fd
    int16_t filter;   // EVFILT_READ or EVFILT_WRITE
    uint16_t flags;   // in: EV_ADD or EV_DELETE; out: EV_EOF, EV_ERROR
    uint32_t fflags;  // filter-specific flags: always 0 here
    intptr_t data;    // out: bytes readable (EVFILT_READ); with EV_ERROR, the errno value
    void* udata;      // passed in with EV_ADD, handed back with each event
};

// Filters (the values macOS and the BSDs use).
#define EVFILT_READ (-1)
#define EVFILT_WRITE (-2)

// Actions, in flags of a change.
#define EV_ADD 0x0001
#define EV_DELETE 0x0002
// Returned in flags of an event.
#define EV_ERROR 0x4000
#define EV_EOF 0x8000

#define EV_SET(kevp, a, b, c, d, e, f) \
    do {                               \
        struct kevent* kev_ = (kevp);  \
        kev_->ident = (a);             \
        kev_->filter = (b);            \
        kev_->flags = (c);             \
        kev_->fflags = (d);            \
        kev_->data = (e);              \
        kev_->udata = (f);             \
    } while (0)

#ifdef __cplusplus
extern "C" {
#endif

int kqueue(void);
int kevent(int kq, const struct kevent* changelist, int nchanges, struct kevent* eventlist,
           int nevents, const struct timespec* timeout);

#ifdef __cplusplus
}
#endif
