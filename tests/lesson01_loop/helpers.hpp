// helpers.hpp - what every lesson-1 test needs: a loop on the virtual clock, and a
// way to read what the library logged.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "lesson01_loop/clocks.hpp"
#include "lesson01_loop/event_loop.hpp"
#include "lesson01_loop/log.hpp"

namespace test {

// A loop with the selector named by AIO_SELECTOR (the suite runs once per selector)
// and a virtual clock starting at 0.
inline std::unique_ptr<aio::EventLoop> virtual_loop() {
    return std::make_unique<aio::EventLoop>(nullptr, std::make_unique<aio::VirtualClock>());
}

// While alive, collects every log line instead of printing it.
class LogCapture {
public:
    LogCapture() {
        previous_ = aio::set_log_sink([this](aio::LogLevel level, std::string_view message) {
            lines.push_back(std::string(aio::to_string(level)) + ": " + std::string(message));
        });
    }
    ~LogCapture() { aio::set_log_sink(std::move(previous_)); }
    LogCapture(const LogCapture&) = delete;
    LogCapture& operator=(const LogCapture&) = delete;

    bool contains(const std::string& text) const {
        for (const std::string& line : lines)
            if (line.find(text) != std::string::npos) return true;
        return false;
    }

    std::vector<std::string> lines;

private:
    aio::LogSink previous_;
};

}  // namespace test
