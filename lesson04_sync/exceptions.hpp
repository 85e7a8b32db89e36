// exceptions.hpp - the errors lesson 4 adds (asyncio: exceptions.py's BrokenBarrierError,
// queues.py's QueueEmpty/QueueFull/QueueShutDown). Python's ValueError is lesson 1's.
//
// None of them is thrown on an ordinary path: a get() that has to wait waits, a lock
// handed over is handed over. They report misuse (releasing a semaphore too often), a
// question answered "no" by a *_nowait call, or a queue or barrier that was shut down.
#pragma once

#include <stdexcept>
#include <string>

#include "lesson01_loop/exceptions.hpp"

namespace aio {

// asyncio: exceptions.BrokenBarrierError, a RuntimeError: the barrier was reset or
// aborted while (or before) this task waited at it.
class BrokenBarrierError : public RuntimeError {
public:
    using RuntimeError::RuntimeError;
};

// asyncio: queues.QueueEmpty. get_nowait() on an empty queue.
class QueueEmpty : public std::runtime_error {
public:
    QueueEmpty() : std::runtime_error("QueueEmpty: get_nowait() on an empty queue") {}
};

// asyncio: queues.QueueFull. put_nowait() on a full queue.
class QueueFull : public std::runtime_error {
public:
    QueueFull() : std::runtime_error("QueueFull: put_nowait() on a full queue") {}
};

// asyncio 3.13: queues.QueueShutDown. A put after shutdown(), or a get after shutdown()
// once the queue is empty (at once after shutdown(immediate=true)).
class QueueShutDown : public std::runtime_error {
public:
    QueueShutDown() : std::runtime_error("QueueShutDown: the queue is shut down") {}
};

}  // namespace aio
