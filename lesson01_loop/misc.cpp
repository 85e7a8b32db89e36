// misc.cpp - the small out-of-line pieces of location.hpp and log.hpp.
#include <strings.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <mutex>
#include <stdexcept>
#include <string>

#include "lesson01_loop/exceptions.hpp"
#include "lesson01_loop/location.hpp"
#include "lesson01_loop/log.hpp"

namespace aio {

const char* Location::basename() const noexcept {
    const char* slash = std::strrchr(file, '/');
    return slash ? slash + 1 : file;
}

namespace {
// The sink is shared by every loop and thread; a mutex keeps lines whole.
std::mutex sink_mutex;
LogSink current_sink;
// The threshold as an int, -1 until set or read from AIO_LOG_LEVEL.
std::atomic<int> threshold{-1};

constexpr const char* level_names[] = {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"};

// The threshold without throwing: a bad AIO_LOG_LEVEL means WARNING here (the loop's
// constructor calls get_log_level, which reports it).
LogLevel threshold_or_warning() noexcept {
    int t = threshold.load(std::memory_order_relaxed);
    if (t >= 0) return static_cast<LogLevel>(t);
    try {
        return get_log_level();
    } catch (...) {
        return LogLevel::warning;
    }
}
}  // namespace

const char* to_string(LogLevel level) noexcept {
    auto i = static_cast<std::size_t>(level);
    return i < std::size(level_names) ? level_names[i] : "?";
}

LogLevel log_level_from_string(std::string_view name) {
    for (std::size_t i = 0; i < std::size(level_names); ++i)
        if (name.size() == std::strlen(level_names[i]) &&
            strncasecmp(name.data(), level_names[i], name.size()) == 0)
            return static_cast<LogLevel>(i);
    throw ValueError("unknown log level '" + std::string(name) +
                     "' (AIO_LOG_LEVEL must be DEBUG, INFO, WARNING, ERROR or CRITICAL)");
}

LogLevel set_log_level(LogLevel level) noexcept {
    int previous = threshold.exchange(static_cast<int>(level));
    return previous >= 0 ? static_cast<LogLevel>(previous) : LogLevel::warning;
}

// Python's root logger starts at WARNING; AIO_LOG_LEVEL stands in for basicConfig(level=).
LogLevel get_log_level() {
    int t = threshold.load(std::memory_order_relaxed);
    if (t >= 0) return static_cast<LogLevel>(t);
    const char* env = std::getenv("AIO_LOG_LEVEL");
    LogLevel level = env && *env ? log_level_from_string(env) : LogLevel::warning;
    int unset = -1;  // a set_log_level meanwhile wins
    threshold.compare_exchange_strong(unset, static_cast<int>(level));
    return static_cast<LogLevel>(threshold.load());
}

void reset_log_level() noexcept { threshold.store(-1); }

bool log_enabled(LogLevel level) { return level >= threshold_or_warning(); }

LogSink set_log_sink(LogSink sink) {
    std::lock_guard lock(sink_mutex);
    LogSink previous = std::move(current_sink);
    current_sink = std::move(sink);
    return previous;
}

void log(LogLevel level, std::string_view message) {
    if (level < threshold_or_warning()) return;
    std::lock_guard lock(sink_mutex);
    if (current_sink) {
        current_sink(level, message);
        return;
    }
    std::fprintf(stderr, "%s:asyncio:%.*s\n", to_string(level), static_cast<int>(message.size()),
                 message.data());
}

}  // namespace aio
