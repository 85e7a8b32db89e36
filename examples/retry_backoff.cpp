// retry_backoff.cpp - tutorial 001: retry a flaky call with exponential backoff.
//
// The tutorial retries an HTTP GET up to three times, sleeping 0.5 * attempt plus some
// jitter between tries. Here the flaky call is simulated (it fails twice, then works),
// and the jitter comes from a seeded generator so the output is the same every run.
// Time is virtual unless AIO_CLOCK=monotonic.
#include <cstdio>
#include <cstdlib>
#include <random>
#include <stdexcept>
#include <string>

#include "lesson02_coroutines/sleep.hpp"
#include "lesson03_tasks/runners.hpp"

namespace {

int calls = 0;

// Fails on its first two calls, like a server that is still starting.
aio::Coro<std::string> flaky_get(std::string url) {
    co_await aio::sleep(0.1);
    if (++calls < 3) throw std::runtime_error("503 Service Unavailable");
    co_return "<html>" + url + "</html>";
}

aio::Coro<std::string> fetch_with_retry(std::string url, int retries = 3) {
    std::mt19937 rng(42);
    std::uniform_real_distribution<double> jitter(0.0, 1.0);
    for (int attempt = 1;; ++attempt) {
        try {
            co_return co_await flaky_get(url);
        } catch (const std::exception& e) {
            if (attempt == retries) throw;
            std::printf("[%.2f] attempt %d failed (%s)\n", aio::get_running_loop().time(), attempt,
                        e.what());
        }
        // The backoff is outside the catch: a coroutine cannot co_await in a handler.
        co_await aio::sleep(0.5 * attempt + jitter(rng));
    }
}

aio::Coro<void> main_coroutine() {
    std::string text = co_await fetch_with_retry("https://example.com/");
    std::printf("[%.2f] fetched length: %zu\n", aio::get_running_loop().time(), text.size());
}

}  // namespace

int main() {
    ::setenv("AIO_CLOCK", "virtual", /*overwrite=*/0);
    aio::run(main_coroutine());
    return 0;
}
