// subprocess_helpers.hpp - what the subprocess tests share: this process's children as
// /proc sees them (none may be left, zombie or not), the watcher a test picks, and the
// error text a call raises.
#pragma once

#include <dirent.h>
#include <doctest/doctest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <fstream>
#include <sstream>
#include <string>

#include "lesson01_loop/exceptions.hpp"

namespace test {

// The children of this process /proc lists: "<pid> <state>" per child (state Z: a
// zombie, exited and never reaped).
inline std::string children() {
    std::string out;
    DIR* dir = ::opendir("/proc");
    REQUIRE(dir != nullptr);
    const std::string me = std::to_string(::getpid());
    while (dirent* entry = ::readdir(dir)) {
        if (entry->d_name[0] < '0' || entry->d_name[0] > '9') continue;
        std::ifstream stat(std::string("/proc/") + entry->d_name + "/stat");
        std::string line;
        if (!std::getline(stat, line)) continue;
        std::size_t paren = line.rfind(')');
        if (paren == std::string::npos) continue;
        std::istringstream rest(line.substr(paren + 2));
        std::string state, ppid;
        rest >> state >> ppid;
        if (ppid == me) out += std::string(entry->d_name) + " " + state + "\n";
    }
    ::closedir(dir);
    return out;
}

// AIO_CHILD_WATCHER set for one test (thread or pidfd), restored after.
struct ChildWatcherEnv {
    explicit ChildWatcherEnv(const char* kind) {
        if (const char* old = std::getenv("AIO_CHILD_WATCHER")) saved = old, had = true;
        ::setenv("AIO_CHILD_WATCHER", kind, 1);
    }
    ~ChildWatcherEnv() {
        if (had)
            ::setenv("AIO_CHILD_WATCHER", saved.c_str(), 1);
        else
            ::unsetenv("AIO_CHILD_WATCHER");
    }
    std::string saved;
    bool had = false;
};

// "FileNotFoundError: [Errno 2] No such file or directory: 'x'", what fn() throws.
template <class F>
std::string error_text(F fn) {
    try {
        fn();
    } catch (...) {
        return aio::describe_exception(std::current_exception());
    }
    return "no exception";
}

}  // namespace test
