// bytes.hpp - aio::bytes, Python's bytes: what a socket gives and takes.
//
// Python keeps text (str) and data (bytes) apart: a socket's recv() gives bytes, and a
// program decodes them to print. A ported echo server prints what CPython prints only
// if its data prints as b'hello\n', not as 'hello\n', so data has a type of its own:
//
//   aio::bytes data = co_await reader.read(100);     // data = await reader.read(100)
//   std::string message = data.decode();             // message = data.decode()
//   aio::print("Received", data);                    // Received b'hello'
//   writer.write("hello"_b);                         // writer.write(b"hello")
//   writer.write(aio::encode(message));              // writer.write(message.encode())
//
// It is a std::string underneath (contiguous, no allocation up to 15 bytes), holding
// any bytes, zeros included. It is not convertible to a string implicitly: that is the
// line Python draws. What C++ cannot draw is the other side: writes also take text
// (`writer.write(std::string_view)`), where Python raises TypeError for a str.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>

namespace aio {

class bytes {
public:
    bytes() = default;
    explicit bytes(std::string data) noexcept : data_(std::move(data)) {}
    bytes(const char* data, std::size_t size) : data_(data, size) {}
    // Python: bytes(n), n zero bytes.
    explicit bytes(std::size_t size) : data_(size, '\0') {}

    std::size_t size() const noexcept { return data_.size(); }  // Python: len(b)
    bool empty() const noexcept { return data_.empty(); }       // Python: not b
    const char* data() const noexcept { return data_.data(); }
    char* data() noexcept { return data_.data(); }
    // Python: b[i] is an int in 0..255.
    int operator[](std::size_t i) const noexcept { return static_cast<unsigned char>(data_[i]); }
    const char* begin() const noexcept { return data_.data(); }
    const char* end() const noexcept { return data_.data() + data_.size(); }

    // The bytes as they are, for C++ code that wants a view (no copy, no check).
    std::string_view view() const noexcept { return data_; }
    // Python: b.decode() (UTF-8). Throws ValueError ("'utf-8' codec can't decode byte
    // 0xff in position 0: invalid start byte") if the bytes are not UTF-8.
    std::string decode() const;
    // Python: repr(b), b'hello\n'; also what str(b) and print(b) show.
    std::string repr() const;

    // Python: b[start:stop] with 0 <= start <= stop <= len(b) (clamped, as slices are).
    bytes slice(std::size_t start, std::size_t stop = std::string::npos) const;
    // Python: b.find(sub, start); npos (not -1) when absent.
    std::size_t find(std::string_view sub, std::size_t start = 0) const noexcept {
        return data_.find(sub, start);
    }
    bool startswith(std::string_view prefix) const noexcept;
    bool endswith(std::string_view suffix) const noexcept;

    bytes& operator+=(const bytes& more) {
        data_ += more.data_;
        return *this;
    }
    friend bytes operator+(bytes a, const bytes& b) { return std::move(a += b); }
    friend bool operator==(const bytes&, const bytes&) = default;

    // Gives the storage away (a StreamReader's buffer, a transport's write queue).
    std::string release() && noexcept { return std::move(data_); }

private:
    std::string data_;
};

// Python: s.encode() (UTF-8 text to bytes: a copy, since C++ text is bytes already).
inline bytes encode(std::string_view text) { return bytes(text.data(), text.size()); }

inline namespace literals {
// Python's b"..." literal: "hello\n"_b. Embedded zeros count ("a\0b"_b has 3 bytes).
inline bytes operator""_b(const char* data, std::size_t size) { return bytes(data, size); }
}  // namespace literals

}  // namespace aio
