// clocks.hpp - where the loop's time() comes from.
//
// The loop reads time only through its Clock. MonotonicClock is the real one
// (asyncio: time.monotonic). VirtualClock is for tests and examples: it moves only when
// the loop moves it, and the loop does so by these rules (EventLoop::poll_for_io and
// run_ready):
//   1. Idle: when an iteration finds nothing to do (no callback ready, no I/O event,
//      no work pending in another thread), time jumps to the next timer. A test of a
//      5-second schedule then runs in microseconds and still reports 5.00 s exactly,
//      because every sleep ends precisely at its deadline (trio's MockClock with
//      autojump_threshold=0 does the same).
//   2. Waiting for another thread (EventLoop::add_external_work: lesson 3's executor,
//      to_thread): the loop waits in real time and the clock runs at real speed for
//      the wait. A wait that ends at a timer's deadline ends exactly on it; one that
//      another thread cuts short counts the real time it took. So a ticker keeps
//      ticking while to_thread blocks, and sleep(1) racing a 2-second thread wins.
//      (A wait with no timer and no such work, for an fd or a thread the loop does not
//      know of, is not counted.)
//   3. Blocking inside callbacks: once one iteration's callbacks have taken longer
//      than blocking_threshold (50 ms) of real time, e.g. in
//      std::this_thread::sleep_for(2s) in a coroutine (the tutorials' time.sleep
//      pitfall), that real time counts, from then on in time() and for good when the
//      callbacks end. Shorter spans are scheduling noise and do not count, so
//      exact-time tests stay exact: 50 ms is far above what a loaded 2-core CI machine
//      steals from a thread between two clock reads, and far below any blocking call
//      a program means.
// Otherwise the virtual clock stands still: time() inside a callback is the time the
// iteration's callbacks started at.
//
// perf_counter() is the one clock read that works before, inside and after run(), in
// both modes (asyncio programs time a run with time.perf_counter() or time.time()):
// real seconds under the monotonic clock; under AIO_CLOCK=virtual, the process-wide
// virtual time, which every VirtualClock's moves add to.
//
// AIO_CLOCK=virtual makes new_event_loop() use a VirtualClock.
#pragma once

#include <memory>
#include <string_view>

namespace aio {

class Clock {
public:
    virtual ~Clock() = default;
    virtual double now() = 0;               // seconds, monotonic
    virtual double resolution() const = 0;  // asyncio: loop._clock_resolution
    // A virtual clock may be advanced to `when` when the loop is idle; a real one never.
    virtual bool jumps_when_idle() const { return false; }
    virtual void jump_to(double /*when*/) {}
    // `seconds` of real time passed that the clock must count (rule 2 above). A real
    // clock counted them already.
    virtual void count_real(double /*seconds*/) {}
    // The loop starts and ends running an iteration's callbacks (rule 3 above).
    virtual void callbacks_begin() {}
    virtual void callbacks_end() {}
    virtual const char* name() const = 0;
};

class MonotonicClock final : public Clock {
public:
    double now() override;
    double resolution() const override;
    const char* name() const override { return "monotonic"; }
};

class VirtualClock final : public Clock {
public:
    // Rule 3's threshold, in seconds of real time per iteration.
    static constexpr double blocking_threshold = 0.05;

    explicit VirtualClock(double start = 0.0) : now_(start) {}
    double now() override { return now_ + blocked(); }
    double resolution() const override { return 1e-9; }
    bool jumps_when_idle() const override { return true; }
    void jump_to(double when) override;
    void count_real(double seconds) override { move_to(now_ + seconds); }
    void callbacks_begin() override;
    void callbacks_end() override;
    // Rule 3: the real time the running callbacks have taken, if over the threshold.
    double blocked() const noexcept;
    // Let time pass inside a callback, e.g. to play a slow callback in a test.
    void advance(double seconds);
    const char* name() const override { return "virtual"; }

private:
    void move_to(double when);  // forward only; adds to the process-wide virtual time
    double now_;
    double callbacks_start_ = -1;  // coarse real seconds while callbacks run, else -1
};

// "monotonic" or "virtual"; throws aio::ValueError naming the bad value.
std::unique_ptr<Clock> make_clock(std::string_view name);
// From AIO_CLOCK, default monotonic.
std::unique_ptr<Clock> make_default_clock();

// asyncio programs' time.perf_counter() / time.time() for timing a run: real seconds,
// or under AIO_CLOCK=virtual the sum of every virtual clock's moves so far (plus the
// blocked() time of the callbacks this thread is running). Thread-safe.
double perf_counter();
// That sum alone, whatever AIO_CLOCK says.
double virtual_seconds() noexcept;

namespace detail {
// Real monotonic seconds (rule 2 measures waits with it).
double monotonic_seconds() noexcept;
// The same from a clock that is cheap to read and coarse (a few ms on Linux:
// CLOCK_MONOTONIC_COARSE): rule 3 reads it twice an iteration.
double coarse_seconds() noexcept;
}  // namespace detail

}  // namespace aio
