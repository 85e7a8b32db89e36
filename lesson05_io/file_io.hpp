// file_io.hpp - the blocking half of files.hpp: one open file as stdio's FILE*, and the
// calls an executor job makes on it (Python: io.FileIO under io.BufferedReader/Writer/
// Random and io.TextIOWrapper, UTF-8 only).
//
// Everything here blocks, and runs on a worker thread of the default executor, never on
// the loop's. The caller holds mutex() for the whole call (files.cpp's jobs do), so one
// call at a time touches the FILE*, whichever worker runs it. stdio buffers (few system
// calls, as Python's buffered layer) and needs a flush or a seek between a write and a
// read on one stream: switch_to() does that, as Python's BufferedRandom does itself.
//
// Errors are Python's, with Python's texts for each layer: text files say "not
// readable" and "I/O operation on closed file."; binary files say "read", "read of
// closed file" (io.BufferedReader's own words). OSErrors name the file.
#pragma once

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace aio::detail {

class FileIO {
public:
    // open(2) with O_CLOEXEC, then fdopen: throws Python's OSError for the path
    // (FileNotFoundError, IsADirectoryError, FileExistsError, ...). `flags` come from
    // parse_file_mode.
    static std::unique_ptr<FileIO> open(const std::string& path, int flags, bool binary);
    ~FileIO();  // a file never closed is closed here (Python: __del__ closes it)
    FileIO(const FileIO&) = delete;
    FileIO& operator=(const FileIO&) = delete;

    std::mutex& mutex() noexcept { return mutex_; }
    bool closed() const noexcept { return closed_.load(std::memory_order_acquire); }

    // Each: the caller holds mutex().
    std::string read(std::int64_t n);
    std::string readline();
    std::vector<std::string> readlines();
    std::size_t write(const std::string& data);
    void writelines(const std::vector<std::string>& lines);
    std::int64_t seek(std::int64_t offset, int whence);
    std::int64_t tell();
    void flush();
    std::int64_t truncate(std::optional<std::int64_t> size);
    void close();

private:
    FileIO(std::FILE* file, std::string path, int flags, bool binary) noexcept;
    enum class Op { none, read, write };
    void check_open(const char* op) const;
    void check_readable();
    void check_writable(const char* op);
    void switch_to(Op op);
    [[noreturn]] void raise_errno(int err) const;
    std::string checked_text(std::string data) const;
    std::string read_chars(std::int64_t n);
    std::string read_all();

    // Fixed.
    const std::string path_;
    const bool readable_;
    const bool writable_;
    const bool binary_;
    // Guarded by mutex_.
    std::mutex mutex_;
    std::FILE* file_;  // null once closed
    Op last_ = Op::none;
    // Written under mutex_, read by the loop thread for FileBase::closed().
    std::atomic<bool> closed_{false};
};

}  // namespace aio::detail
