// misc.cpp - the small out-of-line pieces of location.hpp and log.hpp.
#include <cstdio>
#include <cstring>
#include <mutex>

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
}  // namespace

const char* to_string(LogLevel level) noexcept {
    switch (level) {
        case LogLevel::debug: return "DEBUG";
        case LogLevel::info: return "INFO";
        case LogLevel::warning: return "WARNING";
        case LogLevel::error: return "ERROR";
    }
    return "?";
}

LogSink set_log_sink(LogSink sink) {
    std::lock_guard lock(sink_mutex);
    LogSink previous = std::move(current_sink);
    current_sink = std::move(sink);
    return previous;
}

void log(LogLevel level, std::string_view message) {
    std::lock_guard lock(sink_mutex);
    if (current_sink) {
        current_sink(level, message);
        return;
    }
    std::fprintf(stderr, "%s:asyncio:%.*s\n", to_string(level), static_cast<int>(message.size()),
                 message.data());
}

}  // namespace aio
