// spawn.hpp - starting a child process: fork, then exec, with a close-on-exec error
// pipe that brings an exec failure back to the caller (CPython: _posixsubprocess.c,
// subprocess.Popen._execute_child).
//
//   parent                                   child
//   pipe2(errpipe, O_CLOEXEC)
//   argv, envp, PATH candidates built
//   fork() ──────────────────────────────▶   signal mask emptied, SIGPIPE/SIGXFSZ default
//   close(errpipe[1])                        dup2 the stdio fds onto 0, 1, 2
//   read(errpipe[0]) ... blocks              every other fd marked close-on-exec
//                                            chdir(cwd); execve(each PATH candidate)
//     0 bytes: exec worked (the     ◀──────  exec succeeded: errpipe closed by exec
//     pipe closed by the exec)
//     an errno: waitpid(child),     ◀──────  exec failed: write(errno), _exit(255)
//     raise OSError naming the program
//
// Between fork and exec the child calls only async-signal-safe functions: another
// thread may hold malloc's lock at the fork, so everything the child needs is built
// before it. Raising in the caller (FileNotFoundError: [Errno 2] No such file or
// directory: 'prog') needs the blocking read: it returns as soon as the child has
// exec'd, which is what CPython's Popen does too.
#pragma once

#include <array>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace aio::detail {

// What to start. stdio[i] is the fd the child gets as fd i; -1 leaves the parent's.
struct SpawnRequest {
    std::vector<std::string> args;  // args[0] is the program, searched in PATH if no '/'
    std::optional<std::string> cwd;
    std::optional<std::map<std::string, std::string>> env;  // None: the parent's
    std::array<int, 3> stdio{-1, -1, -1};
};

// Starts the child; its pid. Throws the OSError subclass of the failure (fork, chdir,
// exec), with the program (or cwd) as its filename, once the failed child is reaped.
int spawn(const SpawnRequest& request);

}  // namespace aio::detail
