// demo.hpp - what the files of lesson 3's demo share. demo.cpp runs the parts, one
// aio::run (a fresh loop) each, as the tutorials' programs each call asyncio.run;
// demo_errors.cpp holds the parts where children fail (gather, wait, TaskGroup) and
// demo_threads.cpp the part with a blocking call in a thread.
#pragma once

#include <string>

#include "lesson02_coroutines/coroutines.hpp"

namespace demo {

// Seconds since the current part began (its loop's time minus the time it started at),
// so every part's stamps start at [0.00], under either clock.
double now();
// "  [t.tt]", now() as the start of a part's body line: aio::print(at(), "tick").
std::string at();

aio::Coro<void> gather_return_exceptions();   // demo_errors.cpp
aio::Coro<void> wait_first_exception();       // demo_errors.cpp
aio::Coro<void> task_group_except_star();     // demo_errors.cpp
aio::Coro<void> blocking_call_in_a_thread();  // demo_threads.cpp

}  // namespace demo
