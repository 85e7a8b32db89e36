// file_helpers.hpp - what the file tests share: a temporary directory removed after the
// test, a loop run that also shuts the default executor down (its threads end before
// the test does), and what an awaitable raises as Python prints it.
#pragma once

#include <doctest/doctest.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <string>
#include <utility>

#include "helpers.hpp"
#include "lesson01_loop/exceptions.hpp"
#include "lesson02_coroutines/coroutines.hpp"
#include "lesson03_tasks/threads.hpp"

namespace test {

// A fresh directory under $TMPDIR (or /tmp), removed with all it holds.
struct TempDir {
    std::string path;
    TempDir() {
        std::string pattern = (std::filesystem::temp_directory_path() / "aio-files-XXXXXX");
        REQUIRE(::mkdtemp(pattern.data()) != nullptr);
        path = pattern;
    }
    ~TempDir() { std::filesystem::remove_all(path); }
    std::string operator/(const std::string& name) const { return path + "/" + name; }
};

// The file's bytes, read without the loop.
inline std::string contents(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
}
inline void put(const std::string& path, const std::string& data) {
    std::ofstream(path, std::ios::binary) << data;
}

namespace {

// test::run, then loop.shutdown_default_executor(): no worker outlives the test.
template <class T>
T run_files(aio::EventLoop& loop, aio::Coro<T> coro, double seconds = 20) {
    struct Shutdown {
        aio::EventLoop& loop;
        ~Shutdown() {
            if (!loop.is_closed()) loop.run_until_complete(loop.shutdown_default_executor());
        }
    } shutdown{loop};
    return test::run(loop, std::move(coro), seconds);
}

// Awaits `awaitable`; gives what it raised as Python's last traceback line
// ("FileNotFoundError: [Errno 2] No such file or directory: 'missing.txt'"), or
// "no exception".
template <class A>
aio::Coro<std::string> raised(A awaitable) {
    std::string what = "no exception";
    try {
        co_await std::move(awaitable);
    } catch (...) {
        what = aio::describe_exception(std::current_exception());
    }
    co_return what;
}

}  // namespace

}  // namespace test
