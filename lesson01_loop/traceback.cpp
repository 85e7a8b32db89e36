// traceback.cpp - the frame records and Python's report of an exception (Python:
// traceback.TracebackException.format and _ExceptionPrintContext, traceback.py 3.11).
#include "lesson01_loop/traceback.hpp"

#include <array>
#include <csignal>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <mutex>
#include <string_view>

#include "lesson01_loop/exceptions.hpp"

namespace aio {

namespace {

// ---- the records ----------------------------------------------------------------------

constexpr std::size_t kept_records = 16;
// Python prints every frame; a runaway recursion stops being recorded here.
constexpr std::size_t max_frames = 1000;

struct Record {
    std::exception_ptr error;
    std::vector<FrameSummary> frames;  // innermost first, the order they were left
};

struct Records {
    std::array<Record, kept_records> ring;
    std::size_t next = 0;  // the slot a new exception takes

    // Newest first: the exception in flight is nearly always the last one noted.
    Record* find(const std::exception_ptr& error) {
        for (std::size_t i = 1; i <= kept_records; ++i) {
            Record& r = ring[(next + kept_records - i) % kept_records];
            if (r.error == error) return &r;
        }
        return nullptr;
    }
};

thread_local Records records;

// ---- formatting -------------------------------------------------------------------------

// asyncio's constants for a group: members shown, and nesting shown.
constexpr std::size_t max_group_width = 15;
constexpr int max_group_depth = 10;
constexpr int max_chain = 100;  // a cause chain longer than this is a cycle

// Python: traceback._ExceptionPrintContext. Inside a group every line is indented and
// gets a margin ("| ", or "+ " on a group's first line).
struct PrintContext {
    std::string out;
    int group_depth = 0;
    bool need_close = false;

    std::string indent() const {
        return std::string(2 * static_cast<std::size_t>(group_depth), ' ');
    }
    void emit(std::string_view text, char margin = '|') {
        std::string prefix = indent();
        if (group_depth) prefix += std::string{margin, ' '};
        while (!text.empty()) {
            std::size_t end = text.find('\n');
            std::size_t len = end == text.npos ? text.size() : end + 1;
            out += prefix;
            out += text.substr(0, len);
            text.remove_prefix(len);
        }
    }
};

// Line `line` of `file`, stripped, or "" if it cannot be read (Python: linecache).
std::string source_line(const char* file, int line) {
    std::ifstream in(file);
    std::string text;
    for (int i = 0; i < line && std::getline(in, text);) ++i;
    if (!in) return "";
    std::size_t first = text.find_first_not_of(" \t");
    std::size_t last = text.find_last_not_of(" \t\r");
    return first == text.npos ? "" : text.substr(first, last - first + 1);
}

// The function's name as Python would give it: GCC names a function template's
// coroutine with its arguments ("wait_for<int>"), which say nothing a reader needs.
std::string_view function_name(std::string_view name) {
    if (name.rfind("operator", 0) == 0) return name;
    return name.substr(0, name.find('<'));
}

// Python: StackSummary.format. A frame that reached no co_await shows its definition,
// which GCC places at the closing brace: that line's "}" is not worth printing.
std::string format_stack(const std::vector<FrameSummary>& frames) {
    std::string out;
    for (const FrameSummary& f : frames) {
        out += std::string("  File \"") + f.location.file + "\", line " +
               std::to_string(f.location.line) + ", in ";
        out += function_name(f.name);
        out += '\n';
        std::string code = source_line(f.location.file, f.location.line);
        if (!code.empty() && code != "}") out += "    " + code + "\n";
    }
    return out;
}

// Python: e.__cause__: a PythonException's, else std::throw_with_nested's nested one.
std::exception_ptr cause_of(const std::exception_ptr& error) {
    try {
        std::rethrow_exception(error);
    } catch (const std::exception& e) {
        const auto* py = dynamic_cast<const PythonException*>(&e);
        if (std::exception_ptr cause = py ? py->python_cause() : nullptr) return cause;
        if (const auto* nested = dynamic_cast<const std::nested_exception*>(&e))
            return nested->nested_ptr();
    } catch (...) {
    }
    return nullptr;
}

std::vector<std::exception_ptr> members_of(const std::exception_ptr& error) {
    try {
        std::rethrow_exception(error);
    } catch (const PythonException& e) {
        return e.python_members();
    } catch (...) {
        return {};
    }
}

void format_chain(PrintContext& ctx, const std::exception_ptr& error);

// One exception of a chain, without its cause. Python: the body of format's loop.
void format_one(PrintContext& ctx, const std::exception_ptr& error) {
    std::vector<FrameSummary> stack = extract_tb(error);
    std::vector<std::exception_ptr> members = members_of(error);
    std::string last_line = describe_exception(error) + "\n";
    if (members.empty()) {
        if (!stack.empty()) {
            ctx.emit("Traceback (most recent call last):\n");
            ctx.emit(format_stack(stack));
        }
        ctx.emit(last_line);
        return;
    }
    if (ctx.group_depth > max_group_depth) {
        ctx.emit("... (max_group_depth is " + std::to_string(max_group_depth) + ")\n");
        return;
    }
    bool top = ctx.group_depth == 0;
    if (top) ctx.group_depth += 1;
    if (!stack.empty()) {
        ctx.emit("Exception Group Traceback (most recent call last):\n", top ? '+' : '|');
        ctx.emit(format_stack(stack));
    }
    ctx.emit(last_line);
    std::size_t n = members.size() <= max_group_width ? members.size() : max_group_width + 1;
    ctx.need_close = false;
    for (std::size_t i = 0; i < n; ++i) {
        bool last = i == n - 1;
        if (last) ctx.need_close = true;
        bool truncated = i >= max_group_width;
        std::string title = truncated ? "..." : std::to_string(i + 1);
        ctx.out += ctx.indent() + (i == 0 ? "+-" : "  ") + "+---------------- " + title +
                   " ----------------\n";
        ctx.group_depth += 1;
        if (!truncated) {
            format_chain(ctx, members[i]);
        } else {
            std::size_t more = members.size() - max_group_width;
            ctx.emit("and " + std::to_string(more) + " more exception" + (more > 1 ? "s" : "") +
                     "\n");
        }
        if (last && ctx.need_close) {
            ctx.out += ctx.indent() + "+------------------------------------\n";
            ctx.need_close = false;
        }
        ctx.group_depth -= 1;
    }
    if (top) ctx.group_depth = 0;
}

// Python: TracebackException.format(chain=True): the oldest cause first.
void format_chain(PrintContext& ctx, const std::exception_ptr& error) {
    std::vector<std::exception_ptr> chain{error};
    while (chain.size() < max_chain) {
        std::exception_ptr cause = cause_of(chain.back());
        if (!cause) break;
        chain.push_back(cause);
    }
    for (std::size_t i = chain.size(); i-- > 0;) {
        format_one(ctx, chain[i]);
        if (i > 0)
            ctx.emit("\nThe above exception was the direct cause of the following exception:\n\n");
    }
}

// ---- the top level ----------------------------------------------------------------------

std::terminate_handler previous_handler = nullptr;
thread_local bool hook_armed = false;  // this thread called install_excepthook()

// Python's exit after the report: status 1, or death by the signal the exception asks
// for (KeyboardInterrupt: SIGINT, with the default action restored first).
[[noreturn]] void exit_like_python(const std::exception_ptr& error) {
    int signo = 0;
    try {
        std::rethrow_exception(error);
    } catch (const PythonException& e) {
        signo = e.python_exit_signal();
    } catch (...) {
    }
    if (signo != 0) {
        std::signal(signo, SIG_DFL);
        std::raise(signo);
    }
    std::_Exit(1);
}

// Python's top level: flush stdout, print the traceback, exit 1.
[[noreturn]] void excepthook() {
    std::exception_ptr error = std::current_exception();
    if (error && hook_armed) {
        std::cout.flush();
        std::fflush(stdout);
        try {
            print_exception(error);
        } catch (...) {
            std::fputs("(the traceback could not be formatted)\n", stderr);
        }
        std::fflush(stderr);
        exit_like_python(error);
    }
    if (previous_handler) previous_handler();
    std::abort();
}

}  // namespace

std::vector<FrameSummary> extract_tb(const std::exception_ptr& error) {
    const Record* r = error ? records.find(error) : nullptr;
    if (!r) return {};
    return std::vector<FrameSummary>(r->frames.rbegin(), r->frames.rend());
}

std::string format_exception(const std::exception_ptr& error) {
    if (!error) return "";
    PrintContext ctx;
    format_chain(ctx, error);
    return ctx.out;
}

void print_exception(const std::exception_ptr& error) {
    std::string text = format_exception(error);
    std::fwrite(text.data(), 1, text.size(), stderr);
}

void install_excepthook() {
    static std::once_flag once;
    std::call_once(once, [] { previous_handler = std::set_terminate(excepthook); });
    hook_armed = true;
}

void detail::note_frame(const char* name, Location where) noexcept {
    try {
        std::exception_ptr error = std::current_exception();
        if (!error) return;
        Record* r = records.find(error);
        if (!r) {
            r = &records.ring[records.next];
            records.next = (records.next + 1) % kept_records;
            r->error = error;
            r->frames.clear();
        }
        if (r->frames.size() < max_frames) r->frames.push_back({name, where});
    } catch (...) {
        // Out of memory: the traceback misses a frame; the program itself goes on.
    }
}

}  // namespace aio
