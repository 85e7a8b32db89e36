// helpers.hpp - what several lesson-3 test files share, beside lesson 1's helpers.
#pragma once

#include <condition_variable>
#include <cstdio>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "../lesson01_loop/helpers.hpp"
#include "lesson01_loop/events.hpp"
#include "lesson03_tasks/tasks.hpp"

namespace test {

// The running loop's time, for traces: "1", "2.5".
inline std::string now() {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", aio::get_running_loop().time());
    return buf;
}

// Awaits a task from a coroutine of its own (to run it under outcome() and the like).
template <class T>
aio::Coro<T> await_task(aio::Task<T> t) {
    co_return co_await t;
}

// One thread waits at the gate until another opens it.
class Gate {
public:
    void open() {
        std::lock_guard lock(mutex_);
        open_ = true;
        opened_.notify_all();
    }
    void wait() {
        std::unique_lock lock(mutex_);
        opened_.wait(lock, [this] { return open_; });
    }

private:
    std::mutex mutex_;
    std::condition_variable opened_;
    bool open_ = false;
};

// A loop (virtual clock) running forever on its own thread until the destructor stops it.
class LoopThread {
public:
    LoopThread() : loop_(virtual_loop()), thread_([this] { loop_->run_forever(); }) {}
    ~LoopThread() {
        loop_->call_soon_threadsafe([this] { loop_->stop(); });
        thread_.join();
        loop_->close();
    }
    aio::EventLoop& loop() { return *loop_; }

private:
    std::unique_ptr<aio::EventLoop> loop_;
    std::thread thread_;
};

}  // namespace test
