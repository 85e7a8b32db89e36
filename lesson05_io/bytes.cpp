// bytes.cpp - Python's bytes.decode() and repr(bytes).
#include "lesson05_io/bytes.hpp"

#include <algorithm>
#include <cstdio>

#include "lesson01_loop/exceptions.hpp"

namespace aio {

namespace {

// Python's UnicodeDecodeError text for a bad UTF-8 sequence starting at `at`.
[[noreturn]] void bad_utf8(std::string_view data, std::size_t at, const char* why) {
    char byte[8];
    std::snprintf(byte, sizeof byte, "0x%02x", static_cast<unsigned char>(data[at]));
    throw ValueError("'utf-8' codec can't decode byte " + std::string(byte) + " in position " +
                     std::to_string(at) + ": " + why);
}

// How many continuation bytes a lead byte announces, and the smallest code point that
// length may encode (shorter encodings are "overlong", invalid in UTF-8).
struct Lead {
    int extra;
    unsigned minimum;
};

Lead lead_of(unsigned char c) {
    if (c < 0x80) return {0, 0};
    if ((c & 0xE0) == 0xC0) return {1, 0x80};
    if ((c & 0xF0) == 0xE0) return {2, 0x800};
    if ((c & 0xF8) == 0xF0 && c <= 0xF4) return {3, 0x10000};
    return {-1, 0};
}

}  // namespace

std::string bytes::decode() const {
    std::string_view s = data_;
    for (std::size_t i = 0; i < s.size();) {
        auto c = static_cast<unsigned char>(s[i]);
        Lead lead = lead_of(c);
        if (lead.extra < 0) bad_utf8(s, i, "invalid start byte");
        unsigned code = lead.extra == 0 ? c : c & (0x3F >> lead.extra);
        for (int k = 1; k <= lead.extra; ++k) {
            if (i + k >= s.size()) bad_utf8(s, i, "unexpected end of data");
            auto next = static_cast<unsigned char>(s[i + k]);
            if ((next & 0xC0) != 0x80) bad_utf8(s, i, "invalid continuation byte");
            code = (code << 6) | (next & 0x3F);
        }
        if (code < lead.minimum || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF))
            bad_utf8(s, i, "invalid continuation byte");
        i += 1 + lead.extra;
    }
    return data_;
}

// Python's bytes_repr: single quotes unless the data has ' and no ", then double;
// \t \n \r \\ and the quote escaped; other bytes outside 0x20..0x7e as \xNN.
std::string bytes::repr() const {
    bool has_single = data_.find('\'') != data_.npos;
    bool has_double = data_.find('"') != data_.npos;
    char quote = has_single && !has_double ? '"' : '\'';
    std::string out = "b";
    out += quote;
    for (char ch : data_) {
        auto c = static_cast<unsigned char>(ch);
        if (c == static_cast<unsigned char>(quote) || c == '\\') {
            out += '\\';
            out += ch;
        } else if (c == '\t') {
            out += "\\t";
        } else if (c == '\n') {
            out += "\\n";
        } else if (c == '\r') {
            out += "\\r";
        } else if (c < 0x20 || c >= 0x7F) {
            char hex[5];
            std::snprintf(hex, sizeof hex, "\\x%02x", c);
            out += hex;
        } else {
            out += ch;
        }
    }
    out += quote;
    return out;
}

bytes bytes::slice(std::size_t start, std::size_t stop) const {
    stop = std::min(stop, data_.size());
    start = std::min(start, stop);
    return bytes(data_.substr(start, stop - start));
}

bool bytes::startswith(std::string_view prefix) const noexcept {
    return std::string_view(data_).substr(0, prefix.size()) == prefix;
}

bool bytes::endswith(std::string_view suffix) const noexcept {
    return data_.size() >= suffix.size() &&
           std::string_view(data_).substr(data_.size() - suffix.size()) == suffix;
}

}  // namespace aio
