// stream_reader.cpp - StreamReader: a buffer the protocol fills and coroutines drain
// (asyncio: streams.StreamReader).
//
// The state is a byte buffer with a read offset (so taking bytes from the front is not
// a memmove each time; the consumed prefix is dropped once it is the larger half), the
// EOF flag, the error, and at most one waiter: the future a read awaits while the
// buffer cannot satisfy it. feed_data/feed_eof/set_exception complete that future.
// Every read re-checks the buffer after waking, so a read that is cancelled while it
// waits has taken nothing: the bytes stay for the next read.
//
// Backpressure: feed_data pauses the transport when the buffer passes 2 * limit; a
// read that brings it back to the limit or below resumes it, and so does a read about
// to wait (a paused reader waiting for data would wait forever: readexactly(n) with
// n > 2 * limit needs that).
#include <algorithm>
#include <string>
#include <utility>

#include "lesson01_loop/builtins.hpp"
#include "lesson01_loop/events.hpp"
#include "lesson05_io/exceptions.hpp"
#include "lesson05_io/streams.hpp"

namespace aio {

namespace detail {

// The reader's shared state; StreamReader handles and running reads keep it alive.
struct StreamReaderState {
    std::size_t limit = DEFAULT_STREAM_LIMIT;
    std::string buffer;  // bytes not yet read are buffer[start:]
    std::size_t start = 0;
    bool eof = false;     // feed_eof was called
    bool paused = false;  // we paused the transport (asyncio: _paused)
    std::exception_ptr exception;
    std::optional<Future<void>> waiter;  // the one read waiting for data, if any
    // The reader only pauses and resumes its transport; the protocol owns it, so a
    // weak reference keeps reader and transport from holding each other.
    std::weak_ptr<Transport> transport;
    bool has_transport = false;

    std::size_t size() const noexcept { return buffer.size() - start; }
    std::string_view view() const noexcept { return std::string_view(buffer).substr(start); }
    bytes take(std::size_t n);  // removes and returns the first n bytes (fewer if short)
    void append(bytes data);
    void wakeup_waiter();
    void maybe_resume_transport();
    Future<void> start_waiting(const char* func_name);
    void raise_if_failed() const;
};

bytes StreamReaderState::take(std::size_t n) {
    n = std::min(n, size());
    if (start == 0 && n == buffer.size()) {  // all of it: hand the storage over
        bytes all(std::move(buffer));
        buffer.clear();
        return all;
    }
    bytes part(buffer.data() + start, n);
    start += n;
    if (start == buffer.size()) {
        buffer.clear();
        start = 0;
    } else if (start > buffer.size() / 2) {  // drop the consumed half: amortised O(1)
        buffer.erase(0, start);
        start = 0;
    }
    return part;
}

void StreamReaderState::append(bytes data) {
    if (size() == 0) {  // the usual case: no copy
        buffer = std::move(data).release();
        start = 0;
    } else {
        buffer.append(data.view());
    }
}

// asyncio: StreamReader._wakeup_waiter.
void StreamReaderState::wakeup_waiter() {
    std::optional<Future<void>> w = std::exchange(waiter, std::nullopt);
    if (w && !w->done()) w->set_result();
}

// asyncio: StreamReader._maybe_resume_transport.
void StreamReaderState::maybe_resume_transport() {
    if (paused && size() <= limit) {
        paused = false;
        if (std::shared_ptr<Transport> t = transport.lock()) t->resume_reading();
    }
}

// asyncio: the first half of StreamReader._wait_for_data.
Future<void> StreamReaderState::start_waiting(const char* func_name) {
    if (waiter)
        throw RuntimeError(std::string(func_name) +
                           "() called while another coroutine is already waiting for "
                           "incoming data");
    if (paused) {  // waiting while paused would never end
        paused = false;
        if (std::shared_ptr<Transport> t = transport.lock()) t->resume_reading();
    }
    waiter.emplace(get_running_loop());
    return *waiter;
}

void StreamReaderState::raise_if_failed() const {
    if (exception) std::rethrow_exception(exception);
}

namespace {

// asyncio: StreamReader._wait_for_data: one future per wait, forgotten however the
// wait ends (asyncio's `finally: self._waiter = None`). A local of the reading
// coroutine, so waiting costs no coroutine frame of its own:
//     { DataWait wait(*s, "read"); co_await wait.future; }
struct DataWait {
    DataWait(StreamReaderState& s, const char* func_name)
        : state(s), future(s.start_waiting(func_name)) {}
    DataWait(const DataWait&) = delete;
    DataWait& operator=(const DataWait&) = delete;
    ~DataWait() { state.waiter.reset(); }

    StreamReaderState& state;
    Future<void> future;
};

// read(-1): read(limit) until EOF (asyncio: a loop of read(self._limit), so that a
// paused transport is resumed as the data is taken).
Coro<bytes> read_all(std::shared_ptr<StreamReaderState> s) {
    std::string all;
    for (;;) {
        s->raise_if_failed();
        if (s->size() == 0 && !s->eof) {
            DataWait wait(*s, "read");
            co_await wait.future;
            continue;
        }
        if (s->size() == 0) break;  // EOF
        bytes block = s->take(s->limit);
        s->maybe_resume_transport();
        all += block.view();
    }
    co_return bytes(std::move(all));
}

// asyncio: StreamReader.read.
Coro<bytes> read_some(std::shared_ptr<StreamReaderState> s, long long n) {
    s->raise_if_failed();
    if (n == 0) co_return bytes();
    if (n < 0) {
        Coro<bytes> all = read_all(s);
        co_return co_await std::move(all);
    }
    if (s->size() == 0 && !s->eof) {
        DataWait wait(*s, "read");
        co_await wait.future;
    }
    bytes data = s->take(static_cast<std::size_t>(n));
    s->maybe_resume_transport();
    co_return data;
}

// asyncio: StreamReader.readexactly.
Coro<bytes> readexactly_on(std::shared_ptr<StreamReaderState> s, long long n) {
    if (n < 0) throw ValueError("readexactly size can not be less than zero");
    s->raise_if_failed();
    if (n == 0) co_return bytes();
    const auto wanted = static_cast<std::size_t>(n);
    while (s->size() < wanted) {
        if (s->eof) throw IncompleteReadError(s->take(s->size()), wanted);
        DataWait wait(*s, "readexactly");
        co_await wait.future;
    }
    bytes data = s->take(wanted);
    s->maybe_resume_transport();
    co_return data;
}

// asyncio: StreamReader.readuntil. `offset` is how far the buffer is known to hold no
// separator; past the limit, LimitOverrunError leaves the data in the buffer.
Coro<bytes> readuntil_on(std::shared_ptr<StreamReaderState> s, bytes separator) {
    const std::size_t seplen = separator.size();
    if (seplen == 0) throw ValueError("Separator should be at least one-byte string");
    s->raise_if_failed();
    std::size_t offset = 0;
    std::size_t isep = std::string_view::npos;
    for (;;) {
        const std::size_t buflen = s->size();
        if (buflen >= offset + seplen) {
            isep = s->view().find(separator.view(), offset);
            if (isep != std::string_view::npos) break;
            offset = buflen + 1 - seplen;
            if (offset > s->limit)
                throw LimitOverrunError("Separator is not found, and chunk exceed the limit",
                                        offset);
        }
        // The last chunk may complete the separator even after EOF: check the buffer
        // first (asyncio's comment says the same).
        if (s->eof) throw IncompleteReadError(s->take(buflen), std::nullopt);
        DataWait wait(*s, "readuntil");
        co_await wait.future;
    }
    if (isep > s->limit)
        throw LimitOverrunError("Separator is found, but chunk is longer than limit", isep);
    bytes chunk = s->take(isep + seplen);
    s->maybe_resume_transport();
    co_return chunk;
}

// asyncio: StreamReader.readline. An over-long line is dropped (up to and including
// its b'\n' if it is buffered, else the whole buffer) and reported as ValueError, so
// the buffer never grows past the limit waiting for a newline.
Coro<bytes> readline_on(std::shared_ptr<StreamReaderState> s) {
    std::optional<bytes> partial;
    std::optional<std::string> overrun;
    try {
        Coro<bytes> until = readuntil_on(s, bytes("\n", 1));
        bytes line = co_await std::move(until);
        co_return line;
    } catch (const IncompleteReadError& e) {
        partial = e.partial();
    } catch (const LimitOverrunError& e) {
        if (s->view().substr(std::min(e.consumed(), s->size())).starts_with('\n'))
            s->take(e.consumed() + 1);
        else
            s->take(s->size());
        s->maybe_resume_transport();
        overrun = e.what();
    }
    if (overrun) throw ValueError(*overrun);
    co_return std::move(*partial);
}

// asyncio: StreamReader.__anext__: lines until readline gives b''.
AsyncGenerator<bytes> lines_of(std::shared_ptr<StreamReaderState> s) {
    for (;;) {
        Coro<bytes> next = readline_on(s);
        bytes line = co_await std::move(next);
        if (line.empty()) co_return;
        co_yield std::move(line);
    }
}

}  // namespace

}  // namespace detail

StreamReader::StreamReader(std::size_t limit)
    : state_(std::make_shared<detail::StreamReaderState>()) {
    if (limit == 0) throw ValueError("Limit cannot be <= 0");
    state_->limit = limit;
}

// asyncio: StreamReader.feed_data.
void StreamReader::feed_data(bytes data) {
    detail::StreamReaderState& s = *state_;
    if (s.eof) throw RuntimeError("feed_data after feed_eof");
    if (data.empty()) return;
    s.append(std::move(data));
    s.wakeup_waiter();
    if (s.paused || s.size() <= 2 * s.limit) return;
    if (std::shared_ptr<Transport> t = s.transport.lock()) {
        t->pause_reading();
        s.paused = true;
    }
}

void StreamReader::feed_eof() {
    state_->eof = true;
    state_->wakeup_waiter();
}

// asyncio: StreamReader.set_exception.
void StreamReader::set_exception(std::exception_ptr error) {
    state_->exception = error;
    std::optional<Future<void>> w = std::exchange(state_->waiter, std::nullopt);
    if (w && !w->done()) w->set_exception(error);
}

void StreamReader::set_transport(std::shared_ptr<Transport> transport) {
    if (state_->has_transport) throw RuntimeError("Transport already set");
    state_->transport = transport;
    state_->has_transport = true;
}

Coro<bytes> StreamReader::read(long long n) const { return detail::read_some(state_, n); }
Coro<bytes> StreamReader::readline() const { return detail::readline_on(state_); }
Coro<bytes> StreamReader::readexactly(long long n) const {
    return detail::readexactly_on(state_, n);
}
Coro<bytes> StreamReader::readuntil(bytes separator) const {
    return detail::readuntil_on(state_, std::move(separator));
}
AsyncGenerator<bytes> StreamReader::lines() const { return detail::lines_of(state_); }

bool StreamReader::at_eof() const noexcept { return state_->eof && state_->size() == 0; }
std::exception_ptr StreamReader::exception() const noexcept { return state_->exception; }
std::size_t StreamReader::limit() const noexcept { return state_->limit; }
std::size_t StreamReader::buffered() const noexcept { return state_->size(); }
bool StreamReader::paused() const noexcept { return state_->paused; }

// asyncio: StreamReader.__repr__ (less the transport, which has no repr here).
std::string StreamReader::repr() const {
    const detail::StreamReaderState& s = *state_;
    std::string out = "<StreamReader";
    if (s.size() != 0) out += " " + std::to_string(s.size()) + " bytes";
    if (s.eof) out += " eof";
    if (s.limit != DEFAULT_STREAM_LIMIT) out += " limit=" + std::to_string(s.limit);
    if (s.waiter) out += " waiter=" + s.waiter->repr();
    if (s.exception) out += " exception=" + detail::exception_repr(s.exception);
    if (s.paused) out += " paused";
    return out + ">";
}

}  // namespace aio
