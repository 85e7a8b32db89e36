// exceptions.hpp - the errors lesson 4 adds (asyncio: exceptions.py's BrokenBarrierError,
// queues.py's QueueEmpty/QueueFull/QueueShutDown). Python's ValueError is lesson 1's.
//
// None of them is thrown on an ordinary path: a get() that has to wait waits, a lock
// handed over is handed over. They report misuse (releasing a semaphore too often), a
// question answered "no" by a *_nowait call, or a queue or barrier that was shut down.
// They print as Python prints them (lesson 1's PythonException): the queue errors carry
// no message, as asyncio raises them bare (repr QueueEmpty(), a traceback's last line
// asyncio.queues.QueueEmpty); their type says it all.
#pragma once

#include <stdexcept>
#include <string>
#include <typeinfo>

#include "lesson01_loop/exceptions.hpp"

namespace aio {

// asyncio: exceptions.BrokenBarrierError, a RuntimeError: the barrier was reset or
// aborted while (or before) this task waited at it.
class BrokenBarrierError : public RuntimeError {
public:
    using RuntimeError::RuntimeError;
    Name python_name() const noexcept override {
        return {"asyncio.exceptions.BrokenBarrierError", typeid(BrokenBarrierError)};
    }
};

// asyncio: queues.QueueEmpty. get_nowait() on an empty queue.
class QueueEmpty : public std::runtime_error, public PythonException {
public:
    QueueEmpty() : std::runtime_error("") {}
    Name python_name() const noexcept override {
        return {"asyncio.queues.QueueEmpty", typeid(QueueEmpty)};
    }
};

// asyncio: queues.QueueFull. put_nowait() on a full queue.
class QueueFull : public std::runtime_error, public PythonException {
public:
    QueueFull() : std::runtime_error("") {}
    Name python_name() const noexcept override {
        return {"asyncio.queues.QueueFull", typeid(QueueFull)};
    }
};

// asyncio 3.13: queues.QueueShutDown. A put after shutdown(), or a get after shutdown()
// once the queue is empty (at once after shutdown(immediate=true)).
class QueueShutDown : public std::runtime_error, public PythonException {
public:
    QueueShutDown() : std::runtime_error("") {}
    Name python_name() const noexcept override {
        return {"asyncio.queues.QueueShutDown", typeid(QueueShutDown)};
    }
};

}  // namespace aio
