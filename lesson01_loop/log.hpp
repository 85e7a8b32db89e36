// log.hpp - the library's one logger, asyncio's logging.getLogger("asyncio").
//
// The loop reports through here what it cannot throw: an exception from a callback
// (via the default exception handler), a slow callback in debug mode, and in later
// lessons a coroutine never awaited or a task exception never retrieved. The default
// sink writes one line per message to stderr in the form logging.basicConfig gives
// ("ERROR:asyncio:..."); set_log_sink replaces it, which is how tests read what would
// have been printed.
//
// Levels are Python logging's, and so is the threshold: a message below it is
// dropped before any sink sees it. It starts at WARNING, as Python's root logger
// does, so debug mode's "Close epoll event loop" (DEBUG) is silent unless asked for:
//   logging.getLogger('asyncio').setLevel(logging.DEBUG)  ->  aio::set_log_level(debug)
// or AIO_LOG_LEVEL=DEBUG in the environment (read when the threshold is first needed).
#pragma once

#include <functional>
#include <string>
#include <string_view>

namespace aio {

// Python logging's levels, in order (DEBUG=10 ... CRITICAL=50).
enum class LogLevel { debug, info, warning, error, critical };

using LogSink = std::function<void(LogLevel, std::string_view message)>;

// Replaces the sink and returns the previous one; an empty sink restores stderr.
LogSink set_log_sink(LogSink sink);

// asyncio: logger.setLevel(level). Returns the previous threshold. Thread-safe.
LogLevel set_log_level(LogLevel level) noexcept;
// The threshold: AIO_LOG_LEVEL if set (and set_log_level not called), else WARNING.
// Throws aio::ValueError naming a bad AIO_LOG_LEVEL (new loops call it).
LogLevel get_log_level();
// asyncio: logger.setLevel(logging.NOTSET): back to the default, read again from
// AIO_LOG_LEVEL when next needed.
void reset_log_level() noexcept;
// asyncio: logger.isEnabledFor(level).
bool log_enabled(LogLevel level);

// Passes `message` to the sink if `level` is at or above the threshold.
void log(LogLevel level, std::string_view message);

// "DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL".
const char* to_string(LogLevel level) noexcept;
// The inverse, case-insensitive; throws aio::ValueError naming the bad name.
LogLevel log_level_from_string(std::string_view name);

}  // namespace aio
