// test_bytes.cpp - aio::bytes prints, decodes and compares as Python's bytes.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "lesson01_loop/builtins.hpp"
#include "lesson01_loop/exceptions.hpp"
#include "lesson05_io/bytes.hpp"

using aio::bytes;
using namespace aio::literals;

TEST_SUITE("lesson05") {
    TEST_CASE("bytes repr quotes and escapes as Python's: b'...' with \\x for the rest") {
        CHECK(aio::repr("hello\n"_b) == "b'hello\\n'");
        CHECK(aio::repr("it's"_b) == "b\"it's\"");
        CHECK(aio::repr("it's \"x\""_b) == "b'it\\'s \"x\"'");
        CHECK(aio::repr("\x00\xff\t\r\\"_b) == "b'\\x00\\xff\\t\\r\\\\'");
        CHECK(aio::repr(bytes()) == "b''");
    }

    TEST_CASE("str and print of bytes show the repr, inside containers too") {
        CHECK(aio::str("ok"_b) == "b'ok'");
        CHECK(aio::repr(std::vector<bytes>{"a"_b, "b"_b}) == "[b'a', b'b']");
    }

    TEST_CASE("a bytes literal keeps embedded zeros; bytes(n) is n zero bytes") {
        CHECK("a\0b"_b.size() == 3);
        CHECK(bytes(std::size_t{4}) == bytes(std::string(4, '\0')));
        CHECK("ab"_b[1] == 98);
        CHECK("\xff"_b[0] == 255);
    }

    TEST_CASE("decode gives the UTF-8 text; bad UTF-8 raises Python's message") {
        CHECK("caf\xc3\xa9"_b.decode() == "caf\xc3\xa9");
        auto message = [](bytes b) {
            try {
                b.decode();
            } catch (const aio::ValueError& e) {
                return std::string(e.what());
            }
            return std::string("no exception");
        };
        CHECK(message("\xff"_b) ==
              "'utf-8' codec can't decode byte 0xff in position 0: "
              "invalid start byte");
        CHECK(message("ab\xc3"_b) ==
              "'utf-8' codec can't decode byte 0xc3 in position 2: "
              "unexpected end of data");
        CHECK(message("\xe0\x80\x80"_b) ==
              "'utf-8' codec can't decode byte 0xe0 in position 0: "
              "invalid continuation byte");
        CHECK(message("\xed\xa0\x80"_b) ==
              "'utf-8' codec can't decode byte 0xed in position 0: "
              "invalid continuation byte");
    }

    TEST_CASE("slice clamps as Python's b[start:stop]; find, startswith, endswith, +") {
        bytes b = "hello world"_b;
        CHECK(b.slice(0, 5) == "hello"_b);
        CHECK(b.slice(6) == "world"_b);
        CHECK(b.slice(20, 30) == bytes());
        CHECK(b.slice(5, 2) == bytes());
        CHECK(b.find("o") == 4);
        CHECK(b.find("o", 5) == 7);
        CHECK(b.find("z") == std::string::npos);
        CHECK(b.startswith("hello"));
        CHECK(b.endswith("world"));
        CHECK_FALSE(b.endswith("hello world!"));
        CHECK("ab"_b + "cd"_b == "abcd"_b);
        CHECK(aio::encode("text") == "text"_b);
    }
}
