// demo.hpp - what the files of lesson 5's demo share. demo.cpp runs the parts, one
// aio::run (a fresh loop) each, as the tutorials' programs each call asyncio.run; the
// parts of lesson 5's second half (subprocesses, files, signals) live in files of their
// own beside it (demo_<piece>.cpp) and are declared here.
#pragma once

#include <string>

namespace demo {

// Seconds since the current part began (its loop's time minus the time it started at),
// so every part's stamps start at [0.00], under either clock.
double now();
// Marks the start of a part; its first line, inside aio::run, calls it.
void start_clock();
// One body line: "  [t.tt] text".
void say(const std::string& text);
// A part's heading and the line under it saying what to watch for.
void heading(const char* title, const char* watch);

}  // namespace demo
