// log.hpp - the library's one logger, asyncio's logging.getLogger("asyncio").
//
// The loop reports through here what it cannot throw: an exception from a callback
// (via the default exception handler), a slow callback in debug mode, and in later
// lessons a coroutine never awaited or a task exception never retrieved. The default
// sink writes one line per message to stderr; set_log_sink replaces it, which is how
// tests read what would have been printed.
#pragma once

#include <functional>
#include <string>
#include <string_view>

namespace aio {

enum class LogLevel { debug, info, warning, error };

using LogSink = std::function<void(LogLevel, std::string_view message)>;

// Replaces the sink and returns the previous one; an empty sink restores stderr.
LogSink set_log_sink(LogSink sink);

void log(LogLevel level, std::string_view message);

const char* to_string(LogLevel level) noexcept;

}  // namespace aio
