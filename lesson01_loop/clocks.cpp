// clocks.cpp - see clocks.hpp.
#include "lesson01_loop/clocks.hpp"

#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <ctime>
#include <stdexcept>
#include <string>

#include "lesson01_loop/exceptions.hpp"

namespace aio {

namespace {
double seconds_of(clockid_t id) noexcept {
    timespec ts;
    clock_gettime(id, &ts);  // a vDSO call, ~24 ns (coarse: ~5 ns): read only when needed
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// Every virtual clock's moves, in whole nanoseconds so that sums are exact.
std::atomic<std::int64_t> virtual_total_ns{0};
std::int64_t to_ns(double seconds) noexcept { return std::llround(seconds * 1e9); }
// The virtual clock whose loop is running callbacks on this thread, if any.
thread_local const VirtualClock* clock_in_callbacks = nullptr;
}  // namespace

double MonotonicClock::now() { return seconds_of(CLOCK_MONOTONIC); }

double MonotonicClock::resolution() const {
    timespec ts;
    clock_getres(CLOCK_MONOTONIC, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

double detail::monotonic_seconds() noexcept { return seconds_of(CLOCK_MONOTONIC); }

double detail::coarse_seconds() noexcept {
#ifdef CLOCK_MONOTONIC_COARSE
    return seconds_of(CLOCK_MONOTONIC_COARSE);
#else
    return seconds_of(CLOCK_MONOTONIC);
#endif
}

void VirtualClock::jump_to(double when) { move_to(when); }

void VirtualClock::move_to(double when) {
    if (!(when > now_)) return;  // time never runs backwards
    virtual_total_ns.fetch_add(to_ns(when) - to_ns(now_), std::memory_order_relaxed);
    now_ = when;
}

void VirtualClock::callbacks_begin() {
    callbacks_start_ = detail::coarse_seconds();
    clock_in_callbacks = this;
}

void VirtualClock::callbacks_end() {
    double took = blocked();
    callbacks_start_ = -1;
    clock_in_callbacks = nullptr;
    count_real(took);
}

double VirtualClock::blocked() const noexcept {
    if (callbacks_start_ < 0) return 0;
    double took = detail::coarse_seconds() - callbacks_start_;
    return took > blocking_threshold ? took : 0;
}

void VirtualClock::advance(double seconds) {
    if (seconds < 0) throw ValueError("VirtualClock::advance: negative duration");
    move_to(now_ + seconds);
}

std::unique_ptr<Clock> make_clock(std::string_view name) {
    if (name == "monotonic" || name.empty()) return std::make_unique<MonotonicClock>();
    if (name == "virtual") return std::make_unique<VirtualClock>();
    throw ValueError("unknown clock '" + std::string(name) +
                     "' (AIO_CLOCK must be 'monotonic' or 'virtual')");
}

std::unique_ptr<Clock> make_default_clock() {
    const char* env = std::getenv("AIO_CLOCK");
    return make_clock(env ? env : "");
}

double virtual_seconds() noexcept {
    return static_cast<double>(virtual_total_ns.load(std::memory_order_relaxed)) * 1e-9;
}

double perf_counter() {
    const char* env = std::getenv("AIO_CLOCK");
    if (env && std::string_view(env) == "virtual")
        return virtual_seconds() + (clock_in_callbacks ? clock_in_callbacks->blocked() : 0);
    return seconds_of(CLOCK_MONOTONIC);
}

}  // namespace aio
