// file_io.cpp - the blocking calls of one open file, run by the executor's workers
// (file_io.hpp says who holds what). Python's texts are kept per layer: see
// check_open and the readable/writable checks.
#include "lesson05_io/file_io.hpp"

#include <fcntl.h>
#include <stdio.h>  // getline, fileno, fseeko, getc_unlocked (POSIX)
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <string>
#include <utility>

#include "lesson01_loop/exceptions.hpp"
#include "lesson05_io/bytes.hpp"
#include "lesson05_io/exceptions.hpp"
#include "lesson05_io/files.hpp"

namespace aio::detail {

namespace {

// The fdopen mode for open(2)'s flags (no truncation or creation: open(2) did that).
const char* stdio_mode(int flags) {
    bool append = (flags & O_APPEND) != 0;
    if ((flags & O_ACCMODE) == O_RDWR) return append ? "a+" : "r+";
    if ((flags & O_ACCMODE) == O_WRONLY) return append ? "a" : "w";
    return "r";
}

// UTF-8: a byte that starts a character (not 10xxxxxx).
bool starts_char(int byte) { return (byte & 0xC0) != 0x80; }

std::size_t count_chars(const std::string& text) {
    std::size_t n = 0;
    for (char c : text) n += starts_char(static_cast<unsigned char>(c));
    return n;
}

}  // namespace

// asyncio has no open; this is Python's io.open: FileIO's open(2) (O_CLOEXEC, mode
// 0666 less the umask), its fstat that refuses a directory opened for reading, then
// the buffered layer (here stdio's). Append modes start at the end, as Python's.
std::unique_ptr<FileIO> FileIO::open(const std::string& path, int flags, bool binary) {
    int fd = ::open(path.c_str(), flags | O_CLOEXEC, 0666);
    if (fd < 0) throw_os_error(errno, {}, path);
    struct stat st {};
    if (::fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
        ::close(fd);
        throw_os_error(EISDIR, {}, path);
    }
    std::FILE* file = ::fdopen(fd, stdio_mode(flags));
    if (!file) {
        int err = errno;
        ::close(fd);
        throw_os_error(err, {}, path);
    }
    std::unique_ptr<FileIO> io(new FileIO(file, path, flags, binary));
    if (flags & O_APPEND) ::fseeko(file, 0, SEEK_END);
    return io;
}

FileIO::FileIO(std::FILE* file, std::string path, int flags, bool binary) noexcept
    : path_(std::move(path)),
      readable_((flags & O_ACCMODE) != O_WRONLY),
      writable_((flags & O_ACCMODE) != O_RDONLY),
      binary_(binary),
      file_(file) {}

FileIO::~FileIO() {
    if (file_) std::fclose(file_);
}

// Python checks closed first. Text files say "I/O operation on closed file." for
// everything; binary ones name the call (`op`: "read of closed file").
void FileIO::check_open(const char* op) const {
    if (file_) return;
    throw ValueError(binary_ && op ? op : "I/O operation on closed file.");
}

void FileIO::check_readable() {
    if (!readable_) throw UnsupportedOperation(binary_ ? "read" : "not readable");
    switch_to(Op::read);
}

void FileIO::check_writable(const char* op) {
    if (!writable_) throw UnsupportedOperation(binary_ ? op : "not writable");
    switch_to(Op::write);
}

// C stdio: "output shall not be directly followed by input without an intervening call
// to fflush or to a file positioning function", and the other way round. fseeko(0,
// SEEK_CUR) is both: it writes out what is buffered, and drops read-ahead.
void FileIO::switch_to(Op op) {
    if (last_ != Op::none && last_ != op && ::fseeko(file_, 0, SEEK_CUR) != 0 && errno != ESPIPE)
        raise_errno(errno);
    last_ = op;
}

void FileIO::raise_errno(int err) const {
    std::clearerr(file_);
    throw_os_error(err, {}, path_);
}

// Text is UTF-8: bytes that are not raise Python's decode error (a ValueError here).
std::string FileIO::checked_text(std::string data) const {
    if (binary_) return data;
    return bytes(std::move(data)).decode();
}

std::string FileIO::read(std::int64_t n) {
    check_open("read of closed file");
    check_readable();
    if (n < 0) return checked_text(read_all());
    if (!binary_) return checked_text(read_chars(n));
    std::string out(static_cast<std::size_t>(n), '\0');
    std::size_t got = std::fread(out.data(), 1, out.size(), file_);
    if (got < out.size() && std::ferror(file_)) raise_errno(errno);
    out.resize(got);
    return out;
}

std::string FileIO::read_all() {
    std::string out;
    char chunk[65536];
    while (std::size_t got = std::fread(chunk, 1, sizeof chunk, file_)) out.append(chunk, got);
    if (std::ferror(file_)) raise_errno(errno);
    return out;
}

// Python's TextIOWrapper.read(n): n characters, so a character's continuation bytes
// come along; stops before the first byte of character n + 1.
std::string FileIO::read_chars(std::int64_t n) {
    std::string out;
    std::int64_t chars = 0;
    for (int c; (c = getc_unlocked(file_)) != EOF;) {
        if (starts_char(c) && chars++ == n) {
            std::ungetc(c, file_);
            break;
        }
        out.push_back(static_cast<char>(c));
    }
    if (std::ferror(file_)) raise_errno(errno);
    return out;
}

std::string FileIO::readline() {
    check_open("readline of closed file");
    check_readable();
    char* line = nullptr;
    std::size_t capacity = 0;
    ssize_t got = ::getline(&line, &capacity, file_);
    int err = errno;
    std::string out = got > 0 ? std::string(line, static_cast<std::size_t>(got)) : std::string();
    std::free(line);
    if (got < 0 && std::ferror(file_)) raise_errno(err);
    return checked_text(std::move(out));
}

std::vector<std::string> FileIO::readlines() {
    check_open(nullptr);
    std::vector<std::string> lines;
    while (true) {
        std::string line = readline();
        if (line.empty()) return lines;
        lines.push_back(std::move(line));
    }
}

// Python's write gives the length of what it was given: characters for text. An error
// shows here only if the buffer had to go out; else at a later flush or close.
std::size_t FileIO::write(const std::string& data) {
    check_open("write to closed file");
    check_writable("write");
    if (std::fwrite(data.data(), 1, data.size(), file_) != data.size()) raise_errno(errno);
    return binary_ ? data.size() : count_chars(data);
}

void FileIO::writelines(const std::vector<std::string>& lines) {
    check_open(nullptr);
    for (const std::string& line : lines) write(line);
}

// Python: TextIOWrapper.seek refuses relative seeks other than seek(0, 1) and
// seek(0, 2), and negative positions; BufferedReader leaves those to lseek (EINVAL).
std::int64_t FileIO::seek(std::int64_t offset, int whence) {
    check_open("seek of closed file");
    if (whence < SEEK_SET || whence > SEEK_END)
        throw ValueError(binary_ ? "whence value " + std::to_string(whence) + " unsupported"
                                 : "invalid whence (" + std::to_string(whence) +
                                       ", should be 0, 1 or 2)");
    if (!binary_ && whence == SEEK_CUR && offset != 0)
        throw UnsupportedOperation("can't do nonzero cur-relative seeks");
    if (!binary_ && whence == SEEK_END && offset != 0)
        throw UnsupportedOperation("can't do nonzero end-relative seeks");
    if (!binary_ && offset < 0)
        throw ValueError("negative seek position " + std::to_string(offset));
    if (::fseeko(file_, offset, whence) != 0) raise_errno(errno);
    last_ = Op::none;
    return tell();
}

std::int64_t FileIO::tell() {
    check_open(binary_ ? "I/O operation on closed file" : nullptr);
    off_t at = ::ftello(file_);
    if (at < 0) raise_errno(errno);
    return at;
}

void FileIO::flush() {
    check_open("flush of closed file");
    if (std::fflush(file_) != 0) raise_errno(errno);
}

// Python: truncate(size=None) cuts the file at size (default: the position), writing
// out the buffer first; the position does not move.
std::int64_t FileIO::truncate(std::optional<std::int64_t> size) {
    check_open("truncate of closed file");
    if (!writable_) throw UnsupportedOperation("truncate");
    if (::fseeko(file_, 0, SEEK_CUR) != 0) raise_errno(errno);
    last_ = Op::none;
    std::int64_t at = size ? *size : tell();
    if (::ftruncate(::fileno(file_), at) != 0) raise_errno(errno);
    return at;
}

// fclose writes out the buffer and closes the fd even when the write fails; that
// failure is raised after the file is closed, as Python's close().
void FileIO::close() {
    if (!file_) return;
    std::FILE* file = std::exchange(file_, nullptr);
    int failed = std::fclose(file);
    int err = errno;
    closed_.store(true, std::memory_order_release);
    if (failed != 0) throw_os_error(err, {}, path_);
}

}  // namespace aio::detail
