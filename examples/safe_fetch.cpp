// safe_fetch.cpp - tutorial 000, example 5: fetching with a timeout and error handling.
//
// The tutorial fetches two URLs with aiohttp; one of them answers after 5 seconds. Real
// sockets arrive in lesson 5, so here a "server" is simulated: fake_get() sleeps for as
// long as the URL says, or fails for an unknown host. safe_fetch() turns a timeout and an
// error into a message, so gather() always gets a string back from every fetch.
// Time is virtual unless AIO_CLOCK=monotonic: the whole run takes no real time.
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <vector>

#include "lesson02_coroutines/sleep.hpp"
#include "lesson03_tasks/exceptions.hpp"
#include "lesson03_tasks/gather.hpp"
#include "lesson03_tasks/runners.hpp"
#include "lesson03_tasks/timeouts.hpp"

namespace {

// Stands in for session.get(url): "delay/5" answers after 5 s, "get" at once.
aio::Coro<std::string> fake_get(std::string url) {
    if (url.find("httpbin.org") == std::string::npos)
        throw std::runtime_error("cannot connect to host");
    double delay = 0.1;
    if (auto at = url.find("/delay/"); at != std::string::npos)
        delay = std::stod(url.substr(at + 7));
    co_await aio::sleep(delay);
    co_return "{\"url\": \"" + url + "\"}";
}

aio::Coro<std::string> safe_fetch(std::string url, double timeout = 3) {
    try {
        co_return co_await aio::wait_for(fake_get(url), timeout);
    } catch (const aio::TimeoutError&) {
        co_return url + " timed out";
    } catch (const std::runtime_error& e) {
        co_return url + " error: " + e.what();
    }
}

aio::Coro<void> main_coroutine() {
    std::vector<aio::Coro<std::string>> fetches;
    for (const char* url :
         {"https://httpbin.org/delay/5", "https://httpbin.org/get", "https://nowhere.invalid/"})
        fetches.push_back(safe_fetch(url));
    std::vector<std::string> results = co_await aio::gather(std::move(fetches));
    for (const std::string& r : results) std::printf("%s\n", r.c_str());
    std::printf("elapsed: %.2f s (the slow one was cut at 3)\n", aio::get_running_loop().time());
}

}  // namespace

int main() {
    ::setenv("AIO_CLOCK", "virtual", /*overwrite=*/0);
    aio::run(main_coroutine());
    return 0;
}
