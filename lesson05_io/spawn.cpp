// spawn.cpp - fork + exec with an error pipe (CPython: _posixsubprocess.c child_exec).
#include "lesson05_io/spawn.hpp"

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdlib>

#include "lesson05_io/exceptions.hpp"

extern char** environ;

namespace aio::detail {

namespace {

// What the child writes to the error pipe when it cannot exec.
struct ChildError {
    int err;
    int in_chdir;  // 1: chdir(cwd) failed; 0: exec did
};

// Everything the child touches, built before the fork (no malloc after it).
struct ExecPlan {
    std::vector<std::string> candidates;  // the paths execve tries, in order
    std::vector<char*> argv;
    std::vector<std::string> env_strings;
    std::vector<char*> envp;
    int max_fd = 0;
};

// The PATH the program is searched in: env's PATH if env is given, else ours
// (Python: os.get_exec_path(env); os.defpath when there is none).
std::string exec_path(const SpawnRequest& request) {
    if (request.env) {
        auto it = request.env->find("PATH");
        return it != request.env->end() ? it->second : "/bin:/usr/bin";
    }
    const char* path = std::getenv("PATH");
    return path != nullptr ? path : "/bin:/usr/bin";
}

std::vector<std::string> candidates(const SpawnRequest& request) {
    const std::string& program = request.args.at(0);
    if (program.find('/') != std::string::npos) return {program};
    std::vector<std::string> out;
    std::string path = exec_path(request);
    std::size_t start = 0;
    while (start <= path.size()) {
        std::size_t end = path.find(':', start);
        if (end == std::string::npos) end = path.size();
        std::string dir = path.substr(start, end - start);
        out.push_back(dir.empty() ? program : dir + "/" + program);
        start = end + 1;
    }
    return out;
}

ExecPlan plan(const SpawnRequest& request) {
    ExecPlan p;
    p.candidates = candidates(request);
    for (const std::string& arg : request.args) p.argv.push_back(const_cast<char*>(arg.c_str()));
    p.argv.push_back(nullptr);
    if (request.env) {
        for (const auto& [name, value] : *request.env) p.env_strings.push_back(name + "=" + value);
        for (std::string& s : p.env_strings) p.envp.push_back(s.data());
        p.envp.push_back(nullptr);
    }
    struct rlimit limit {};
    p.max_fd = ::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY
                   ? static_cast<int>(limit.rlim_cur)
                   : 1024;
    return p;
}

// ---- the child, between fork and exec: async-signal-safe calls only -----------------

[[noreturn]] void child_fail(int errpipe, int err, int in_chdir) noexcept {
    ChildError report{err, in_chdir};
    [[maybe_unused]] ssize_t n = ::write(errpipe, &report, sizeof report);
    ::_exit(255);
}

// CPython's restore_signals=True, and an empty mask: a loop that blocks signals for
// signalfd must not hand its blocked mask (inherited across exec) to the child.
void child_reset_signals() noexcept {
    sigset_t none;
    ::sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::signal(SIGPIPE, SIG_DFL);
    ::signal(SIGXFSZ, SIG_DFL);
}

// fd `from` becomes fd `to` (without close-on-exec). CPython's order: a source that is
// itself a low fd is moved out of the way first (stdout given as fd 0, ...).
void child_dup_stdio(const std::array<int, 3>& stdio, int errpipe) noexcept {
    std::array<int, 3> from = stdio;
    for (int i = 1; i < 3; ++i)
        if (from[i] >= 0 && from[i] < i) from[i] = ::fcntl(from[i], F_DUPFD_CLOEXEC, 3);
    for (int i = 0; i < 3; ++i) {
        if (from[i] < 0) continue;
        int r = from[i] == i ? ::fcntl(i, F_SETFD, 0) : ::dup2(from[i], i);
        if (r < 0) child_fail(errpipe, errno, 0);
    }
}

// Python's close_fds=True, done as close-on-exec so the error pipe still works.
void child_close_fds(int max_fd) noexcept {
#if defined(SYS_close_range) && defined(CLOSE_RANGE_CLOEXEC)
    if (::syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC) == 0) return;
#endif
    for (int fd = 3; fd < max_fd; ++fd) ::fcntl(fd, F_SETFD, FD_CLOEXEC);
}

[[noreturn]] void child_exec(const SpawnRequest& request, ExecPlan& p, int errpipe) noexcept {
    child_reset_signals();
    child_dup_stdio(request.stdio, errpipe);
    child_close_fds(p.max_fd);
    if (request.cwd && ::chdir(request.cwd->c_str()) < 0) child_fail(errpipe, errno, 1);
    char** envp = request.env ? p.envp.data() : environ;
    int saved = 0;
    for (std::string& path : p.candidates) {
        ::execve(path.c_str(), p.argv.data(), envp);
        if (errno != ENOENT && errno != ENOTDIR && saved == 0) saved = errno;
    }
    child_fail(errpipe, saved != 0 ? saved : errno, 0);
}

// ---- the parent --------------------------------------------------------------------

// The child's report: none (it exec'd), or its error.
bool read_report(int errpipe, ChildError& report) {
    std::size_t got = 0;
    auto* out = reinterpret_cast<char*>(&report);
    while (got < sizeof report) {
        ssize_t n = ::read(errpipe, out + got, sizeof report - got);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        got += static_cast<std::size_t>(n);
    }
    return got == sizeof report;
}

void reap(int pid) noexcept {
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
}

}  // namespace

int spawn(const SpawnRequest& request) {
    ExecPlan p = plan(request);
    int errpipe[2];
    if (::pipe2(errpipe, O_CLOEXEC) < 0) throw_os_error(errno);
    int pid = ::fork();
    if (pid == 0) child_exec(request, p, errpipe[1]);
    int fork_errno = errno;
    ::close(errpipe[1]);
    if (pid < 0) {
        ::close(errpipe[0]);
        throw_os_error(fork_errno);
    }
    ChildError report{};
    bool failed = read_report(errpipe[0], report);
    ::close(errpipe[0]);
    if (!failed) return pid;
    reap(pid);
    throw_os_error(report.err, {}, report.in_chdir ? *request.cwd : request.args[0]);
}

}  // namespace aio::detail
