// files.cpp - the loop's side of files.hpp: the mode, the turns that keep one file's
// calls in order, and each call as one job on the default executor (aiofiles:
// threadpool/utils.py's delegate_to_executor, which wraps each method in
// loop.run_in_executor(None, partial(method, ...))).
//
//   call ── take_turn (FIFO per file) ── run_in_executor(job) ── shield ── result
//                                          │ worker: lock FileIO, call stdio
//                                          └ done (on the loop): release_turn
//
// The turn is released by the job's own future, not by the awaiter, so a cancelled
// awaiter leaves its job running and the next call waits for it (files.hpp).
#include "lesson05_io/files.hpp"

#include <fcntl.h>

#include <deque>
#include <functional>
#include <mutex>
#include <utility>

#include "lesson01_loop/builtins.hpp"
#include "lesson01_loop/events.hpp"
#include "lesson02_coroutines/futures.hpp"
#include "lesson03_tasks/shield.hpp"
#include "lesson03_tasks/threads.hpp"
#include "lesson05_io/file_io.hpp"

namespace aio {

namespace detail {

// One open file as the loop sees it. The FileIO is shared with the jobs in flight, so a
// file dropped while a job runs is closed when the job lets go of it.
class FileCore {
public:
    FileCore(std::shared_ptr<FileIO> io, std::string name, std::string mode, bool binary)
        : io(std::move(io)), name(std::move(name)), mode(std::move(mode)), binary(binary) {}
    void release_turn();

    // Fixed.
    const std::shared_ptr<FileIO> io;
    const std::string name;
    const std::string mode;  // Python's f.mode
    const bool binary;
    // Loop thread only.
    bool busy = false;                 // a call has the turn (its job may be running)
    std::deque<Future<void>> waiting;  // later calls, first come first served
};

// The next call waiting (and not cancelled meanwhile) gets the turn.
void FileCore::release_turn() {
    while (!waiting.empty()) {
        Future<void> next = std::move(waiting.front());
        waiting.pop_front();
        if (next.done()) continue;  // its awaiter was cancelled
        next.set_result();
        return;
    }
    busy = false;
}

namespace {

using FileJob = std::function<void(FileIO&)>;

// Waits for this file's turn. A task cancelled after the turn was handed to it passes
// the turn on (asyncio's Lock does the same in acquire).
Coro<void> take_turn(std::shared_ptr<FileCore> core) {
    if (!core->busy) {
        core->busy = true;
        co_return;
    }
    Future<void> turn(get_running_loop());
    core->waiting.push_back(turn);
    try {
        co_await turn;
    } catch (...) {
        if (turn.done() && !turn.cancelled()) core->release_turn();
        throw;
    }
}

// Posts `job` (the turn is held); the turn is released when it has run, or at once if
// it could not be posted (a closed loop, a shut-down executor).
Future<void> start_job(const std::shared_ptr<FileCore>& core, FileJob job) {
    std::shared_ptr<FileIO> io = core->io;
    auto run = [io, job = std::move(job)] {
        std::lock_guard lock(io->mutex());
        job(*io);
    };
    std::optional<Future<void>> done;
    try {
        done.emplace(run_in_executor(get_running_loop(), nullptr, std::move(run)));
    } catch (...) {
        core->release_turn();
        throw;
    }
    done->add_done_callback([core](Future<void>& f) {
        if (!f.cancelled()) (void)f.exception();  // the awaiter may be gone: seen here
        core->release_turn();
    });
    return *done;
}

// One call: its turn, its job on a worker, its outcome. Cancelling the await stops the
// waiting only (shield): the job runs to the end and releases the turn itself.
Coro<void> run_job(std::shared_ptr<FileCore> core, FileJob job) {
    co_await take_turn(core);
    Future<void> done = start_job(core, std::move(job));
    Future<void> waited = shield(done);
    co_await waited;
}

// A job that stores fn(io) in *out, for the caller to take once the job is done.
template <class R, class Fn>
FileJob job_into(std::shared_ptr<R> out, Fn fn) {
    return [out, fn](FileIO& io) { *out = fn(io); };
}

// Python: FileIO's mode attribute, what a binary file's f.mode gives ("w+b" is "rb+").
std::string binary_mode(int flags) {
    bool plus = (flags & O_ACCMODE) == O_RDWR;
    const char* base = (flags & O_EXCL)                  ? "xb"
                       : (flags & O_APPEND)              ? "ab"
                       : plus                            ? "rb"
                       : (flags & O_ACCMODE) == O_WRONLY ? "wb"
                                                         : "rb";
    return std::string(base) + (plus ? "+" : "");
}

// aiofiles.open's body: the mode checked, open(2) on the executor, the file kept in
// `opened` for the opener's aexit.
Coro<std::shared_ptr<FileCore>> open_core(std::string path, std::string mode, bool binary,
                                          std::shared_ptr<std::shared_ptr<FileCore>> opened) {
    bool is_binary = false;
    int flags = parse_file_mode(mode, &is_binary);
    if (is_binary && !binary)
        throw ValueError("binary mode " + detail::string_repr(mode) +
                         " needs aio::open<aio::bytes>");
    if (!is_binary && binary)
        throw ValueError("aio::open<aio::bytes> needs a binary mode, not " +
                         detail::string_repr(mode));
    auto open_file = [path, flags, binary] {
        return std::shared_ptr<FileIO>(FileIO::open(path, flags, binary));
    };
    Future<std::shared_ptr<FileIO>> job = run_in_executor(get_running_loop(), nullptr, open_file);
    std::shared_ptr<FileIO> io = co_await job;
    auto core =
        std::make_shared<FileCore>(std::move(io), path, binary ? binary_mode(flags) : mode, binary);
    *opened = core;
    co_return core;
}

// The calls text and binary files share, on std::string.
Coro<std::string> file_read(std::shared_ptr<FileCore> core, std::int64_t n) {
    auto out = std::make_shared<std::string>();
    FileJob job = job_into(out, [n](FileIO& io) { return io.read(n); });
    co_await run_job(std::move(core), std::move(job));
    co_return std::move(*out);
}

Coro<std::string> file_readline(std::shared_ptr<FileCore> core) {
    auto out = std::make_shared<std::string>();
    FileJob job = job_into(out, [](FileIO& io) { return io.readline(); });
    co_await run_job(std::move(core), std::move(job));
    co_return std::move(*out);
}

Coro<std::vector<std::string>> file_readlines(std::shared_ptr<FileCore> core) {
    auto out = std::make_shared<std::vector<std::string>>();
    FileJob job = job_into(out, [](FileIO& io) { return io.readlines(); });
    co_await run_job(std::move(core), std::move(job));
    co_return std::move(*out);
}

Coro<std::size_t> file_write(std::shared_ptr<FileCore> core, std::string data) {
    auto out = std::make_shared<std::size_t>();
    auto shared = std::make_shared<std::string>(std::move(data));
    FileJob job = job_into(out, [shared](FileIO& io) { return io.write(*shared); });
    co_await run_job(std::move(core), std::move(job));
    co_return *out;
}

Coro<void> file_writelines(std::shared_ptr<FileCore> core, std::vector<std::string> lines) {
    auto shared = std::make_shared<std::vector<std::string>>(std::move(lines));
    FileJob job = [shared](FileIO& io) { io.writelines(*shared); };
    co_await run_job(std::move(core), std::move(job));
}

// `async for line in f`: aiofiles' __anext__, a readline until "".
AsyncGenerator<std::string> file_lines(std::shared_ptr<FileCore> core) {
    for (;;) {
        Coro<std::string> next = file_readline(core);
        std::string line = co_await std::move(next);
        if (line.empty()) co_return;
        co_yield std::move(line);
    }
}

AsyncGenerator<bytes> binary_lines(std::shared_ptr<FileCore> core) {
    for (;;) {
        Coro<std::string> next = file_readline(core);
        std::string line = co_await std::move(next);
        if (line.empty()) co_return;
        co_yield bytes(std::move(line));
    }
}

}  // namespace

// Python: _io.open's checks, in its order, with its texts.
int parse_file_mode(const std::string& mode, bool* binary) {
    bool creating = false, reading = false, writing = false, appending = false;
    bool updating = false, text = false, is_binary = false;
    for (std::size_t i = 0; i < mode.size(); ++i) {
        char c = mode[i];
        bool* flag = c == 'x'   ? &creating
                     : c == 'r' ? &reading
                     : c == 'w' ? &writing
                     : c == 'a' ? &appending
                     : c == '+' ? &updating
                     : c == 't' ? &text
                     : c == 'b' ? &is_binary
                                : nullptr;
        if (!flag || mode.find(c, i + 1) != std::string::npos)
            throw ValueError("invalid mode: '" + mode + "'");
        *flag = true;
    }
    if (text && is_binary) throw ValueError("can't have text and binary mode at once");
    int kinds = creating + reading + writing + appending;
    if (kinds > 1) throw ValueError("must have exactly one of create/read/write/append mode");
    if (kinds == 0)
        throw ValueError(
            "Must have exactly one of create/read/write/append mode and at most one plus");
    *binary = is_binary;
    int flags = reading     ? O_RDONLY
                : writing   ? O_WRONLY | O_CREAT | O_TRUNC
                : appending ? O_WRONLY | O_CREAT | O_APPEND
                            : O_WRONLY | O_CREAT | O_EXCL;
    if (updating) flags = (flags & ~O_ACCMODE) | O_RDWR;
    return flags;
}

Coro<TextFile> open_text(std::string path, std::string mode,
                         std::shared_ptr<std::shared_ptr<FileCore>> opened) {
    Coro<std::shared_ptr<FileCore>> open =
        open_core(std::move(path), std::move(mode), false, opened);
    co_return TextFile(co_await std::move(open));
}

Coro<BinaryFile> open_binary(std::string path, std::string mode,
                             std::shared_ptr<std::shared_ptr<FileCore>> opened) {
    Coro<std::shared_ptr<FileCore>> open =
        open_core(std::move(path), std::move(mode), true, opened);
    co_return BinaryFile(co_await std::move(open));
}

Coro<void> close_opened(std::shared_ptr<std::shared_ptr<FileCore>> opened) {
    if (!*opened) co_return;  // the open failed: nothing to close
    FileJob job = [](FileIO& io) { io.close(); };
    co_await run_job(*opened, std::move(job));
}

}  // namespace detail

// ---- FileBase ---------------------------------------------------------------------------

Coro<std::int64_t> FileBase::seek(std::int64_t offset, int whence) {
    auto out = std::make_shared<std::int64_t>();
    detail::FileJob job = detail::job_into(
        out, [offset, whence](detail::FileIO& io) { return io.seek(offset, whence); });
    co_await detail::run_job(core_, std::move(job));
    co_return *out;
}

Coro<std::int64_t> FileBase::tell() {
    auto out = std::make_shared<std::int64_t>();
    detail::FileJob job = detail::job_into(out, [](detail::FileIO& io) { return io.tell(); });
    co_await detail::run_job(core_, std::move(job));
    co_return *out;
}

Coro<void> FileBase::flush() {
    detail::FileJob job = [](detail::FileIO& io) { io.flush(); };
    co_await detail::run_job(core_, std::move(job));
}

Coro<std::int64_t> FileBase::truncate(std::optional<std::int64_t> size) {
    auto out = std::make_shared<std::int64_t>();
    detail::FileJob job =
        detail::job_into(out, [size](detail::FileIO& io) { return io.truncate(size); });
    co_await detail::run_job(core_, std::move(job));
    co_return *out;
}

Coro<void> FileBase::close() {
    detail::FileJob job = [](detail::FileIO& io) { io.close(); };
    co_await detail::run_job(core_, std::move(job));
}

const std::string& FileBase::name() const noexcept { return core_->name; }
const std::string& FileBase::mode() const noexcept { return core_->mode; }
bool FileBase::closed() const noexcept { return core_->io->closed(); }

std::string FileBase::repr() const {
    const detail::FileCore& c = *core_;
    if (!c.binary)
        return "<_io.TextIOWrapper name=" + detail::string_repr(c.name) +
               " mode=" + detail::string_repr(c.mode) + " encoding='UTF-8'>";
    bool plus = c.mode.back() == '+';
    const char* kind = plus               ? "BufferedRandom"
                       : c.mode[0] == 'r' ? "BufferedReader"
                                          : "BufferedWriter";
    return std::string("<_io.") + kind + " name=" + detail::string_repr(c.name) + ">";
}

// ---- TextFile: the shared calls as they are ---------------------------------------------

Coro<std::string> TextFile::read(std::int64_t n) { return detail::file_read(core_, n); }
Coro<std::string> TextFile::readline() { return detail::file_readline(core_); }
Coro<std::vector<std::string>> TextFile::readlines() { return detail::file_readlines(core_); }
Coro<std::size_t> TextFile::write(std::string data) {
    return detail::file_write(core_, std::move(data));
}
Coro<void> TextFile::writelines(std::vector<std::string> lines) {
    return detail::file_writelines(core_, std::move(lines));
}
AsyncGenerator<std::string> TextFile::lines() const { return detail::file_lines(core_); }

// ---- BinaryFile: the same calls, their strings as bytes --------------------------------

Coro<bytes> BinaryFile::read(std::int64_t n) {
    Coro<std::string> call = detail::file_read(core_, n);
    co_return bytes(co_await std::move(call));
}

Coro<bytes> BinaryFile::readline() {
    Coro<std::string> call = detail::file_readline(core_);
    co_return bytes(co_await std::move(call));
}

Coro<std::vector<bytes>> BinaryFile::readlines() {
    Coro<std::vector<std::string>> call = detail::file_readlines(core_);
    std::vector<std::string> lines = co_await std::move(call);
    std::vector<bytes> out;
    out.reserve(lines.size());
    for (std::string& line : lines) out.emplace_back(std::move(line));
    co_return out;
}

Coro<std::size_t> BinaryFile::write(bytes data) {
    return detail::file_write(core_, std::move(data).release());
}

Coro<void> BinaryFile::writelines(std::vector<bytes> lines) {
    std::vector<std::string> data;
    data.reserve(lines.size());
    for (bytes& line : lines) data.push_back(std::move(line).release());
    return detail::file_writelines(core_, std::move(data));
}

AsyncGenerator<bytes> BinaryFile::lines() const { return detail::binary_lines(core_); }

}  // namespace aio
