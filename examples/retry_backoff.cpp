// retry_backoff.cpp - tutorial 001, "retry with exponential backoff", ported line for
// line from retry_backoff.py; both print retry_backoff.expected.
//
// Up to three tries, sleeping 0.5 * attempt seconds plus up to one second of random
// jitter between them. Sockets come with lesson 5, so the part of aiohttp the example
// uses is simulated, exactly as retry_backoff.py simulates it: the server fails its
// first two requests with "503 Service Unavailable" and prints a line per request. The
// jitter is random in both programs; nothing printed depends on it. The clock is virtual
// unless AIO_CLOCK=monotonic: the backoff passes at once.
//
// `async with x as y:` is aio::async_with(x, body(y)) (lesson 2's context_managers.hpp).
// One difference in shape: Python sleeps inside its `except` block; a C++ coroutine
// cannot co_await in a handler, so the sleep follows the catch. len(text) counts
// characters in Python, so it is char_count(text) here (a std::string holds UTF-8 bytes).
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <random>
#include <stdexcept>
#include <string>
#include <utility>

#include "lesson02_coroutines/context_managers.hpp"
#include "lesson02_coroutines/sleep.hpp"
#include "lesson03_tasks/runners.hpp"

namespace {

// ---- the simulated aiohttp and server -------------------------------------------------

const char* const PAGE =
    "<html><head><title>CodeSpark</title></head><body><h1>你好,世界</h1></body></html>";

class ClientResponseError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

class ClientResponse {
public:
    ClientResponse(std::string url, int status, std::string reason, std::string body)
        : url(std::move(url)), status(status), reason(std::move(reason)), body(std::move(body)) {}

    void raise_for_status() const {
        if (status >= 400)
            throw ClientResponseError(std::to_string(status) + ", message='" + reason + "', url='" +
                                      url + "'");
    }

    aio::Coro<std::string> text() { co_return body; }

    std::string url;
    int status;
    std::string reason;
    std::string body;
};

int served = 0;  // requests the server has answered

// The server: still starting, it fails its first two requests.
aio::Coro<ClientResponse> serve(std::string url) {
    co_await aio::sleep(0.1);  // the round trip
    served += 1;
    if (served < 3) {
        std::printf("  (server) GET %s -> 503 Service Unavailable\n", url.c_str());
        co_return ClientResponse(url, 503, "Service Unavailable", "");
    }
    std::printf("  (server) GET %s -> 200 OK\n", url.c_str());
    co_return ClientResponse(url, 200, "OK", PAGE);
}

// What session.get(url) gives: `async with` sends the request, gives the response.
class RequestContext {
public:
    explicit RequestContext(std::string url) : url_(std::move(url)) {}
    aio::Coro<ClientResponse> aenter() { return serve(url_); }
    aio::Coro<void> aexit(std::exception_ptr) { co_return; }

private:
    std::string url_;
};

class ClientSession {
public:
    aio::Coro<void> aenter() { co_return; }
    aio::Coro<void> aexit(std::exception_ptr) { co_return; }
    RequestContext get(std::string url) { return RequestContext(std::move(url)); }
};

// Python's random.random(): uniform in [0, 1), seeded from the system.
double random_random() {
    static std::mt19937_64 generator{std::random_device{}()};
    return std::uniform_real_distribution<double>(0.0, 1.0)(generator);
}

// Python's len(s): the characters of s. UTF-8 continuation bytes (10xxxxxx) start none.
std::size_t char_count(const std::string& s) {
    return std::count_if(s.begin(), s.end(), [](char c) { return (c & 0xC0) != 0x80; });
}

// ---- the tutorial's program ----------------------------------------------------------

aio::Coro<std::string> fetch_with_retry(ClientSession& session, std::string url, int retries = 3) {
    for (int attempt = 1; attempt <= retries; ++attempt) {
        try {
            std::string text;
            co_await aio::async_with(session.get(url),
                                     [&](ClientResponse& resp) -> aio::Coro<void> {
                                         resp.raise_for_status();
                                         text = co_await resp.text();
                                     });
            co_return text;
        } catch (const std::exception&) {
            if (attempt == retries) throw;
        }
        co_await aio::sleep(0.5 * attempt + random_random());  // in Python, in the except
    }
    co_return std::string();  // never reached: the last attempt returns or throws
}

aio::Coro<void> main_coroutine() {
    co_await aio::async_with(ClientSession(), [&](ClientSession& session) -> aio::Coro<void> {
        std::string text = co_await fetch_with_retry(session, "https://codesparklab.com/");
        std::printf("Fetched length: %zu\n", char_count(text));
    });
}

}  // namespace

int main() {
    ::setenv("AIO_CLOCK", "virtual", /*overwrite=*/0);
    aio::run(main_coroutine());
    return 0;
}
