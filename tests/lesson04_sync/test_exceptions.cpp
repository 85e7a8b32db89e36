// test_exceptions.cpp - lesson 4's errors print as asyncio's (exceptions.hpp, through
// lesson 1's PythonException). Expected strings are CPython 3.11's (3.13 for
// QueueShutDown) for the Python in the comments.
#include <doctest/doctest.h>

#include <exception>
#include <string>

#include "lesson01_loop/builtins.hpp"
#include "lesson01_loop/exceptions.hpp"
#include "lesson04_sync/exceptions.hpp"

namespace {

template <class E>
std::string last_line(E error) {
    return aio::describe_exception(std::make_exception_ptr(error));
}

}  // namespace

TEST_SUITE("lesson04") {
    TEST_CASE(
        "the queue errors are bare, as asyncio raises them: repr QueueEmpty(), and a "
        "traceback's last line asyncio.queues.QueueEmpty") {
        CHECK(aio::repr(aio::QueueEmpty()) == "QueueEmpty()");  // repr(asyncio.QueueEmpty())
        CHECK(aio::str(aio::QueueEmpty()).empty());
        CHECK(last_line(aio::QueueEmpty()) == "asyncio.queues.QueueEmpty");
        CHECK(aio::repr(aio::QueueFull()) == "QueueFull()");
        CHECK(last_line(aio::QueueFull()) == "asyncio.queues.QueueFull");
        CHECK(aio::repr(aio::QueueShutDown()) == "QueueShutDown()");
        CHECK(last_line(aio::QueueShutDown()) == "asyncio.queues.QueueShutDown");
    }

    TEST_CASE("BrokenBarrierError is a RuntimeError named as asyncio names it") {
        aio::BrokenBarrierError e("Barrier aborted");
        CHECK(aio::repr(e) == "BrokenBarrierError('Barrier aborted')");
        CHECK(last_line(e) == "asyncio.exceptions.BrokenBarrierError: Barrier aborted");
        CHECK(aio::repr(static_cast<const aio::RuntimeError&>(e)) ==
              "BrokenBarrierError('Barrier aborted')");  // the dynamic type's name
    }
}
