// safe_fetch.cpp - tutorial 000, example 5, ported line for line from safe_fetch.py; both
// print safe_fetch.expected.
//
// A fetch bounded by a timeout, its errors turned into messages, several fetches
// gathered. Sockets come with lesson 5, so the part of aiohttp the example uses is
// simulated, exactly as safe_fetch.py simulates it: "/delay/N" answers after N seconds,
// any other httpbin.org path after 0.1 s, any other host cannot be reached. The two
// changes safe_fetch.py makes to the tutorial's code are made here too (see there).
// The clock is virtual unless AIO_CLOCK=monotonic: the 3 s timeout passes at once.
//
// `async with x:` is aio::async_with(x, body) (lesson 2's context_managers.hpp); a
// Python str counts characters where a std::string counts UTF-8 bytes, so r[:80] is
// first_chars(r, 80).
#include <cstdlib>
#include <exception>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "lesson01_loop/builtins.hpp"
#include "lesson02_coroutines/context_managers.hpp"
#include "lesson02_coroutines/sleep.hpp"
#include "lesson03_tasks/exceptions.hpp"
#include "lesson03_tasks/gather.hpp"
#include "lesson03_tasks/runners.hpp"
#include "lesson03_tasks/timeouts.hpp"

namespace {

// ---- the simulated aiohttp (ClientSession.get, ClientResponse.text, ClientError) ----

const char* const GET_BODY =
    "{\"args\": {}, \"headers\": {\"Host\": \"httpbin.org\"}, "
    "\"origin\": \"203.0.113.7\", \"url\": \"https://httpbin.org/get\"}";

class ClientError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

class ClientResponse {
public:
    explicit ClientResponse(std::string body) : body_(std::move(body)) {}
    aio::Coro<void> aenter() { co_return; }
    aio::Coro<void> aexit(std::exception_ptr) { co_return; }
    aio::Coro<std::string> text() { co_return body_; }

private:
    std::string body_;
};

class ClientSession {
public:
    aio::Coro<void> aenter() { co_return; }
    aio::Coro<void> aexit(std::exception_ptr) { co_return; }

    aio::Coro<ClientResponse> get(std::string url) {
        std::string rest = url.substr(url.find("//") + 2);  // "httpbin.org/delay/5"
        std::string host = rest.substr(0, rest.find('/'));
        if (host != "httpbin.org")
            throw ClientError("Cannot connect to host " + host +
                              ":443 ssl:default [Name or service not known]");
        std::string path = rest.substr(rest.find('/') + 1);
        if (path.rfind("delay/", 0) == 0) {
            co_await aio::sleep(std::stod(path.substr(std::string("delay/").size())));
            co_return ClientResponse("{\"url\": \"" + url + "\"}");
        }
        co_await aio::sleep(0.1);
        co_return ClientResponse(GET_BODY);
    }
};

// Python's s[:n]: the first n characters. UTF-8 continuation bytes (10xxxxxx) do not
// start a character, so they are not counted.
std::string first_chars(const std::string& s, std::size_t n) {
    std::size_t chars = 0;
    for (std::size_t i = 0; i < s.size(); ++i)
        if ((s[i] & 0xC0) != 0x80 && chars++ == n) return s.substr(0, i);
    return s;
}

// ---- the tutorial's program ----------------------------------------------------------

aio::Coro<std::string> safe_fetch(std::string url, double timeout = 3) {
    try {
        std::string text;
        co_await aio::async_with(ClientSession(), [&](ClientSession& session) -> aio::Coro<void> {
            // The tutorial: `async with asyncio.wait_for(session.get(url), timeout):` and
            // a second session.get(url) inside; this is the request it meant to bound.
            ClientResponse resp = co_await aio::wait_for(session.get(url), timeout);
            co_await aio::async_with(resp, [&]() -> aio::Coro<void> {
                text = co_await resp.text();  // Python returns here; C++ after both blocks
            });
        });
        co_return text;
    } catch (const aio::TimeoutError&) {
        co_return url + " 逾時";
    } catch (const ClientError& e) {
        co_return url + " 錯誤: " + e.what();
    }
}

aio::Coro<void> main_coroutine() {
    std::vector<std::string> urls = {"https://httpbin.org/delay/5", "https://httpbin.org/get",
                                     "https://nowhere.invalid/"};  // the third is ours
    std::vector<aio::Coro<std::string>> fetches;
    for (const std::string& u : urls) fetches.push_back(safe_fetch(u));
    std::vector<std::string> results = co_await aio::gather(std::move(fetches));
    for (const std::string& r : results) aio::print(first_chars(r, 80), "...");
}

}  // namespace

int main() {
    ::setenv("AIO_CLOCK", "virtual", /*overwrite=*/0);
    aio::run(main_coroutine());
    return 0;
}
