// helpers.hpp - what every lesson-1 test needs: a loop on the virtual clock, and a
// way to read what the library logged.
#pragma once

#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "lesson01_loop/clocks.hpp"
#include "lesson01_loop/event_loop.hpp"
#include "lesson01_loop/log.hpp"
#include "lesson01_loop/selectors.hpp"

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

// Passes every call to the real selector and remembers the timeouts select() got.
// With wait=false it only looks (timeout 0), so a test can ask for a long wait.
class RecordingSelector final : public aio::Selector {
public:
    explicit RecordingSelector(std::vector<double>& timeouts, bool wait = true)
        : real_(aio::make_default_selector()), timeouts_(timeouts), wait_(wait) {}
    void add(int fd, unsigned events) override { real_->add(fd, events); }
    void modify(int fd, unsigned events) override { real_->modify(fd, events); }
    void remove(int fd) override { real_->remove(fd); }
    void select(double timeout, std::vector<aio::SelectorEvent>& out) override {
        timeouts_.push_back(timeout);
        real_->select(wait_ ? timeout : 0, out);
    }
    const char* name() const override { return "recording"; }

private:
    std::unique_ptr<aio::Selector> real_;
    std::vector<double>& timeouts_;
    bool wait_;
};

// Sets an environment variable while alive (AIO_CLOCK, AIO_LOG_LEVEL, ...).
class ScopedEnv {
public:
    ScopedEnv(const char* name, const char* value) : name_(name) {
        if (const char* old = std::getenv(name)) previous_ = old;
        ::setenv(name, value, 1);
    }
    ~ScopedEnv() {
        if (previous_)
            ::setenv(name_, previous_->c_str(), 1);
        else
            ::unsetenv(name_);
    }
    ScopedEnv(const ScopedEnv&) = delete;
    ScopedEnv& operator=(const ScopedEnv&) = delete;

private:
    const char* name_;
    std::optional<std::string> previous_;
};

}  // namespace test
