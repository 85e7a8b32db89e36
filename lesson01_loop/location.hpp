// location.hpp - where a callback was scheduled, captured for free at the call site.
//
// Every call_soon/call_later records the file and line of its caller. It costs two
// words per handle, is always on, and is what debug mode's "slow callback" log, a
// handle's printable form and gdb show. We use __builtin_FILE()/__builtin_LINE()
// rather than std::source_location because Clang 14 with libstdc++ lacks the latter.
//
// asyncio keeps a whole traceback (Handle._source_traceback) and only in debug mode;
// one frame is enough to answer "who scheduled this?" and cheap enough to keep always.
#pragma once

namespace aio {

struct Location {
    const char* file = "";
    int line = 0;

    // The caller's position, when used as a default argument.
    static constexpr Location current(const char* file = __builtin_FILE(),
                                      int line = __builtin_LINE()) noexcept {
        return Location{file, line};
    }

    // "event_loop.cpp:42": the file's base name keeps messages short.
    const char* basename() const noexcept;
};

}  // namespace aio
