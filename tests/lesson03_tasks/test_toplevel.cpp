// test_toplevel.cpp - an exception that escapes main() after aio::run rethrew it ends the
// program as Python's top level does (runners.hpp, lesson 1's traceback.hpp): stdout
// flushed, a traceback on stderr ending with the type and message, exit status 1.
// The programs are toplevel_child.cpp, run as child processes with stdout on a pipe.
#include <doctest/doctest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace {

struct Outcome {
    int status = -1;  // the exit status, or -1 if killed by a signal
    std::string out, err;
    std::vector<std::string> err_lines;
};

std::string env(const char* name) {
    const char* value = std::getenv(name);
    REQUIRE_MESSAGE(value, std::string(name) << " is not set: run the test through meson");
    return value;
}

// Runs `toplevel_child mode` from the build root (where the __FILE__ paths it records,
// "../tests/...", lead to the sources), stdout piped to us, stderr to a file.
Outcome run_child(const std::string& mode) {
    std::string err_file = "toplevel_child_" + mode + "_" + std::to_string(::getpid()) + ".err";
    std::string cmd = "cd '" + env("AIO_BUILD_ROOT") + "' && '" + env("AIO_TOPLEVEL_CHILD") + "' " +
                      mode + " 2>'" + err_file + "'";
    Outcome result;
    FILE* pipe = ::popen(cmd.c_str(), "r");
    REQUIRE(pipe);
    char buf[4096];
    for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, pipe)) > 0;) result.out.append(buf, n);
    int wait_status = ::pclose(pipe);
    if (WIFEXITED(wait_status)) result.status = WEXITSTATUS(wait_status);
    std::string path = env("AIO_BUILD_ROOT") + "/" + err_file;
    std::ifstream in(path);
    std::ostringstream text;
    text << in.rdbuf();
    result.err = text.str();
    std::remove(path.c_str());
    std::istringstream lines(result.err);
    for (std::string line; std::getline(lines, line);) result.err_lines.push_back(line);
    return result;
}

bool has(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

// Every line print_lines() wrote, in order, both through std::cout and printf.
bool all_stdout_present(const std::string& out) {
    std::string expected;
    for (int i = 0; i < 500; ++i)
        expected += "line " + std::to_string(i) + "\nprintf " + std::to_string(i) + "\n";
    return out == expected;
}

// The report without its frames: each `File "..."` line and the source line under it
// (indented two more, after the same margin).
std::vector<std::string> without_frames(const std::vector<std::string>& lines) {
    std::vector<std::string> out;
    for (std::size_t i = 0; i < lines.size(); ++i) {
        std::size_t at = lines[i].find("  File \"");
        if (at == std::string::npos) {
            out.push_back(lines[i]);
            continue;
        }
        std::string source_prefix = lines[i].substr(0, at) + "    ";
        if (i + 1 < lines.size() && lines[i + 1].rfind(source_prefix, 0) == 0) ++i;
    }
    return out;
}

// What no report may show: the C++ machinery instead of the Python names.
void check_no_cxx_leftovers(const Outcome& r) {
    CHECK_FALSE(has(r.err, "_Nested_exception"));
    CHECK_FALSE(has(r.err, "terminate called"));
    REQUIRE_FALSE(r.err_lines.empty());
    CHECK_FALSE(has(r.err_lines.back(), "aio::"));  // Python's names, not the C++ ones
}

}  // namespace

TEST_SUITE("lesson03") {
    TEST_CASE(
        "top level: a wait_for timeout escaping main exits 1, stdout complete, the "
        "CancelledError's traceback then the TimeoutError's, last line TimeoutError") {
        Outcome r = run_child("timeout");
        CHECK(r.status == 1);
        CHECK(all_stdout_present(r.out));
        REQUIRE_FALSE(r.err_lines.empty());
        CHECK(r.err_lines.front() == "Traceback (most recent call last):");
        CHECK(r.err_lines.back() == "TimeoutError");  // Python: the bare name, no message
        std::string cause =
            "asyncio.exceptions.CancelledError\n\nThe above exception was the "
            "direct cause of the following exception:\n\n"
            "Traceback (most recent call last):\n";
        CHECK(has(r.err, cause));
        // The co_await sites, outermost first, each with its source line, as Python.
        std::string file = "  File \"../tests/lesson03_tasks/toplevel_child.cpp\", line ";
        std::size_t at_middle =
            r.err.find(", in middle\n    co_await inner();  // middle's await\n");
        std::size_t at_inner =
            r.err.find(", in inner\n    co_await aio::sleep(10);  // inner's await\n");
        std::size_t at_main = r.err.find(
            ", in timeout_main\n    co_await aio::wait_for(middle(), 0.01);  // main's await\n");
        CHECK(at_middle != std::string::npos);
        CHECK(at_inner != std::string::npos);
        CHECK(at_middle < at_inner);         // outermost first
        CHECK(at_main > r.err.find(cause));  // main is in the TimeoutError's traceback
        CHECK(has(r.err, file));
        CHECK(has(r.err, ", in wait_for\n"));  // the library's frames show, as asyncio's do
        check_no_cxx_leftovers(r);
    }

    TEST_CASE("top level: a ValueError from an awaited task ends with 'ValueError: bad'") {
        Outcome r = run_child("value");
        CHECK(r.status == 1);
        CHECK(all_stdout_present(r.out));
        REQUIRE(r.err_lines.size() >= 3);
        CHECK(r.err_lines.front() == "Traceback (most recent call last):");
        CHECK(r.err_lines.back() == "ValueError: bad");
        std::size_t at_main = r.err.find(", in value_main\n    co_await t;  // main awaits bad\n");
        std::size_t at_bad = r.err.find(", in bad\n");
        CHECK(at_main != std::string::npos);
        CHECK(at_bad != std::string::npos);
        CHECK(at_main < at_bad);
        check_no_cxx_leftovers(r);
    }

    TEST_CASE("top level: aio::Runner reports the same way") {
        Outcome r = run_child("runner");
        CHECK(r.status == 1);
        CHECK(all_stdout_present(r.out));
        CHECK(r.err_lines.back() == "ValueError: bad");
        check_no_cxx_leftovers(r);
    }

    TEST_CASE("top level: a TaskGroup's ExceptionGroup prints boxed, member by member") {
        Outcome r = run_child("group");
        CHECK(r.status == 1);
        // Python 3.11's frame of the report, without its traceback lines.
        std::vector<std::string> frame = without_frames(r.err_lines);
        CHECK(frame == std::vector<std::string>{
                           "  + Exception Group Traceback (most recent call last):",
                           "  | ExceptionGroup: unhandled errors in a TaskGroup (2 sub-exceptions)",
                           "  +-+---------------- 1 ----------------",
                           "    | Traceback (most recent call last):", "    | ValueError: bad 1",
                           "    +---------------- 2 ----------------",
                           "    | Traceback (most recent call last):", "    | ValueError: bad 2",
                           "    +------------------------------------"});
        CHECK(has(r.err, ", in bad_n\n"));
        check_no_cxx_leftovers(r);
    }

    TEST_CASE("top level: run() cancels the remaining tasks before the report, as asyncio") {
        Outcome r = run_child("cleanup");
        CHECK(r.status == 1);
        CHECK(r.out == "cleanup ran\n");
        CHECK(r.err_lines.back() == "RuntimeError: main failed");
        check_no_cxx_leftovers(r);
    }
}
