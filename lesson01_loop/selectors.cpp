// selectors.cpp - the table of selectors and the shared timeout rounding.
#include "lesson01_loop/selectors.hpp"

#include <climits>
#include <cmath>
#include <cstdlib>
#include <mutex>
#include <stdexcept>

#include "lesson01_loop/exceptions.hpp"

namespace aio {

namespace {

struct Entry {
    std::string name;
    SelectorFactory factory;
};

std::mutex table_mutex;

std::vector<Entry>& table() {
    static std::vector<Entry> entries = {
#if defined(__linux__)
        {"epoll", make_epoll_selector},
#endif
#if defined(AIO_HAVE_KQUEUE)
        {"kqueue", make_kqueue_selector},
#endif
        {"poll", make_poll_selector},
    };
    return entries;
}

}  // namespace

void register_selector(std::string_view name, SelectorFactory factory) {
    std::lock_guard lock(table_mutex);
    for (Entry& e : table())
        if (e.name == name) {
            e.factory = factory;
            return;
        }
    table().push_back(Entry{std::string(name), factory});
}

std::vector<std::string> available_selectors() {
    std::lock_guard lock(table_mutex);
    std::vector<std::string> names;
    for (const Entry& e : table()) names.push_back(e.name);
    return names;
}

std::unique_ptr<Selector> make_selector(std::string_view name) {
    SelectorFactory factory = nullptr;
    std::string choices;
    {
        std::lock_guard lock(table_mutex);
        for (const Entry& e : table()) {
            if (e.name == name) factory = e.factory;
            choices += choices.empty() ? e.name : ", " + e.name;
        }
    }
    if (!factory)
        throw ValueError("unknown or unavailable selector '" + std::string(name) +
                         "' (available here: " + choices + ")");
    return factory();
}

std::unique_ptr<Selector> make_default_selector() {
    const char* env = std::getenv("AIO_SELECTOR");
    if (env && *env) return make_selector(env);
    return make_selector(available_selectors().front());
}

int timeout_to_ms(double timeout) {
    if (timeout < 0) return -1;
    double ms = std::ceil(timeout * 1e3);
    return ms > INT_MAX ? INT_MAX : static_cast<int>(ms);
}

}  // namespace aio
