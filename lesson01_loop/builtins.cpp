// builtins.cpp - the scalar forms of builtins.hpp: Python's repr of a str and of a
// float, and of an exception (CPython: Objects/unicodeobject.c unicode_repr,
// Python/pystrtod.c float_repr_style 'short', Objects/exceptions.c BaseException_repr).
#include "lesson01_loop/builtins.hpp"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <iostream>
#include <system_error>

namespace aio::detail {

namespace {

// "\x07", "\u200b", "\U000e0001": Python's escapes, lowercase hex.
void append_escape(std::string& out, std::uint32_t code) {
    const char* digits = "0123456789abcdef";
    int width = code <= 0xff ? 2 : code <= 0xffff ? 4 : 8;
    out += '\\';
    out += width == 2 ? 'x' : width == 4 ? 'u' : 'U';
    for (int shift = 4 * (width - 1); shift >= 0; shift -= 4) out += digits[(code >> shift) & 0xf];
}

// The non-ASCII code points Python does not print as they are: the C1 controls, the
// invisible spaces and format characters a reader would otherwise not see. (Python asks
// the Unicode database; these are the ones text is likely to hold.)
bool unprintable(std::uint32_t code) {
    return (code >= 0x80 && code <= 0xa0) || code == 0xad || code == 0x1680 || code == 0x180e ||
           (code >= 0x2000 && code <= 0x200f) || (code >= 0x2028 && code <= 0x202f) ||
           (code >= 0x205f && code <= 0x206f) || code == 0x3000 || code == 0xfeff ||
           (code >= 0xe000 && code <= 0xf8ff);
}

// One UTF-8 sequence at the start of `text`: its code point and length, or length 0 if
// it is not valid UTF-8 (a byte string then shows its bytes as \xNN).
std::pair<std::uint32_t, std::size_t> decode_utf8(std::string_view text) {
    auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text[i]); };
    unsigned char lead = byte(0);
    std::size_t len = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc2 ? 2 : 0;
    if (len == 0 || lead > 0xf4 || text.size() < len) return {0, 0};
    std::uint32_t code = lead & (0x7f >> len);
    for (std::size_t i = 1; i < len; ++i) {
        if ((byte(i) & 0xc0) != 0x80) return {0, 0};
        code = (code << 6) | (byte(i) & 0x3f);
    }
    bool overlong = (len == 3 && code < 0x800) || (len == 4 && code < 0x10000);
    if (overlong || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) return {0, 0};
    return {code, len};
}

void append_ascii(std::string& out, char c, char quote) {
    switch (c) {
        case '\\': out += "\\\\"; return;
        case '\t': out += "\\t"; return;
        case '\n': out += "\\n"; return;
        case '\r': out += "\\r"; return;
        default: break;
    }
    if (c == quote) {
        out += '\\';
        out += c;
    } else if (c < 0x20 || c == 0x7f) {
        append_escape(out, static_cast<unsigned char>(c));
    } else {
        out += c;
    }
}

// Python's float_repr_style 'short': the shortest digits that read back the same value,
// laid out fixed for exponents -4..15 ("0.0001", "1e+16" beyond), always with a '.' or an
// exponent so that it reads as a float ("1.0").
template <class F>
std::string shortest_float(F value) {
    if (std::isnan(value)) return "nan";
    if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
    char buf[64];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value, std::chars_format::scientific);
    if (ec != std::errc()) return "nan";                             // cannot happen with 64 bytes
    std::string_view sci(buf, static_cast<std::size_t>(end - buf));  // "-1.25e+03"
    std::string out = sci[0] == '-' ? "-" : "";
    if (sci[0] == '-') sci.remove_prefix(1);
    std::size_t e = sci.find('e');
    std::string digits(sci.substr(0, e));
    if (digits.size() > 1) digits.erase(1, 1);  // drop the '.'
    int exp = std::stoi(std::string(sci.substr(e + 1)));
    int n = static_cast<int>(digits.size());
    if (exp < -4 || exp >= 16) {
        out += digits.substr(0, 1);
        if (n > 1) out += "." + digits.substr(1);
        std::string mag = std::to_string(exp < 0 ? -exp : exp);
        return out + (exp < 0 ? "e-" : "e+") + (mag.size() < 2 ? "0" : "") + mag;
    }
    if (exp < 0) return out + "0." + std::string(static_cast<std::size_t>(-exp - 1), '0') + digits;
    if (exp + 1 >= n)
        return out + digits + std::string(static_cast<std::size_t>(exp + 1 - n), '0') + ".0";
    return out + digits.substr(0, exp + 1) + "." + digits.substr(exp + 1);
}

}  // namespace

// Python's repr(str): single quotes unless the text holds a ' and no ", the quote and
// backslash escaped, \t \n \r, other controls as \xNN; non-ASCII text as it is.
std::string string_repr(std::string_view text) {
    bool single = text.find('\'') != text.npos;
    bool dbl = text.find('"') != text.npos;
    char quote = single && !dbl ? '"' : '\'';
    std::string out(1, quote);
    for (std::size_t i = 0; i < text.size();) {
        if (static_cast<unsigned char>(text[i]) < 0x80) {
            append_ascii(out, text[i++], quote);
            continue;
        }
        auto [code, len] = decode_utf8(text.substr(i));
        if (len == 0) {
            append_escape(out, static_cast<unsigned char>(text[i++]));
        } else {
            if (unprintable(code))
                append_escape(out, code);
            else
                out.append(text.substr(i, len));
            i += len;
        }
    }
    out += quote;
    return out;
}

std::string float_repr(double value) { return shortest_float(value); }
std::string float_repr(float value) { return shortest_float(value); }

// Python's BaseException.__repr__: "ValueError('bad')", "TimeoutError()".
std::string exception_repr(const std::exception& error) {
    std::string out = python_type_name(error, /*qualified=*/false) + "(";
    if (const auto* py = dynamic_cast<const PythonException*>(&error))
        out += py->python_args();
    else if (*error.what())
        out += string_repr(error.what());
    return out + ")";
}

std::string exception_repr(const std::exception_ptr& error) {
    if (!error) return "None";
    try {
        std::rethrow_exception(error);
    } catch (const std::exception& e) {
        return exception_repr(e);
    } catch (...) {
        return "unknown exception (not derived from std::exception)";
    }
}

std::string exception_str(const std::exception_ptr& error) {
    if (!error) return "None";
    try {
        std::rethrow_exception(error);
    } catch (const std::exception& e) {
        return e.what();
    } catch (...) {
        return "unknown exception (not derived from std::exception)";
    }
}

void write_stdout(const std::string& line) {
    std::cout.write(line.data(), static_cast<std::streamsize>(line.size()));
}

}  // namespace aio::detail
