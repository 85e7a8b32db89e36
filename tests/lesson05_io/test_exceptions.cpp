// test_exceptions.cpp - an errno becomes the OSError subclass Python raises for it, and
// asyncio's stream errors print as CPython prints them.
#include <doctest/doctest.h>

#include <cerrno>
#include <exception>
#include <string>

#include "lesson01_loop/builtins.hpp"
#include "lesson01_loop/exceptions.hpp"
#include "lesson05_io/exceptions.hpp"

using namespace aio::literals;

namespace {

std::string repr_of(int err, std::string text = {}, std::string filename = {}) {
    return aio::repr(aio::make_os_error(err, std::move(text), std::move(filename)));
}

template <class E>
bool raises_as(int err) {
    try {
        aio::throw_os_error(err);
    } catch (const E&) {
        return true;
    } catch (...) {
    }
    return false;
}

}  // namespace

TEST_SUITE("lesson05") {
    TEST_CASE("make_os_error picks Python's subclass by errno") {
        CHECK(repr_of(ECONNREFUSED) == "ConnectionRefusedError(111, 'Connection refused')");
        CHECK(repr_of(ECONNRESET) == "ConnectionResetError(104, 'Connection reset by peer')");
        CHECK(repr_of(EPIPE) == "BrokenPipeError(32, 'Broken pipe')");
        CHECK(repr_of(ECONNABORTED) ==
              "ConnectionAbortedError(103, 'Software caused connection abort')");
        CHECK(repr_of(EAGAIN) == "BlockingIOError(11, 'Resource temporarily unavailable')");
        CHECK(repr_of(ENOENT) == "FileNotFoundError(2, 'No such file or directory')");
        CHECK(repr_of(EACCES) == "PermissionError(13, 'Permission denied')");
        CHECK(repr_of(EEXIST) == "FileExistsError(17, 'File exists')");
        CHECK(repr_of(EMFILE) == "OSError(24, 'Too many open files')");
    }

    TEST_CASE("str is [Errno N] text, with the filename when there is one") {
        auto str_of = [](int err, std::string text, std::string filename) {
            return aio::str(aio::make_os_error(err, std::move(text), std::move(filename)));
        };
        CHECK(str_of(ECONNREFUSED, "Connect call failed ('127.0.0.1', 1)", "") ==
              "[Errno 111] Connect call failed ('127.0.0.1', 1)");
        CHECK(str_of(ENOENT, "", "a.txt") == "[Errno 2] No such file or directory: 'a.txt'");
    }

    TEST_CASE("the subclasses nest as Python's: a reset is a ConnectionError and an OSError") {
        CHECK(raises_as<aio::ConnectionResetError>(ECONNRESET));
        CHECK(raises_as<aio::ConnectionError>(ECONNRESET));
        CHECK(raises_as<aio::ConnectionError>(EPIPE));
        CHECK(raises_as<aio::OSError>(ECONNREFUSED));
        CHECK_FALSE(raises_as<aio::ConnectionError>(ENOENT));
        try {
            aio::throw_os_error(ECONNRESET);
        } catch (const aio::OSError& e) {
            CHECK(e.error_code() == ECONNRESET);
            CHECK(aio::python_type_name(e) == "ConnectionResetError");
        }
    }

    TEST_CASE("IncompleteReadError and LimitOverrunError print as asyncio's") {
        aio::IncompleteReadError partial("abc"_b, 10);
        CHECK(aio::repr(partial) ==
              "IncompleteReadError('3 bytes read on a total of 10 expected bytes')");
        CHECK(partial.partial() == "abc"_b);
        CHECK(partial.expected() == 10u);
        aio::IncompleteReadError until("abc"_b, std::nullopt);
        CHECK(std::string(until.what()) == "3 bytes read on a total of undefined expected bytes");
        CHECK(aio::python_type_name(until) == "asyncio.exceptions.IncompleteReadError");
        aio::LimitOverrunError overrun("Separator is not found, and chunk exceed the limit", 5);
        CHECK(aio::repr(overrun) ==
              "LimitOverrunError('Separator is not found, and chunk exceed the limit')");
        CHECK(overrun.consumed() == 5);
    }
}
