// test_files.cpp - aio::open, as aiofiles.open: every call and mode, text and binary,
// large files, line iteration, seek/tell, append, truncate, the order of calls on one
// file, and a cancelled read. Each call runs on the default executor's threads, so this
// file also runs under ThreadSanitizer. The error paths are in test_files_errors.cpp,
// the loop's freedom while a thread blocks in test_files_threads.cpp.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <poll.h>
#if defined(__linux__)
#include <sys/epoll.h>
#endif
#include <unistd.h>

#include <cerrno>

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "file_helpers.hpp"
#include "helpers.hpp"
#include "lesson02_coroutines/context_managers.hpp"
#include "lesson03_tasks/gather.hpp"
#include "lesson03_tasks/tasks.hpp"
#include "lesson05_io/bytes.hpp"
#include "lesson05_io/files.hpp"

using namespace aio::literals;

namespace {

// async with aiofiles.open(path, "w") as f: n = await f.write(text)
aio::Coro<std::size_t> write_text(std::string path, std::string text) {
    std::size_t written = 0;
    auto body = [&written, &text](aio::TextFile& f) -> aio::Coro<void> {
        written = co_await f.write(text);
    };
    co_await aio::async_with(aio::open(path, "w"), body);
    co_return written;
}

// async with aiofiles.open(path) as f: return await f.read()
aio::Coro<std::string> read_text(std::string path) {
    aio::TextFile f = co_await aio::open(path);
    std::string text = co_await f.read();
    co_await f.close();
    co_return text;
}

}  // namespace

TEST_SUITE("lesson05") {
    TEST_CASE("files: readiness does not apply: poll says a file is ready, epoll refuses it") {
        test::TempDir dir;
        int fd = ::open((dir / "a.txt").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        REQUIRE(fd >= 0);
        pollfd p{fd, POLLIN | POLLOUT, 0};
        CHECK(::poll(&p, 1, 0) == 1);
        CHECK(p.revents == (POLLIN | POLLOUT));  // "ready", though nothing was asked of a disk
#if defined(__linux__)
        int ep = ::epoll_create1(EPOLL_CLOEXEC);
        epoll_event ev{};
        ev.events = EPOLLIN;
        CHECK(::epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) == -1);
        CHECK(errno == EPERM);
        ::close(ep);
#endif
        ::close(fd);
    }

    TEST_CASE("files: text written with async with is read back whole; write counts characters") {
        test::LoopFixture fx;
        test::TempDir dir;
        auto main = [](std::string path) -> aio::Coro<std::string> {
            std::size_t n = co_await write_text(path, "héllo\nwörld\n");
            std::string text = co_await read_text(path);
            co_return std::to_string(n) + " " + text;
        };
        CHECK(test::run_files(*fx.loop, main(dir / "a.txt")) == "12 héllo\nwörld\n");
        CHECK(test::contents(dir / "a.txt") == "héllo\nwörld\n");
    }

    TEST_CASE("files: text read(n) counts characters, binary read(n) bytes; '' and b'' at EOF") {
        test::LoopFixture fx;
        test::TempDir dir;
        test::put(dir / "a.txt", "héllo");
        auto main = [](std::string path) -> aio::Coro<std::vector<std::string>> {
            std::vector<std::string> got;
            aio::TextFile t = co_await aio::open(path);
            got.push_back(co_await t.read(2));
            got.push_back(std::to_string(co_await t.tell()));
            got.push_back(co_await t.read(10));
            got.push_back("[" + co_await t.read() + "]");
            co_await t.close();
            aio::BinaryFile b = co_await aio::open<aio::bytes>(path, "rb");
            got.push_back((co_await b.read(2)).repr());
            got.push_back((co_await b.read()).repr());
            got.push_back((co_await b.read()).repr());
            co_await b.close();
            co_return got;
        };
        std::vector<std::string> expected = {"hé",        "3",           "llo", "[]",
                                             "b'h\\xc3'", "b'\\xa9llo'", "b''"};
        CHECK(test::run_files(*fx.loop, main(dir / "a.txt")) == expected);
    }

    TEST_CASE("files: binary data keeps its zero bytes; writelines and readlines") {
        test::LoopFixture fx;
        test::TempDir dir;
        auto main = [](std::string path) -> aio::Coro<std::vector<aio::bytes>> {
            aio::BinaryFile w = co_await aio::open<aio::bytes>(path, "wb");
            std::size_t n = co_await w.write("a\0b\n"_b);
            CHECK(n == 4);
            std::vector<aio::bytes> more = {"c\n"_b, "\xff"_b};
            co_await w.writelines(std::move(more));
            co_await w.close();
            aio::BinaryFile r = co_await aio::open<aio::bytes>(path, "rb");
            std::vector<aio::bytes> lines = co_await r.readlines();
            co_await r.close();
            co_return lines;
        };
        std::vector<aio::bytes> expected = {"a\0b\n"_b, "c\n"_b, "\xff"_b};
        CHECK(test::run_files(*fx.loop, main(dir / "a.bin")) == expected);
    }

    TEST_CASE("files: readline, then async for over the rest, a last line without newline") {
        test::LoopFixture fx;
        test::TempDir dir;
        test::put(dir / "a.txt", "one\ntwo\n\nfour");
        auto main = [](std::string path) -> aio::Coro<std::vector<std::string>> {
            std::vector<std::string> got;
            auto body = [&got](aio::TextFile& f) -> aio::Coro<void> {
                got.push_back(co_await f.readline());
                aio::AsyncGenerator<std::string> lines = f.lines();
                while (std::optional<std::string> line = co_await lines.next())
                    got.push_back(*line);
                got.push_back("[" + co_await f.readline() + "]");
            };
            co_await aio::async_with(aio::open(path), body);
            co_return got;
        };
        std::vector<std::string> expected = {"one\n", "two\n", "\n", "four", "[]"};
        CHECK(test::run_files(*fx.loop, main(dir / "a.txt")) == expected);
    }

    TEST_CASE("files: binary async for gives bytes lines; readlines of text") {
        test::LoopFixture fx;
        test::TempDir dir;
        test::put(dir / "a.txt", "a\nb");
        auto main = [](std::string path) -> aio::Coro<std::string> {
            std::string got;
            aio::BinaryFile b = co_await aio::open<aio::bytes>(path, "rb");
            aio::AsyncGenerator<aio::bytes> lines = b.lines();
            while (std::optional<aio::bytes> line = co_await lines.next()) got += line->repr();
            co_await b.close();
            aio::TextFile t = co_await aio::open(path, "rt");
            std::vector<std::string> all = co_await t.readlines();
            co_await t.close();
            co_return got + " " + aio::repr(all);
        };
        CHECK(test::run_files(*fx.loop, main(dir / "a.txt")) == "b'a\\n'b'b' ['a\\n', 'b']");
    }

    TEST_CASE("files: an 8 MiB file goes through whole, both ways") {
        test::LoopFixture fx;
        test::TempDir dir;
        std::string big(8 << 20, '\0');
        for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 7 + i / 4096);
        auto main = [](std::string path, std::string data) -> aio::Coro<bool> {
            aio::BinaryFile w = co_await aio::open<aio::bytes>(path, "wb");
            co_await w.write(aio::bytes(data));
            co_await w.close();
            aio::BinaryFile r = co_await aio::open<aio::bytes>(path, "rb");
            aio::bytes back = co_await r.read();
            std::int64_t end = co_await r.tell();
            co_await r.close();
            co_return back.view() == data&& end == 8 << 20;
        };
        CHECK(test::run_files(*fx.loop, main(dir / "big.bin", big)));
        CHECK(test::contents(dir / "big.bin") == big);
    }

    TEST_CASE("files: seek and tell, from the start, the position and the end") {
        test::LoopFixture fx;
        test::TempDir dir;
        test::put(dir / "a.bin", "0123456789");
        auto main = [](std::string path) -> aio::Coro<std::vector<std::string>> {
            std::vector<std::string> got;
            aio::BinaryFile f = co_await aio::open<aio::bytes>(path, "rb");
            got.push_back(std::to_string(co_await f.seek(3)));
            got.push_back((co_await f.read(2)).repr());
            got.push_back(std::to_string(co_await f.seek(2, SEEK_CUR)));
            got.push_back((co_await f.read(1)).repr());
            got.push_back(std::to_string(co_await f.seek(-2, SEEK_END)));
            got.push_back((co_await f.read()).repr());
            got.push_back(std::to_string(co_await f.tell()));
            co_await f.close();
            aio::TextFile t = co_await aio::open(path);
            got.push_back(std::to_string(co_await t.seek(0, SEEK_END)));
            got.push_back(std::to_string(co_await t.seek(4)));
            got.push_back(co_await t.read(1));
            co_await t.close();
            co_return got;
        };
        std::vector<std::string> expected = {"3",     "b'34'", "7",  "b'7'", "8",
                                             "b'89'", "10",    "10", "4",    "4"};
        CHECK(test::run_files(*fx.loop, main(dir / "a.bin")) == expected);
    }

    TEST_CASE("files: append writes at the end; a+ starts there and reads after a seek") {
        test::LoopFixture fx;
        test::TempDir dir;
        test::put(dir / "log.txt", "one\n");
        auto main = [](std::string path) -> aio::Coro<std::vector<std::string>> {
            std::vector<std::string> got;
            aio::TextFile a = co_await aio::open(path, "a");
            got.push_back(std::to_string(co_await a.tell()));
            co_await a.write("two\n");
            co_await a.close();
            aio::TextFile ap = co_await aio::open(path, "a+");
            got.push_back(std::to_string(co_await ap.tell()));
            got.push_back("[" + co_await ap.read() + "]");
            co_await ap.seek(0);
            co_await ap.write("three\n");  // O_APPEND: at the end, wherever the position is
            co_await ap.seek(0);
            got.push_back(co_await ap.read());
            co_await ap.close();
            co_return got;
        };
        std::vector<std::string> expected = {"4", "8", "[]", "one\ntwo\nthree\n"};
        CHECK(test::run_files(*fx.loop, main(dir / "log.txt")) == expected);
    }

    TEST_CASE("files: r+ reads and writes one stream; w+ starts empty") {
        test::LoopFixture fx;
        test::TempDir dir;
        test::put(dir / "a.txt", "abcdef");
        auto main = [](std::string path) -> aio::Coro<std::vector<std::string>> {
            std::vector<std::string> got;
            aio::TextFile f = co_await aio::open(path, "r+");
            got.push_back(co_await f.read(2));
            co_await f.write("XY");  // at position 2: stdio needs a seek in between
            got.push_back(co_await f.read());
            co_await f.seek(0);
            got.push_back(co_await f.read());
            co_await f.close();
            aio::TextFile w = co_await aio::open(path, "w+");
            got.push_back("[" + co_await w.read() + "]");
            co_await w.write("new");
            co_await w.seek(0);
            got.push_back(co_await w.read());
            co_await w.close();
            co_return got;
        };
        std::vector<std::string> expected = {"ab", "ef", "abXYef", "[]", "new"};
        CHECK(test::run_files(*fx.loop, main(dir / "a.txt")) == expected);
    }

    TEST_CASE("files: truncate cuts at the position by default and leaves it there") {
        test::LoopFixture fx;
        test::TempDir dir;
        test::put(dir / "a.bin", "0123456789");
        auto main = [](std::string path) -> aio::Coro<std::vector<std::int64_t>> {
            std::vector<std::int64_t> got;
            aio::BinaryFile f = co_await aio::open<aio::bytes>(path, "r+b");
            co_await f.seek(6);
            got.push_back(co_await f.truncate());
            got.push_back(co_await f.tell());
            got.push_back(co_await f.truncate(3));
            got.push_back(co_await f.tell());
            co_await f.close();
            co_return got;
        };
        CHECK(test::run_files(*fx.loop, main(dir / "a.bin")) ==
              std::vector<std::int64_t>{6, 6, 3, 6});
        CHECK(test::contents(dir / "a.bin") == "012");
    }

    TEST_CASE("files: x creates a new file; flush puts the buffer on disk before close") {
        test::LoopFixture fx;
        test::TempDir dir;
        auto main = [](std::string path) -> aio::Coro<std::string> {
            aio::BinaryFile f = co_await aio::open<aio::bytes>(path, "xb");
            co_await f.write("data"_b);
            std::string before = test::contents(path);
            co_await f.flush();
            std::string after = test::contents(path);
            co_await f.close();
            co_return "[" + before + "] [" + after + "]";
        };
        CHECK(test::run_files(*fx.loop, main(dir / "new.bin")) == "[] [data]");
    }

    TEST_CASE("files: name, mode, closed and repr are Python's") {
        test::LoopFixture fx;
        test::TempDir dir;
        auto main = [](std::string path) -> aio::Coro<std::vector<std::string>> {
            std::vector<std::string> got;
            aio::TextFile t = co_await aio::open(path, "w");
            got.push_back(t.repr());
            co_await t.close();
            got.push_back(t.closed() ? "closed" : "open");
            for (std::string mode : {"rb", "wb", "w+b", "ab"}) {
                aio::BinaryFile b = co_await aio::open<aio::bytes>(path, mode);
                got.push_back(b.mode() + " " + b.repr());
                co_await b.close();
            }
            co_return got;
        };
        std::string p = dir / "a.txt";
        std::vector<std::string> expected = {
            "<_io.TextIOWrapper name='" + p + "' mode='w' encoding='UTF-8'>",
            "closed",
            "rb <_io.BufferedReader name='" + p + "'>",
            "wb <_io.BufferedWriter name='" + p + "'>",
            "rb+ <_io.BufferedRandom name='" + p + "'>",
            "ab <_io.BufferedWriter name='" + p + "'>"};
        CHECK(test::run_files(*fx.loop, main(p)) == expected);
    }

    TEST_CASE("files: calls made at once on one file run one at a time, in order") {
        test::LoopFixture fx;
        test::TempDir dir;
        auto writer = [](aio::TextFile f, int i) -> aio::Coro<std::size_t> {
            co_return co_await f.write(std::to_string(i) + ",");
        };
        auto main = [](std::string path, decltype(writer) w) -> aio::Coro<void> {
            aio::TextFile f = co_await aio::open(path, "w");
            std::vector<aio::Task<std::size_t>> tasks;
            for (int i = 0; i < 20; ++i) tasks.push_back(aio::create_task(w(f, i)));
            for (aio::Task<std::size_t>& t : tasks) co_await t;
            co_await f.close();
        };
        test::run_files(*fx.loop, main(dir / "a.txt", writer));
        std::string expected;
        for (int i = 0; i < 20; ++i) expected += std::to_string(i) + ",";
        CHECK(test::contents(dir / "a.txt") == expected);
    }

    TEST_CASE("files: a file dropped unclosed is closed with its last handle") {
        test::LoopFixture fx;
        test::TempDir dir;
        auto main = [](std::string path) -> aio::Coro<void> {
            aio::BinaryFile f = co_await aio::open<aio::bytes>(path, "wb");
            co_await f.write("kept"_b);
        };
        test::run_files(*fx.loop, main(dir / "a.bin"));
        CHECK(test::contents(dir / "a.bin") == "kept");  // fclose wrote the buffer out
    }
}
