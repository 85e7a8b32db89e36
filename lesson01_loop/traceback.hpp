// traceback.hpp - where an exception has been, and Python's report of one that nobody
// caught (Python: traceback.py, sys.excepthook).
//
// A Python exception carries __traceback__, the frames it passed through. A C++
// exception carries nothing, and a coroutine's stack is gone by the time its awaiter
// rethrows what it threw. So each coroutine frame an exception leaves (lesson 2's
// promise, in unhandled_exception) notes its name and the co_await it was at, in a small
// record kept per thread: the same exception object (std::current_exception() compares
// equal after every rethrow) extends its record, another starts a new one, and the last
// 16 records are kept. The path that does not throw pays nothing.
//
// format_exception(e) is Python's traceback.format_exception: the cause's report first
// (then "The above exception was the direct cause of the following exception:"), then
// "Traceback (most recent call last):", one `  File "x.cpp", line 12, in fetch` per
// frame, outermost first, with the source line under it when the file can be read, and
// the last line, "ValueError: bad" (exceptions.hpp's describe_exception). An
// ExceptionGroup (lesson 3) prints boxed, member by member, as Python 3.11 prints it.
//
// install_excepthook() makes an exception that escapes main() (after aio::run rethrew
// it) end the program as Python's top level does: stdout flushed, the report on stderr,
// exit status 1, where std::terminate would abort (status 134) and lose what stdout had
// buffered; or, for a KeyboardInterrupt (lesson 3), death by SIGINT, as CPython 3.8+
// ends (PythonException::python_exit_signal). aio::run and aio::Runner (lesson 3)
// install it for their thread.
//
// Differences from Python: a frame's line is its last co_await (the one the exception
// came out of); the frame that threw shows its last co_await, or the line of its
// definition if it reached none, since C++ does not say where a throw was. Frames that
// are not coroutines (main, aio::run) are not recorded. Only __cause__ is chained (C++
// has no __context__): TimeoutError's cause, and std::throw_with_nested's nested one.
#pragma once

#include <exception>
#include <string>
#include <vector>

#include "lesson01_loop/location.hpp"

namespace aio {

// asyncio: traceback.FrameSummary. One frame an exception passed through.
struct FrameSummary {
    const char* name;   // the coroutine function's name
    Location location;  // the co_await it left from (see above)
};

// Python: traceback.extract_tb(e.__traceback__). The frames recorded for `error`,
// outermost first; empty if none were (or the record was dropped for newer ones).
std::vector<FrameSummary> extract_tb(const std::exception_ptr& error);

// Python: "".join(traceback.format_exception(e)). Ends with a newline; "" for null.
std::string format_exception(const std::exception_ptr& error);

// Python: traceback.print_exception(e). Writes format_exception(error) to stderr.
void print_exception(const std::exception_ptr& error);

// Python: sys.excepthook for an exception that ends the program. Installs (once per
// process) a std::terminate handler that, on a thread that called this, reports the
// exception in flight as Python's top level does and calls _Exit(1) (or re-raises the
// exception's python_exit_signal() with its default action); on other threads
// and without an exception it leaves the decision to the handler it replaced.
void install_excepthook();

namespace detail {
// Records that the exception in flight (std::current_exception()) left the frame `name`
// at `where`. Called from inside a catch (a promise's unhandled_exception); never throws.
void note_frame(const char* name, Location where) noexcept;
}  // namespace detail

}  // namespace aio
