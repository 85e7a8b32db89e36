// files.hpp - files read and written without blocking the loop, as aiofiles does
// (aiofiles.open, aiofiles.threadpool: each call run_in_executor on the default executor).
//
//   async with aiofiles.open("a.txt") as f:      co_await aio::async_with(aio::open("a.txt"),
//       text = await f.read()                        [](aio::TextFile& f) -> aio::Coro<void> {
//                                                        std::string text = co_await f.read();
//                                                    });
//   f = await aiofiles.open("a.bin", "rb")       aio::BinaryFile f = co_await
//   aio::open<aio::bytes>( data = await f.read() "a.bin", "rb");
//                                                aio::bytes data = co_await f.read();
//
// A regular file is always "ready" to select/poll and epoll refuses it (EPERM), so
// lesson 1's readiness cannot wait for a disk: every call is a job for lesson 3's
// default executor, and the task awaits its future (README: "Files: why a regular file
// goes through a thread"). One job per call; the job holds the file's mutex while it
// runs stdio's buffered calls (few system calls, as Python's BufferedReader).
//
// Text or binary: Python's read() gives str for "r" and bytes for "rb", decided at run
// time. A C++ type is fixed at compile time, so the choice is made twice: the mode's
// 'b' and the type asked for (aio::open gives a TextFile, aio::open<aio::bytes> a
// BinaryFile); a mismatch raises ValueError at open. Text is UTF-8 only (encoding=
// "utf-8"): reads are checked (ValueError, Python's UnicodeDecodeError text), read(n)
// counts characters, lines end at '\n' only (as Python's newline="\n": '\r\n' is
// kept; Python's default newline=None would give '\n').
//
// Invariants:
//  - Calls on one file run one at a time, in the order they were made (a FIFO of turns
//    on the loop thread; aiofiles lets two calls race on one file object: two threads in
//    one buffered file at once). A turn ends when the job has finished in its thread,
//    not when its awaiter stops waiting.
//  - Cancelling an await does not stop the thread (nothing can, safely): the call runs
//    to the end. A cancelled read's data is dropped and the position is past it (tell()
//    says where); a cancelled write is written. Calls made later wait for it.
//  - detail::FileIO (the FILE*) is touched by workers only, under its mutex; the turns
//    (detail::FileCore) by the loop thread only.
// Differences from Python: a write or flush error names the file ("[Errno 28] No space
// left on device: '/dev/full'"; Python names none); UnsupportedOperation is a
// ValueError only (C++ cannot derive from OSError and ValueError without two
// std::exception bases); errors other than open's come from stdio's buffer, so a write
// error may show at the write or at a later flush/close, as in Python.
#pragma once

#include <cstdint>
#include <cstdio>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "lesson01_loop/exceptions.hpp"
#include "lesson02_coroutines/async_generators.hpp"
#include "lesson02_coroutines/coroutines.hpp"
#include "lesson05_io/bytes.hpp"

namespace aio {

// Python: io.UnsupportedOperation ("not readable", "not writable", "truncate"). Python's
// is both an OSError and a ValueError; here a ValueError (see above).
class UnsupportedOperation : public ValueError {
public:
    using ValueError::ValueError;
    Name python_name() const noexcept override {
        return {"io.UnsupportedOperation", typeid(UnsupportedOperation)};
    }
};

namespace detail {
class FileCore;
// Python: _io.open's mode checks, with its texts ("invalid mode: 'q'", "must have exactly
// one of create/read/write/append mode", ...). Gives the open(2) flags.
int parse_file_mode(const std::string& mode, bool* binary);
}  // namespace detail

// What text and binary files share (aiofiles: AsyncBase and the delegated methods).
// A handle: copies refer to one open file. Each call runs on the default executor.
class FileBase {
public:
    // Python: f.seek(offset, whence): the new position. Text files allow only seeks to
    // a position tell() gave, or to the start or end (offset 0), as TextIOWrapper.
    Coro<std::int64_t> seek(std::int64_t offset, int whence = SEEK_SET);
    Coro<std::int64_t> tell();  // Python: f.tell()
    Coro<void> flush();         // Python: f.flush(); raises what writing the buffer met
    // Python: f.truncate(size=None): size defaults to the position, which stays put.
    Coro<std::int64_t> truncate(std::optional<std::int64_t> size = std::nullopt);
    // Python: f.close(): flushes, then closes even if the flush failed (and raises its
    // error). A second close does nothing.
    Coro<void> close();

    const std::string& name() const noexcept;  // Python: f.name, the path as given
    const std::string& mode() const noexcept;  // Python: f.mode
    bool closed() const noexcept;              // Python: f.closed (after close() ended)
    // Python's repr of the wrapped file: <_io.TextIOWrapper name='a.txt' mode='r'
    // encoding='UTF-8'>, <_io.BufferedReader name='a.bin'>.
    std::string repr() const;

protected:
    explicit FileBase(std::shared_ptr<detail::FileCore> core) noexcept : core_(std::move(core)) {}
    std::shared_ptr<detail::FileCore> core_;
};

// A file opened in text mode: str in Python, UTF-8 std::string here.
class TextFile : public FileBase {
public:
    explicit TextFile(std::shared_ptr<detail::FileCore> core) noexcept
        : FileBase(std::move(core)) {}
    // Python: f.read(n=-1): n characters, or all to EOF if n < 0; "" at EOF.
    Coro<std::string> read(std::int64_t n = -1);
    Coro<std::string> readline();                // with its '\n'; "" at EOF
    Coro<std::vector<std::string>> readlines();  // every line left
    Coro<std::size_t> write(std::string data);   // characters written
    Coro<void> writelines(std::vector<std::string> lines);
    // `async for line in f`: AsyncGenerator<std::string> lines = f.lines();
    //     while (std::optional<std::string> line = co_await lines.next()) ...
    // One readline job per line, as aiofiles' __anext__.
    AsyncGenerator<std::string> lines() const;
};

// A file opened in binary mode ("rb", "wb", ...): bytes.
class BinaryFile : public FileBase {
public:
    explicit BinaryFile(std::shared_ptr<detail::FileCore> core) noexcept
        : FileBase(std::move(core)) {}
    Coro<bytes> read(std::int64_t n = -1);  // n bytes (fewer at EOF), all if n < 0
    Coro<bytes> readline();
    Coro<std::vector<bytes>> readlines();
    Coro<std::size_t> write(bytes data);  // bytes written
    Coro<void> writelines(std::vector<bytes> lines);
    AsyncGenerator<bytes> lines() const;
};

namespace detail {
// The executor job that opens the file; `opened` keeps it for the opener's aexit.
Coro<TextFile> open_text(std::string path, std::string mode,
                         std::shared_ptr<std::shared_ptr<FileCore>> opened);
Coro<BinaryFile> open_binary(std::string path, std::string mode,
                             std::shared_ptr<std::shared_ptr<FileCore>> opened);
Coro<void> close_opened(std::shared_ptr<std::shared_ptr<FileCore>> opened);
}  // namespace detail

// aiofiles: AiofilesContextManager, what aiofiles.open returns: awaited, it opens the
// file (`f = await aiofiles.open(p)`); in lesson 2's async_with it opens the file, gives
// it to the body and closes it after, whether the body returned or threw.
template <class F>
class FileOpener {
public:
    FileOpener(std::string path, std::string mode) : opened_(std::make_shared<Slot>()) {
        if constexpr (std::is_same_v<F, TextFile>)
            open_ = detail::open_text(std::move(path), std::move(mode), opened_);
        else
            open_ = detail::open_binary(std::move(path), std::move(mode), opened_);
    }
    // co_await aio::open(p): the file.
    auto operator co_await() && noexcept { return std::move(open_).operator co_await(); }
    // async with aiofiles.open(p) as f:
    Coro<F> aenter() { return std::move(open_); }
    Coro<void> aexit(std::exception_ptr) { return detail::close_opened(opened_); }

private:
    using Slot = std::shared_ptr<detail::FileCore>;
    Coro<F> open_;
    std::shared_ptr<Slot> opened_;
};

// aiofiles.open(path, mode="r"). Modes are Python's: one of "r", "w", "a", "x", with
// "+" (read and write) and "t" or "b". T is std::string for text, aio::bytes for binary
// ("b" in the mode). Nothing happens until it is awaited; then open(2) runs on the
// executor and errors are raised there, as Python's: FileNotFoundError: [Errno 2] No
// such file or directory: 'missing.txt'; IsADirectoryError; FileExistsError for "x";
// ValueError("invalid mode: 'q'") for a bad mode.
template <class T = std::string>
FileOpener<std::conditional_t<std::is_same_v<T, bytes>, BinaryFile, TextFile>> open(
    std::string path, std::string mode = std::is_same_v<T, bytes> ? "rb" : "r") {
    static_assert(std::is_same_v<T, std::string> || std::is_same_v<T, bytes>,
                  "aio::open<T>: T is std::string (text) or aio::bytes (binary)");
    return {std::move(path), std::move(mode)};
}

}  // namespace aio
