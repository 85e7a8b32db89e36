// clocks.hpp - where the loop's time() comes from.
//
// The loop reads time only through its Clock. MonotonicClock is the real one
// (asyncio: time.monotonic). VirtualClock is for tests and examples: it moves only when
// told to, and the loop tells it to jump to the next timer whenever an iteration finds
// nothing to do - no callback ready, no I/O event, no work pending in another thread.
// A test of a 5-second schedule then runs in microseconds and still reports 5.00 s
// exactly, because every sleep ends precisely at its deadline (trio's MockClock with
// autojump_threshold=0 does the same).
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
    explicit VirtualClock(double start = 0.0) : now_(start) {}
    double now() override { return now_; }
    double resolution() const override { return 1e-9; }
    bool jumps_when_idle() const override { return true; }
    void jump_to(double when) override;
    // Let time pass inside a callback, e.g. to play a slow callback in a test.
    void advance(double seconds);
    const char* name() const override { return "virtual"; }

private:
    double now_;
};

// "monotonic" or "virtual"; throws aio::ValueError naming the bad value.
std::unique_ptr<Clock> make_clock(std::string_view name);
// From AIO_CLOCK, default monotonic.
std::unique_ptr<Clock> make_default_clock();

}  // namespace aio
