// clocks.cpp - see clocks.hpp.
#include "lesson01_loop/clocks.hpp"

#include <cstdlib>
#include <ctime>
#include <stdexcept>
#include <string>

#include "lesson01_loop/exceptions.hpp"

namespace aio {

double MonotonicClock::now() {
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);  // a vDSO call, ~24 ns: read only when needed
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

double MonotonicClock::resolution() const {
    timespec ts;
    clock_getres(CLOCK_MONOTONIC, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

void VirtualClock::jump_to(double when) {
    if (when > now_) now_ = when;  // time never runs backwards
}

void VirtualClock::advance(double seconds) {
    if (seconds < 0) throw ValueError("VirtualClock::advance: negative duration");
    now_ += seconds;
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

}  // namespace aio
