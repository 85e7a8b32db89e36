// test_files_threads.cpp - a file call blocks a worker thread, never the loop: several
// files opened and read at once are in their threads at the same time, the loop runs
// other tasks meanwhile, and a cancelled read finishes in its thread before the next
// call on that file starts. A named pipe (FIFO) stands in for a slow disk: its open and
// read block until the test's other end acts, so each test decides when a call ends.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <utility>
#include <vector>

#include "file_helpers.hpp"
#include "helpers.hpp"
#include "lesson02_coroutines/exceptions.hpp"
#include "lesson02_coroutines/sleep.hpp"
#include "lesson03_tasks/tasks.hpp"
#include "lesson05_io/bytes.hpp"
#include "lesson05_io/files.hpp"

namespace {

// The test's ends of some FIFOs; whatever is still open at the end is closed, so a
// reader blocked in a worker always gets EOF and the executor can shut down.
struct Fifos {
    std::vector<std::string> paths;
    std::vector<int> fds;
    Fifos(const test::TempDir& dir, int n) {
        for (int i = 0; i < n; ++i) {
            paths.push_back(dir / ("fifo" + std::to_string(i)));
            REQUIRE(::mkfifo(paths.back().c_str(), 0600) == 0);
            fds.push_back(-1);
        }
    }
    ~Fifos() {
        for (int& fd : fds) close_end(fd);
    }
    // The write end of FIFO i without blocking: ENXIO unless a reader has it open (or
    // is blocked in open(2) on it) right now.
    bool try_open_writer(std::size_t i) {
        if (fds[i] < 0) fds[i] = ::open(paths[i].c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
        return fds[i] >= 0;
    }
    void write_and_close(std::size_t i, const std::string& data) {
        REQUIRE(::write(fds[i], data.data(), data.size()) == static_cast<ssize_t>(data.size()));
        close_end(fds[i]);
    }
    static void close_end(int& fd) {
        if (fd >= 0) ::close(fd);
        fd = -1;
    }
};

aio::Coro<std::string> open_and_read(std::string path) {
    aio::TextFile f = co_await aio::open(path);
    std::string text = co_await f.read();
    co_await f.close();
    co_return text;
}

// Polls until every FIFO has a reader at once: the readers' threads all sit in open(2)
// together. Gives up after about 5 s (then the reads were not concurrent).
aio::Coro<bool> all_readers_waiting(Fifos* fifos) {
    for (int tries = 0; tries < 500; ++tries) {
        bool all = true;
        for (std::size_t i = 0; i < fifos->paths.size(); ++i)
            all = fifos->try_open_writer(i) && all;
        if (all) co_return true;
        co_await aio::sleep(0.01);
    }
    co_return false;
}

}  // namespace

TEST_SUITE("lesson05") {
    TEST_CASE("files: several files opened and read at once are in their threads together") {
        test::LoopFixture fx;
        test::TempDir dir;
        Fifos fifos(dir, 3);
        auto main = [](Fifos* fifos) -> aio::Coro<std::vector<std::string>> {
            std::vector<aio::Task<std::string>> readers;
            for (const std::string& path : fifos->paths)
                readers.push_back(aio::create_task(open_and_read(path)));
            bool together = co_await all_readers_waiting(fifos);
            CHECK(together);
            for (std::size_t i = 0; i < fifos->paths.size(); ++i)
                if (fifos->fds[i] >= 0) fifos->write_and_close(i, "file " + std::to_string(i));
            std::vector<std::string> got;
            for (aio::Task<std::string>& r : readers) got.push_back(co_await r);
            co_return got;
        };
        std::vector<std::string> expected = {"file 0", "file 1", "file 2"};
        CHECK(test::run_files(*fx.loop, main(&fifos)) == expected);
    }

    TEST_CASE("files: the loop runs other tasks while a read waits in its thread") {
        test::LoopFixture fx;
        test::TempDir dir;
        Fifos fifos(dir, 1);
        auto main = [](Fifos* fifos) -> aio::Coro<std::string> {
            aio::Task<std::string> reader = aio::create_task(open_and_read(fifos->paths[0]));
            int ticks = 0;
            while (!fifos->try_open_writer(0)) co_await aio::sleep(0.01);
            for (; ticks < 5; ++ticks) co_await aio::sleep(0.01);  // the reader is blocked
            CHECK_FALSE(reader.done());
            fifos->write_and_close(0, "late");
            std::string text = co_await reader;
            co_return text + " after " + std::to_string(ticks) + " ticks";
        };
        CHECK(test::run_files(*fx.loop, main(&fifos)) == "late after 5 ticks");
    }

    TEST_CASE("files: a cancelled read runs to the end; the next call waits for it") {
        test::LoopFixture fx;
        test::TempDir dir;
        Fifos fifos(dir, 1);
        auto main = [](Fifos* fifos) -> aio::Coro<std::vector<std::string>> {
            std::vector<std::string> got;
            int writer = ::open(fifos->paths[0].c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC);
            fifos->fds[0] = writer;  // keeps the FIFO open; the test closes it
            aio::BinaryFile f = co_await aio::open<aio::bytes>(fifos->paths[0], "rb");
            aio::Task<aio::bytes> first = aio::create_task(f.read(4));
            co_await aio::sleep(0.05);  // its thread now blocks in fread
            first.cancel();
            aio::Coro<aio::bytes> second_read = f.read(2);
            aio::Task<aio::bytes> second = aio::create_task(std::move(second_read));
            co_await aio::sleep(0.05);
            got.push_back(second.done() ? "second done early" : "second waits");
            REQUIRE(::write(writer, "abcdef", 6) == 6);  // the first read takes "abcd"
            aio::bytes rest = co_await second;
            got.push_back(rest.repr());
            got.push_back(first.cancelled() ? "first cancelled" : "first not cancelled");
            co_await f.close();
            co_return got;
        };
        std::vector<std::string> expected = {"second waits", "b'ef'", "first cancelled"};
        CHECK(test::run_files(*fx.loop, main(&fifos)) == expected);
    }
}
