// test_files_errors.cpp - what aio::open's files raise, at the await, with Python's
// types and texts (checked against python3's open()): a missing file, a directory, "x"
// on an existing file, a full disk, a call the mode does not allow, a closed file, a
// bad mode, bytes that are not UTF-8, a sysfs file root may not write. We run as root, so
// permission bits prove nothing: the errors here are ones root gets too. No fd is left open on any
// path (LoopFixture).
#include <doctest/doctest.h>
#include <unistd.h>

#include <string>
#include <utility>
#include <vector>

#include "file_helpers.hpp"
#include "helpers.hpp"
#include "lesson02_coroutines/context_managers.hpp"
#include "lesson05_io/bytes.hpp"
#include "lesson05_io/exceptions.hpp"
#include "lesson05_io/files.hpp"

using namespace aio::literals;

namespace {

aio::Coro<std::string> open_text(std::string path, std::string mode) {
    aio::TextFile f = co_await aio::open(path, mode);
    co_await f.close();
    co_return "opened";
}

aio::Coro<std::string> open_binary(std::string path, std::string mode) {
    aio::BinaryFile f = co_await aio::open<aio::bytes>(path, mode);
    co_await f.close();
    co_return "opened";
}

}  // namespace

TEST_SUITE("lesson05") {
    TEST_CASE("files: opening raises Python's OSError naming the path, at the await") {
        test::LoopFixture fx;
        test::TempDir dir;
        test::put(dir / "there.txt", "x");
        auto main = [](std::string d) -> aio::Coro<std::vector<std::string>> {
            std::vector<std::string> got;
            got.push_back(co_await test::raised(open_text(d + "/missing.txt", "r")));
            got.push_back(co_await test::raised(open_text(d, "r")));
            got.push_back(co_await test::raised(open_binary(d, "wb")));
            got.push_back(co_await test::raised(open_text(d + "/there.txt", "x")));
            got.push_back(co_await test::raised(open_text(d + "/no/dir.txt", "w")));
            co_return got;
        };
        std::string d = dir.path;
        std::vector<std::string> expected = {
            "FileNotFoundError: [Errno 2] No such file or directory: '" + d + "/missing.txt'",
            "IsADirectoryError: [Errno 21] Is a directory: '" + d + "'",
            "IsADirectoryError: [Errno 21] Is a directory: '" + d + "'",
            "FileExistsError: [Errno 17] File exists: '" + d + "/there.txt'",
            "FileNotFoundError: [Errno 2] No such file or directory: '" + d + "/no/dir.txt'"};
        CHECK(test::run_files(*fx.loop, main(d)) == expected);
    }

    // Root passes permission bits, but sysfs refuses to open a file it has no write
    // handler for: PermissionError even for root.
    TEST_CASE("files: a file that cannot be opened for writing raises PermissionError") {
        test::LoopFixture fx;
        if (::access("/sys/kernel/notes", F_OK) != 0) return;  // no sysfs here
        auto main = []() -> aio::Coro<std::string> {
            co_return co_await test::raised(open_binary("/sys/kernel/notes", "wb"));
        };
        CHECK(test::run_files(*fx.loop, main()) ==
              "PermissionError: [Errno 13] Permission denied: '/sys/kernel/notes'");
    }

    TEST_CASE("files: a missing file in async with raises before the body, nothing to close") {
        test::LoopFixture fx;
        auto main = []() -> aio::Coro<std::string> {
            bool ran = false;
            auto body = [&ran](aio::TextFile&) -> aio::Coro<void> {
                ran = true;
                co_return;
            };
            std::string what =
                co_await test::raised(aio::async_with(aio::open("missing.txt"), body));
            co_return what + (ran ? " (body ran)" : "");
        };
        CHECK(test::run_files(*fx.loop, main()) ==
              "FileNotFoundError: [Errno 2] No such file or directory: 'missing.txt'");
    }

    TEST_CASE("files: a bad mode raises Python's ValueError texts") {
        test::LoopFixture fx;
        auto main = []() -> aio::Coro<std::vector<std::string>> {
            std::vector<std::string> got;
            for (std::string mode : {"q", "rr", "rw", "rbt", "b", "+", "rU"})
                got.push_back(co_await test::raised(open_text("/dev/null", mode)));
            got.push_back(co_await test::raised(open_text("/dev/null", "rb")));
            got.push_back(co_await test::raised(open_binary("/dev/null", "r")));
            co_return got;
        };
        std::vector<std::string> expected = {
            "ValueError: invalid mode: 'q'",
            "ValueError: invalid mode: 'rr'",
            "ValueError: must have exactly one of create/read/write/append mode",
            "ValueError: can't have text and binary mode at once",
            "ValueError: Must have exactly one of create/read/write/append mode and at most one "
            "plus",
            "ValueError: Must have exactly one of create/read/write/append mode and at most one "
            "plus",
            "ValueError: invalid mode: 'rU'",
            "ValueError: binary mode 'rb' needs aio::open<aio::bytes>",
            "ValueError: aio::open<aio::bytes> needs a binary mode, not 'r'"};
        CHECK(test::run_files(*fx.loop, main()) == expected);
    }

    TEST_CASE("files: /dev/full raises ENOSPC at flush or at a write that fills the buffer") {
        test::LoopFixture fx;
        auto main = []() -> aio::Coro<std::vector<std::string>> {
            std::vector<std::string> got;
            aio::TextFile f = co_await aio::open("/dev/full", "w");
            got.push_back(co_await test::raised(f.write("x")));  // buffered: no error yet
            got.push_back(co_await test::raised(f.flush()));
            // stdio dropped what the flush could not write (Python keeps it and fails
            // again at close): close has nothing left to write.
            got.push_back(co_await test::raised(f.close()));
            got.push_back(f.closed() ? "closed" : "open");
            got.push_back(co_await test::raised(f.close()));  // a second close does nothing
            aio::TextFile g = co_await aio::open("/dev/full", "w");
            co_await g.write("x");
            got.push_back(co_await test::raised(g.close()));  // the buffer goes out at close
            got.push_back(g.closed() ? "closed" : "open");
            aio::BinaryFile b = co_await aio::open<aio::bytes>("/dev/full", "wb");
            got.push_back(co_await test::raised(b.write(aio::bytes(std::size_t{1} << 20))));
            got.push_back(co_await test::raised(b.close()));
            co_return got;
        };
        std::string enospc = "OSError: [Errno 28] No space left on device: '/dev/full'";
        std::vector<std::string> expected = {"no exception", enospc,         "no exception",
                                             "closed",       "no exception", enospc,
                                             "closed",       enospc,         "no exception"};
        CHECK(aio::repr(test::run_files(*fx.loop, main())) == aio::repr(expected));
    }

    TEST_CASE("files: a call the mode does not allow raises io.UnsupportedOperation") {
        test::LoopFixture fx;
        auto main = []() -> aio::Coro<std::vector<std::string>> {
            std::vector<std::string> got;
            aio::TextFile w = co_await aio::open("/dev/null", "w");
            got.push_back(co_await test::raised(w.read()));
            got.push_back(co_await test::raised(w.readline()));
            co_await w.close();
            aio::TextFile r = co_await aio::open("/dev/null");
            got.push_back(co_await test::raised(r.write("x")));
            std::vector<std::string> lines = {"x"};
            got.push_back(co_await test::raised(r.writelines(std::move(lines))));
            got.push_back(co_await test::raised(r.truncate()));
            got.push_back(co_await test::raised(r.seek(1, SEEK_CUR)));
            got.push_back(co_await test::raised(r.seek(-1, SEEK_END)));
            got.push_back(co_await test::raised(r.seek(0, 5)));
            got.push_back(co_await test::raised(r.seek(-1)));
            co_await r.close();
            aio::BinaryFile b = co_await aio::open<aio::bytes>("/dev/null", "wb");
            got.push_back(co_await test::raised(b.read()));
            got.push_back(co_await test::raised(b.seek(0, 5)));
            co_await b.close();
            aio::BinaryFile rb = co_await aio::open<aio::bytes>("/dev/null", "rb");
            got.push_back(co_await test::raised(rb.write("x"_b)));
            co_await rb.close();
            co_return got;
        };
        std::vector<std::string> expected = {
            "io.UnsupportedOperation: not readable",
            "io.UnsupportedOperation: not readable",
            "io.UnsupportedOperation: not writable",
            "io.UnsupportedOperation: not writable",
            "io.UnsupportedOperation: truncate",
            "io.UnsupportedOperation: can't do nonzero cur-relative seeks",
            "io.UnsupportedOperation: can't do nonzero end-relative seeks",
            "ValueError: invalid whence (5, should be 0, 1 or 2)",
            "ValueError: negative seek position -1",
            "io.UnsupportedOperation: read",
            "ValueError: whence value 5 unsupported",
            "io.UnsupportedOperation: write"};
        CHECK(test::run_files(*fx.loop, main()) == expected);
    }

    TEST_CASE("files: UnsupportedOperation is caught as a ValueError") {
        test::LoopFixture fx;
        auto main = []() -> aio::Coro<bool> {
            aio::TextFile w = co_await aio::open("/dev/null", "w");
            bool caught = false;
            try {
                co_await w.read();
            } catch (const aio::ValueError&) {
                caught = true;
            }
            co_await w.close();
            co_return caught;
        };
        CHECK(test::run_files(*fx.loop, main()));
    }

    TEST_CASE("files: every call on a closed file raises ValueError") {
        test::LoopFixture fx;
        auto main = []() -> aio::Coro<std::vector<std::string>> {
            std::vector<std::string> got;
            aio::TextFile t = co_await aio::open("/dev/null", "r+");
            co_await t.close();
            got.push_back(co_await test::raised(t.read()));
            got.push_back(co_await test::raised(t.readline()));
            got.push_back(co_await test::raised(t.readlines()));
            got.push_back(co_await test::raised(t.write("x")));
            got.push_back(co_await test::raised(t.seek(0)));
            got.push_back(co_await test::raised(t.tell()));
            got.push_back(co_await test::raised(t.flush()));
            got.push_back(co_await test::raised(t.truncate()));
            aio::AsyncGenerator<std::string> lines = t.lines();
            got.push_back(co_await test::raised(lines.next()));
            aio::BinaryFile b = co_await aio::open<aio::bytes>("/dev/null", "r+b");
            co_await b.close();
            got.push_back(co_await test::raised(b.read()));
            got.push_back(co_await test::raised(b.write("x"_b)));
            got.push_back(co_await test::raised(b.tell()));
            co_return got;
        };
        std::string closed = "ValueError: I/O operation on closed file.";
        std::vector<std::string> expected = {closed,
                                             closed,
                                             closed,
                                             closed,
                                             closed,
                                             closed,
                                             closed,
                                             closed,
                                             closed,
                                             "ValueError: read of closed file",
                                             "ValueError: write to closed file",
                                             "ValueError: I/O operation on closed file"};
        CHECK(test::run_files(*fx.loop, main()) == expected);
    }

    TEST_CASE("files: text that is not UTF-8 raises Python's decode error") {
        test::LoopFixture fx;
        test::TempDir dir;
        test::put(dir / "bad.txt", "\xff\n");
        auto main = [](std::string path) -> aio::Coro<std::string> {
            aio::TextFile f = co_await aio::open(path);
            std::string what = co_await test::raised(f.read());
            co_await f.close();
            co_return what;
        };
        CHECK(test::run_files(*fx.loop, main(dir / "bad.txt")) ==
              "ValueError: 'utf-8' codec can't decode byte 0xff in position 0: invalid start byte");
    }
}
