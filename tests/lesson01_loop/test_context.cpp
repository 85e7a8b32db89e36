// test_context.cpp - the exception context holds objects and the default handler
// prints them sorted (asyncio: BaseEventLoop.default_exception_handler), and the log's
// levels and threshold (asyncio: logging.getLogger('asyncio').setLevel).
#include <doctest/doctest.h>

#include <unistd.h>

#include <cstdio>
#include <memory>
#include <stdexcept>
#include <string>

#include "helpers.hpp"

namespace {

// An object a later lesson would put in a context (a task, a future): copyable and
// printable.
struct Widget {
    int id;
    std::string repr() const { return "<Widget " + std::to_string(id) + ">"; }
};

// Restores the log threshold a test changes.
class ScopedLogLevel {
public:
    explicit ScopedLogLevel(aio::LogLevel level) : previous_(aio::set_log_level(level)) {}
    ~ScopedLogLevel() { aio::set_log_level(previous_); }
    ScopedLogLevel(const ScopedLogLevel&) = delete;
    ScopedLogLevel& operator=(const ScopedLogLevel&) = delete;

private:
    aio::LogLevel previous_;
};

// What `fn` writes to stderr.
template <class F>
std::string stderr_of(F fn) {
    std::fflush(stderr);
    std::FILE* tmp = std::tmpfile();
    int saved = ::dup(2);
    ::dup2(::fileno(tmp), 2);
    fn();
    std::fflush(stderr);
    ::dup2(saved, 2);
    ::close(saved);
    std::rewind(tmp);
    std::string out;
    for (int c; (c = std::fgetc(tmp)) != EOF;) out += static_cast<char>(c);
    std::fclose(tmp);
    return out;
}

}  // namespace

TEST_SUITE("lesson01") {
    TEST_CASE("a custom exception handler reaches the context's objects by type") {
        auto loop = test::virtual_loop();
        int seen = 0;
        bool wrong_type_is_null = false;
        loop->set_exception_handler([&](aio::EventLoop&, const aio::ExceptionContext& ctx) {
            if (const Widget* w = ctx.get<Widget>("widget")) seen = w->id;
            wrong_type_is_null =
                ctx.get<std::string>("widget") == nullptr && ctx.get<Widget>("missing") == nullptr;
        });
        loop->call_exception_handler(
            {"something happened", nullptr, nullptr, {{"widget", Widget{7}}}});
        CHECK(seen == 7);
        CHECK(wrong_type_is_null);
    }

    TEST_CASE("the default exception handler prints every key but message and exception sorted") {
        // asyncio: "for key in sorted(context)", then the exception's traceback.
        auto loop = test::virtual_loop();
        test::LogCapture log;
        loop->call_exception_handler(
            {"oops",
             std::make_exception_ptr(std::runtime_error("bad")),
             nullptr,
             {{"zeta", "last"}, {"task", Widget{3}}, {"future", Widget{2}}, {"alpha", "first"}}});
        REQUIRE(log.lines.size() == 1);
        CHECK(log.lines[0] ==
              "ERROR: oops\nalpha: first\nfuture: <Widget 2>\ntask: <Widget 3>\nzeta: last\n"
              "exception: std::runtime_error: bad");
    }

    TEST_CASE("the handle sorts among the other keys") {
        auto loop = test::virtual_loop();
        test::LogCapture log;
        loop->call_soon([] { throw std::runtime_error("x"); });
        loop->run_once();
        REQUIRE(log.lines.size() == 1);
        std::string line = log.lines[0];
        CHECK(line.find("\nhandle: <Handle scheduled at test_context.cpp:") != std::string::npos);
        CHECK(line.find("\nexception: std::runtime_error: x") != std::string::npos);
    }

    TEST_CASE("a throwing handler: the default one gets the original context under 'context'") {
        auto loop = test::virtual_loop();
        test::LogCapture log;
        loop->set_exception_handler([](aio::EventLoop&, const aio::ExceptionContext&) {
            throw std::logic_error("handler broke");
        });
        loop->call_exception_handler({"first", nullptr, nullptr, {}});
        REQUIRE(log.lines.size() == 1);
        CHECK(log.lines[0] ==
              "ERROR: Unhandled error in exception handler\ncontext: first\n"
              "exception: std::logic_error: handler broke");
    }

    TEST_CASE("log levels: the threshold starts at WARNING and filters before the sink") {
        test::LogCapture log;
        aio::reset_log_level();
        ::unsetenv("AIO_LOG_LEVEL");
        CHECK(aio::get_log_level() == aio::LogLevel::warning);
        aio::log(aio::LogLevel::debug, "d");
        aio::log(aio::LogLevel::info, "i");
        aio::log(aio::LogLevel::warning, "w");
        aio::log(aio::LogLevel::error, "e");
        aio::log(aio::LogLevel::critical, "c");
        CHECK(log.lines == std::vector<std::string>{"WARNING: w", "ERROR: e", "CRITICAL: c"});
        {
            ScopedLogLevel debug(aio::LogLevel::debug);
            CHECK(aio::log_enabled(aio::LogLevel::debug));
            aio::log(aio::LogLevel::debug, "now");
        }
        CHECK(log.lines.back() == "DEBUG: now");
        CHECK_FALSE(aio::log_enabled(aio::LogLevel::info));
    }

    TEST_CASE("log levels: AIO_LOG_LEVEL sets the default; a bad one is refused by new loops") {
        ::setenv("AIO_LOG_LEVEL", "debug", 1);
        aio::reset_log_level();
        CHECK(aio::get_log_level() == aio::LogLevel::debug);
        ::setenv("AIO_LOG_LEVEL", "LOUD", 1);
        aio::reset_log_level();
        CHECK_THROWS_WITH_AS(test::virtual_loop(),
                             "unknown log level 'LOUD' (AIO_LOG_LEVEL must be DEBUG, INFO, "
                             "WARNING, ERROR or CRITICAL)",
                             std::invalid_argument);
        ::unsetenv("AIO_LOG_LEVEL");
        aio::reset_log_level();
        CHECK(aio::get_log_level() == aio::LogLevel::warning);
    }

    TEST_CASE("debug mode's 'Close ... event loop' is DEBUG: silent by default") {
        test::LogCapture log;
        auto loop = test::virtual_loop();
        loop->set_debug(true);
        loop->close();
        CHECK(log.lines.empty());
        ScopedLogLevel debug(aio::LogLevel::debug);
        auto shown = test::virtual_loop();
        shown->set_debug(true);
        shown->close();
        CHECK(log.lines == std::vector<std::string>{std::string("DEBUG: Close ") +
                                                    shown->selector_name() + " event loop"});
    }

    TEST_CASE("the stderr sink writes logging.basicConfig's form: DEBUG:asyncio:...") {
        // python3 -c "import asyncio,logging; logging.basicConfig(level=logging.DEBUG);
        //             asyncio.new_event_loop().close()"  ->  DEBUG:asyncio:Using selector...
        ScopedLogLevel debug(aio::LogLevel::debug);
        std::string out =
            stderr_of([] { aio::log(aio::LogLevel::debug, "Close epoll event loop"); });
        CHECK(out == "DEBUG:asyncio:Close epoll event loop\n");
        aio::set_log_level(aio::LogLevel::warning);
        CHECK(stderr_of([] { aio::log(aio::LogLevel::info, "hidden"); }).empty());
    }
}
