// misc.cpp - the small out-of-line pieces of location.hpp, exceptions.hpp and log.hpp.
#include <cxxabi.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <typeinfo>

#include "lesson01_loop/exceptions.hpp"
#include "lesson01_loop/location.hpp"
#include "lesson01_loop/log.hpp"

namespace aio {

const char* Location::basename() const noexcept {
    const char* slash = std::strrchr(file, '/');
    return slash ? slash + 1 : file;
}

OSError::OSError(const std::string& what_call, int err)
    : std::runtime_error(what_call + ": " + std::strerror(err)), err_(err) {}

std::string describe_exception(const std::exception_ptr& error) {
    if (!error) return "";
    try {
        std::rethrow_exception(error);
    } catch (const std::exception& e) {
        int status = 0;
        char* name = abi::__cxa_demangle(typeid(e).name(), nullptr, nullptr, &status);
        std::string out = status == 0 && name ? name : typeid(e).name();
        std::free(name);
        return out + ": " + e.what();
    } catch (...) {
        return "unknown exception (not derived from std::exception)";
    }
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
