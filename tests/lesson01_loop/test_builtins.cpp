// test_builtins.cpp - aio::repr, aio::str and aio::print print what Python prints, and
// exceptions are named as Python names them (builtins.hpp, exceptions.hpp). Every
// expected string is CPython 3.11's output for the Python value in the comment beside it.
#include <doctest/doctest.h>

#include <array>
#include <cmath>
#include <deque>
#include <iostream>
#include <limits>
#include <list>
#include <map>
#include <optional>
#include <ostream>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <tuple>
#include <utility>
#include <variant>
#include <vector>

#include "lesson01_loop/builtins.hpp"
#include "lesson01_loop/exceptions.hpp"

namespace {

struct Point {
    int x, y;
    std::string repr() const {
        return "Point(x=" + std::to_string(x) + ", y=" + std::to_string(y) + ")";
    }
};

struct Streamed {
    friend std::ostream& operator<<(std::ostream& os, const Streamed&) {
        return os << "<streamed>";
    }
};

struct Opaque {};

enum class Color { red = 1, green = 2 };

class MyError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

class LoopBroke : public aio::RuntimeError {
public:
    using aio::RuntimeError::RuntimeError;
};

// What aio::print wrote to std::cout.
template <class... A>
std::string printed(const A&... values) {
    std::ostringstream captured;
    std::streambuf* old = std::cout.rdbuf(captured.rdbuf());
    aio::print(values...);
    std::cout.rdbuf(old);
    return captured.str();
}

}  // namespace

TEST_SUITE("lesson01") {
    TEST_CASE("repr: a list, a nested list and an empty one") {
        CHECK(aio::repr(std::vector<int>{1, 2, 3}) == "[1, 2, 3]");         // [1, 2, 3]
        CHECK(aio::repr(std::vector<std::vector<int>>{{1, 2}, {}, {3}}) ==  // [[1, 2], [], [3]]
              "[[1, 2], [], [3]]");
        CHECK(aio::repr(std::vector<int>{}) == "[]");
        CHECK(aio::repr(std::array<int, 2>{4, 5}) == "[4, 5]");
        CHECK(aio::repr(std::list<int>{6}) == "[6]");
        CHECK(aio::repr(std::deque<bool>{true, false}) == "[True, False]");
    }

    TEST_CASE("repr: tuples and pairs, with Python's (x,) for one item") {
        CHECK(aio::repr(std::tuple{1, std::string("a"), 2.5}) == "(1, 'a', 2.5)");  // (1, 'a', 2.5)
        CHECK(aio::repr(std::tuple{2}) == "(2,)");                                  // (2,)
        CHECK(aio::repr(std::tuple<>{}) == "()");                                   // ()
        CHECK(aio::repr(std::pair{1, "x"}) == "(1, 'x')");                          // (1, 'x')
        // [(1, 'x'), (2,), ()]
        CHECK(aio::repr(std::tuple{std::pair{1, "x"}, std::tuple{2}, std::tuple<>{}}) ==
              "((1, 'x'), (2,), ())");
    }

    TEST_CASE("repr: strings are quoted and escaped as Python does; str() leaves them bare") {
        // ['a', "it's", 'say "hi"', 'both \' and "', 'tab\t\n\\']
        std::vector<std::string> texts{"a", "it's", "say \"hi\"", "both ' and \"", "tab\t\n\\"};
        CHECK(aio::repr(texts) == R"(['a', "it's", 'say "hi"', 'both \' and "', 'tab\t\n\\'])");
        CHECK(aio::repr("é中文\x01\x7f\u00a0\u200b") == R"('é中文\x01\x7f\xa0\u200b')");
        CHECK(aio::repr(std::string("\xff")) == R"('\xff')");  // not UTF-8: its byte
        CHECK(aio::repr('c') == "'c'");
        CHECK(aio::str("it's") == "it's");
        CHECK(aio::str(std::string("a b")) == "a b");
    }

    TEST_CASE("repr: floats in Python's shortest form") {
        // [0.1, 1.0, 2.5, 1e+16, 1000000000000000.0, 123456789.123, inf, -inf, nan, -0.0,
        //  1e-05, 0.0001, 0.3333333333333333, 1e+22, 5e-324, 1.5e+300, 1.1805916207174113e+21]
        std::vector<double> values{0.1,
                                   1.0,
                                   2.5,
                                   1e16,
                                   1e15,
                                   123456789.123,
                                   HUGE_VAL,
                                   -HUGE_VAL,
                                   std::nan(""),
                                   -0.0,
                                   1e-5,
                                   1e-4,
                                   1.0 / 3,
                                   1e22,
                                   std::numeric_limits<double>::denorm_min(),
                                   1.5e300,
                                   std::pow(2.0, 70)};
        CHECK(aio::repr(values) ==
              "[0.1, 1.0, 2.5, 1e+16, 1000000000000000.0, 123456789.123, inf, -inf, nan, "
              "-0.0, 1e-05, 0.0001, 0.3333333333333333, 1e+22, 5e-324, 1.5e+300, "
              "1.1805916207174113e+21]");
        CHECK(aio::repr(0.1 + 0.2) == "0.30000000000000004");  // 0.30000000000000004
        CHECK(aio::repr(100.0) == "100.0");
        CHECK(aio::repr(12345678901234567.0) == "1.2345678901234568e+16");
        CHECK(aio::repr(0.1f) == "0.1");  // a float's own shortest digits
    }

    TEST_CASE("repr: bool, None, optional and variant") {
        CHECK(aio::repr(true) == "True");
        CHECK(aio::repr(false) == "False");
        CHECK(aio::repr(std::monostate{}) == "None");
        CHECK(aio::repr(std::nullopt) == "None");
        CHECK(aio::repr(nullptr) == "None");
        CHECK(aio::repr(std::optional<int>{}) == "None");
        CHECK(aio::repr(std::optional<std::string>{"x"}) == "'x'");
        CHECK(aio::repr(std::vector<std::variant<int, std::string>>{1, "two"}) == "[1, 'two']");
        CHECK(aio::repr(std::vector<std::variant<std::monostate, bool>>{{}, false}) ==
              "[None, False]");  // [None, False]
    }

    TEST_CASE("repr: maps print as dicts and sets as sets") {
        std::map<std::string, std::vector<int>> m{{"a", {1}}, {"b", {1, 2}}};
        CHECK(aio::repr(m) == "{'a': [1], 'b': [1, 2]}");  // {'a': [1], 'b': [1, 2]}
        CHECK(aio::repr(std::map<int, int>{}) == "{}");
        CHECK(aio::repr(std::set<int>{2, 1}) == "{1, 2}");
        CHECK(aio::repr(std::set<int>{}) == "set()");
    }

    TEST_CASE("repr: a repr() member, or operator<<, prints a type the table does not know") {
        CHECK(aio::repr(std::vector<Point>{{1, 2}}) == "[Point(x=1, y=2)]");
        CHECK(aio::repr(Streamed{}) == "<streamed>");
        CHECK(aio::repr(std::vector<Color>{Color::red, Color::green}) == "[1, 2]");  // values
        CHECK(aio::detail::Representable<std::vector<Point>>);
        CHECK_FALSE(aio::detail::Representable<std::vector<Opaque>>);  // repr() would not compile
    }

    TEST_CASE("repr and str of exceptions, as objects and as exception_ptr") {
        CHECK(aio::repr(aio::ValueError("bad")) == "ValueError('bad')");  // ValueError('bad')
        CHECK(aio::repr(aio::RuntimeError("")) == "RuntimeError()");      // RuntimeError()
        CHECK(aio::repr(aio::TypeError("it's")) == R"(TypeError("it's"))");
        CHECK(aio::repr(std::make_exception_ptr(aio::OSError("poll", 9))) ==
              "OSError('poll: Bad file descriptor')");
        CHECK(aio::repr(std::runtime_error("x")) == "std::runtime_error('x')");
        CHECK(aio::repr(MyError("m")) == "MyError('m')");
        CHECK(aio::repr(std::exception_ptr{}) == "None");
        CHECK(aio::str(aio::ValueError("bad")) == "bad");  // str(ValueError('bad'))
        CHECK(aio::str(std::make_exception_ptr(aio::RuntimeError(""))) == "");
        std::vector<std::exception_ptr> errors{std::make_exception_ptr(aio::ValueError("bad")),
                                               nullptr};
        CHECK(aio::repr(errors) == "[ValueError('bad'), None]");
    }

    TEST_CASE("describe_exception is a traceback's last line, with Python's type names") {
        auto describe = [](auto e) { return aio::describe_exception(std::make_exception_ptr(e)); };
        CHECK(describe(aio::RuntimeError("Event loop is closed")) ==
              "RuntimeError: Event loop is closed");
        CHECK(describe(aio::ValueError("bad")) == "ValueError: bad");
        CHECK(describe(aio::TypeError("A coroutine object is required")) ==
              "TypeError: A coroutine object is required");
        CHECK(describe(aio::RuntimeError("")) == "RuntimeError");  // no message, no colon
        CHECK(describe(std::runtime_error("boom")) == "std::runtime_error: boom");
        CHECK(describe(MyError("m")) == "MyError: m");
        // A user's subclass of an aio error is the user's type, not RuntimeError.
        CHECK(describe(LoopBroke("x")) == "LoopBroke: x");
        CHECK(aio::python_type_name(LoopBroke("x")) == "LoopBroke");
        CHECK(aio::describe_exception(nullptr) == "");
    }

    TEST_CASE("describe_exception: std::throw_with_nested shows the type thrown, no wrapper") {
        std::exception_ptr nested;
        try {
            try {
                throw aio::ValueError("inner");
            } catch (...) {
                std::throw_with_nested(aio::RuntimeError("outer"));
            }
        } catch (...) {
            nested = std::current_exception();
        }
        CHECK(aio::describe_exception(nested) == "RuntimeError: outer");
        CHECK(aio::repr(nested) == "RuntimeError('outer')");
    }

    TEST_CASE("TypeError is a std::invalid_argument but not a ValueError, as in Python") {
        CHECK_THROWS_AS(throw aio::TypeError("t"), std::invalid_argument);
        bool caught_as_value_error = false;
        try {
            try {
                throw aio::TypeError("t");
            } catch (const aio::ValueError&) {
                caught_as_value_error = true;
            }
        } catch (const aio::TypeError&) {
        }
        CHECK_FALSE(caught_as_value_error);
    }

    TEST_CASE("print joins str() of each argument with spaces and ends the line") {
        CHECK(printed(1, "a", 2.5) == "1 a 2.5\n");  // print(1, 'a', 2.5)
        CHECK(printed() == "\n");                    // print()
        // print('results:', ['a', None, True])
        CHECK(printed("results:", std::tuple{"a", std::nullopt, true}) ==
              "results: ('a', None, True)\n");
        CHECK(printed(aio::ValueError("bad")) == "bad\n");  // print(ValueError('bad'))
        CHECK(printed(std::vector<std::string>{"x"}) == "['x']\n");
    }
}
