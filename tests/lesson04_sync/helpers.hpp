// helpers.hpp - what lesson 4's tests share: a trace, a suffix check, a way to await
// something and keep the message of the error it throws (a co_await may not appear
// inside CHECK), and run(), which turns a deadlock into a failure instead of a hang.
#pragma once

#include <doctest/doctest.h>

#include <string>
#include <utility>
#include <vector>

#include "../lesson02_coroutines/helpers.hpp"
#include "lesson01_loop/builtins.hpp"
#include "lesson01_loop/event_loop.hpp"
#include "lesson02_coroutines/coroutines.hpp"
#include "lesson03_tasks/tasks.hpp"

namespace test {

using Trace = std::vector<std::string>;

inline bool ends_with(const std::string& s, const std::string& tail) {
    return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

// loop.run_until_complete(coro), with a watchdog: if every task waits for something
// that never comes, the virtual clock jumps to the watchdog, which stops the loop, and
// run_until_complete throws RuntimeError('Event loop stopped before Future completed.').
template <class T>
T run(aio::EventLoop& loop, aio::Coro<T> coro) {
    aio::TimerHandle watchdog = loop.call_later(1e5, [&loop] { loop.stop(); });
    struct Disarm {
        aio::TimerHandle& timer;
        ~Disarm() { timer.cancel(); }
    } disarm{watchdog};
    return loop.run_until_complete(std::move(coro));
}

}  // namespace test

// A failed CHECK on a trace prints it.
template <>
struct doctest::StringMaker<std::vector<std::string>> {
    static doctest::String convert(const std::vector<std::string>& trace) {
        std::string out = "{";
        for (const std::string& line : trace) out += (out.size() > 1 ? ", \"" : "\"") + line + "\"";
        return (out + "}").c_str();
    }
};
