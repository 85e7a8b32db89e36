// interpreter.hpp - runs a scenario on this library and returns its event trace.
//
// The C++ twin of reference.py, which runs the same scenario under CPython's asyncio;
// differential.py compares the two traces line by line. Each task of the scenario is
// a coroutine (Run::task_body) that walks its op list, and every op does what the
// Python op_* method of the same name does, in the same order, recording the same
// lines: that is the whole contract, so read the two side by side.
//
// One Run is one scenario on a fresh aio::EventLoop with an aio::VirtualClock: run to
// idle (a far timer, the horizon, stops the loop), cancel what is still pending and
// run to idle again (twice at most), record each task's final state, close the loop.
#pragma once

#include <exception>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "lesson01_loop/event_loop.hpp"
#include "lesson03_tasks/taskgroups.hpp"
#include "lesson03_tasks/tasks.hpp"
#include "lesson04_sync/locks.hpp"
#include "lesson04_sync/queues.hpp"
#include "tests/stress/differential/scenario.hpp"

namespace stress {

// What the `raise` op throws (Python: class Boom(Exception)).
class Boom : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// "Boom('e1')", "CancelledError('m2')", "TimeoutError", "ExceptionGroup([...])": the
// same text reference.py's describe() gives for the Python exception.
std::string describe(const std::exception_ptr& error);

// One running task body: its name, what it returns, the TaskGroup `spawn` uses.
struct Frame {
    std::string name;
    int result;  // what a body that does not `return` gives: its task's number
    bool returning = false;
    aio::TaskGroup* group = nullptr;
};

class Run {
public:
    explicit Run(const Scenario& scenario);
    ~Run();
    Run(const Run&) = delete;
    Run& operator=(const Run&) = delete;

    // Runs the scenario; the trace, one event a line.
    std::vector<std::string> run();

private:
    // An op's coroutine gets the op by pointer: a coroutine's parameters are taken by
    // value or by pointer (lesson 2's coroutines.hpp), and the op stays in scenario_.
    using OpFn = aio::Coro<void> (Run::*)(const Op*, Frame&);
    static const std::map<std::string, OpFn>& ops();

    void record(const std::string& who, const std::string& text);
    void until_idle();
    void cleanup_round();
    void record_final_states();
    void close();
    static std::string state_of(aio::Task<int>& task);

    aio::Task<int> spawn(const std::string& name, aio::TaskGroup* group);
    std::vector<aio::Task<int>> spawn_all(const std::vector<std::string>& names);
    aio::Coro<int> task_body(std::string name);
    aio::Coro<void> run_ops(const std::vector<Op>* ops, Frame& frame);
    aio::Coro<void> settle(Frame& frame, std::string what, aio::Coro<std::string> work);
    std::string cancel(const std::string& name, const std::string& message);

    // ops: tasks and time
    aio::Coro<void> op_spawn(const Op* op, Frame& frame);
    aio::Coro<void> op_sleep(const Op* op, Frame& frame);
    aio::Coro<void> op_cancel(const Op* op, Frame& frame);
    aio::Coro<void> op_later(const Op* op, Frame& frame);
    aio::Coro<void> op_uncancel(const Op* op, Frame& frame);
    aio::Coro<void> op_await(const Op* op, Frame& frame);
    aio::Coro<void> op_raise(const Op* op, Frame& frame);
    aio::Coro<void> op_return(const Op* op, Frame& frame);
    aio::Coro<void> op_gather(const Op* op, Frame& frame);
    aio::Coro<void> op_wait_for(const Op* op, Frame& frame);
    aio::Coro<void> op_wait_for_coro(const Op* op, Frame& frame);
    aio::Coro<void> op_shield(const Op* op, Frame& frame);
    aio::Coro<void> op_wait(const Op* op, Frame& frame);
    // ops: blocks
    aio::Coro<void> op_try(const Op* op, Frame& frame);
    aio::Coro<void> op_timeout(const Op* op, Frame& frame);
    aio::Coro<void> op_taskgroup(const Op* op, Frame& frame);
    aio::Coro<void> op_with(const Op* op, Frame& frame);
    // ops: Condition (inside `with C0`)
    aio::Coro<void> op_cwait(const Op* op, Frame& frame);
    aio::Coro<void> op_notify(const Op* op, Frame& frame);
    aio::Coro<void> op_notify_all(const Op* op, Frame& frame);
    // ops: Event and Queue
    aio::Coro<void> op_ewait(const Op* op, Frame& frame);
    aio::Coro<void> op_eset(const Op* op, Frame& frame);
    aio::Coro<void> op_eclear(const Op* op, Frame& frame);
    aio::Coro<void> op_put(const Op* op, Frame& frame);
    aio::Coro<void> op_get(const Op* op, Frame& frame);
    aio::Coro<void> op_put_nowait(const Op* op, Frame& frame);
    aio::Coro<void> op_get_nowait(const Op* op, Frame& frame);

    const Scenario& scenario_;
    // The objects outlive the loop (declared first): a closing loop's frames release them.
    aio::Lock lock_;
    aio::Event event_;
    aio::Condition condition_;
    aio::Semaphore semaphore_;
    aio::Queue<int> queue_;
    std::unique_ptr<aio::EventLoop> loop_;
    std::map<int, aio::Task<int>> tasks_;  // by task number, so in name order
    std::vector<std::string> trace_;
    bool recording_ = true;
};

}  // namespace stress
