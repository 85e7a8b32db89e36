"""tour_facts.py - what lesson 5's watch lines claim, checked on the demo's output.

tests/tour/check_tour.py runs lesson05_demo (AIO_CLOCK=virtual), checks the parts'
shape, then calls check(parts). Each assert names the claim of the watch line it
guards. The servers listen on port 0, so ports are checked for their shape only.
"""

import re

ADDRESS = r"\('127\.0\.0\.1', \d+\)"


def stamp(line):
    """The [t.tt] time at the start of a demo line, as a float."""
    return float(line.split("]")[0].split("[")[1])


def at(part, text):
    return stamp(part.line_with(text))


def number(line, before):
    """The integer right before `before` in line ("983094 bytes buffered")."""
    return int(re.search(r"(\d+) " + re.escape(before), line).group(1))


def in_order(part, texts, claim):
    where = [part.index_of(text) for text in texts]
    assert where == sorted(where), f"{claim}: expected the order {texts}"


def check_echo(p):
    assert re.search(r"Serving on " + ADDRESS + "$", p.lines[0]), \
        "echo: it prints the address the kernel gave: Serving on ('127.0.0.1', PORT)"
    assert re.search(r"\] Connection from " + ADDRESS + "$", p.line_with("Connection from")), \
        "echo: the server prints Connection from ('127.0.0.1', PORT), as the tutorial's"
    for message, when in [("Hello, World!", 0.0), ("asyncio, from scratch", 0.5)]:
        sent = p.index_of(f"client: send '{message}'")
        assert stamp(p.lines[sent]) == when, f"echo: the client sends {message!r} at {when:.2f}"
        assert p.lines[sent + 1].endswith(f"] Received: '{message}'") \
            and stamp(p.lines[sent + 1]) == when, \
            f"echo: the server's Received: {message!r} comes at once, at {when:.2f}"
        assert p.lines[sent + 2].endswith(f"client: got back b'{message}'"), \
            f"echo: {message!r} comes back whole"
    assert at(p, "client: close()") == 1.0, "echo: the client closes at 1.00"
    assert p.index_of("Close the connection") == p.index_of("client: close()") + 1 \
        and at(p, "Close the connection") == 1.0, \
        "echo: the client's close is the server's EOF: Close the connection at 1.00"
    assert "is_serving() false" in p.line_with("serve_forever() cancelled"), \
        "echo: cancelling serve_forever closes the server"
    assert "done, 0 connections left" in p.lines[-1], \
        "echo: `async with server` ends once the last connection is gone"


def check_lines(p):
    assert "one write of 20 bytes" in p.line_with("client: one write"), \
        "lines: the client sends the three lines in one write"
    served = [line for line in p.lines if "server: line " in line]
    assert [line.split("server: line ")[1] for line in served] == [
        "b'apple\\n', 14 bytes still buffered", "b'banana\\n', 7 bytes still buffered",
        "b'cherry\\n', 0 bytes still buffered"], \
        "lines: they arrive in one piece (14 bytes buffered after the first), " \
        "and the async for yields them one at a time"
    replies = [line.split("readline() -> ")[1] for line in p.lines if "readline() ->" in line]
    assert replies == ["b'APPLE\\n'", "b'BANANA\\n'", "b'CHERRY\\n'"], \
        "lines: readline() gives each answer, one line at a time"
    assert "at_eof() true" in p.line_with("the async for ended") \
        and p.index_of("the async for ended") > p.index_of("client: write_eof()"), \
        "lines: the async for ends at the client's write_eof()"
    assert set(p.times()) == {0.0}, "lines: loopback I/O takes no virtual time"


def check_backpressure(p):
    assert "low 16384, high 65536" in p.line_with("write buffer limits"), \
        "backpressure: the high-water mark is 64 KiB (low 16 KiB)"
    assert p.line_with("write(1 KiB)").endswith(": 0 bytes buffered"), \
        "backpressure: 1 KiB goes straight to the kernel: 0 bytes buffered"
    first_drain = p.lines[p.index_of("write(1 KiB)") + 1]
    assert "drain() returned: 0 bytes buffered" in first_drain and stamp(first_drain) == 0.0, \
        "backpressure: under the high-water mark drain() returns at once"
    big = number(p.line_with("write(1 MiB)"), "bytes buffered")
    assert 65536 < big <= 1 << 20 and big > (1 << 20) // 2, \
        f"backpressure: after 1 MiB most of it is buffered, above the high-water mark ({big})"
    second_drain = p.lines[p.index_of("write(1 MiB)") + 1]
    assert "drain() returned" in second_drain and stamp(second_drain) > 0.0, \
        "backpressure: drain() waits for the slow reader"
    assert number(second_drain, "bytes buffered") <= 16384, \
        "backpressure: drain() returns once the buffer is at most the low-water mark"
    server = p.line_with("server: read ")
    assert number(server, "bytes;") == 1024 + (1 << 20), "backpressure: every byte arrives"
    assert number(server, "(limit") < (1 << 20) // 2 and number(server, "of its reads") > 0, \
        "backpressure: the slow reader's buffer stays bounded: it pauses its transport"
    assert p.lines[-1].endswith("read() -> b''"), "backpressure: the server closes at the end"


def check_protocol(p):
    assert re.search(r"server: Connection from " + ADDRESS + "$", p.line_with("Connection")), \
        "protocol: connection_made prints the peer's address"
    in_order(p, ["server: Connection from", "server: Data received: 'Hello World!'",
                 "server: Send: 'Hello World!'", "server: Close the client socket",
                 "server: connection_lost(None)"],
             "protocol: the server's callbacks come in asyncio's order")
    in_order(p, ["client: Data sent: 'Hello World!'", "server: Data received",
                 "client: Data received: 'Hello World!'",
                 "client: The server closed the connection"],
             "protocol: the client's callbacks come in asyncio's order")
    assert p.index_of("client: Data received") > p.index_of("server: Close the client socket"), \
        "protocol: the server's close() after its write still delivers the echo"
    assert p.lines[-1].endswith("client: The server closed the connection"), \
        "protocol: the client's connection_lost (on_con_lost) ends the part"
    assert set(p.times()) == {0.0}, "protocol: loopback I/O takes no virtual time"


def check_errors(p):
    assert re.search(r"ConnectionRefusedError: \[Errno 111\] Connect call failed " + ADDRESS,
                     p.line_with("ConnectionRefusedError")), \
        "errors: the refusal names the address, as asyncio's"
    assert "IncompleteReadError: 8 bytes read on a total of 16 expected bytes" in \
        p.line_with("readexactly(16)"), "errors: IncompleteReadError says 8 of 16"
    assert p.line_with("e.partial").endswith("e.partial = b'8 bytes!', e.expected = 16"), \
        "errors: the partial bytes come with the error"


def check_subprocess(p):
    printed = [line.split("] ", 1)[1] for line in p.lines if "stdout: " in line or "stderr: " in line]
    assert printed == ["stdout: b'step 1: download\\n'", "stderr: b'warning: slow mirror\\n'",
                       "stdout: b'step 2: unpack\\n'", "stdout: b'done\\n'"], \
        "subprocess: stdout and stderr are read at once, in the order the child wrote them"
    times = [stamp(line) for line in p.lines if "stdout: " in line or "stderr: " in line]
    assert all(later - earlier >= 0.15 for earlier, later in zip(times, times[1:])), \
        "subprocess: each line is printed when the child prints it, 0.2 s apart, not at exit"
    assert "wait() -> 3" in p.line_with("wait() ->"), "subprocess: wait() gives the exit code 3"
    assert p.line_with("no-such-program").endswith(
        "raised FileNotFoundError: [Errno 2] No such file or directory: 'no-such-program'"), \
        "subprocess: a missing program raises FileNotFoundError naming it"


def check_signals(p):
    """The last part (demo_signals.cpp): a signal handler, and Ctrl+C in run()."""
    assert at(p, "on_usr1('reload') runs") == 0.5 \
        and p.line_with("on_usr1('reload') runs").endswith("on the loop's thread: yes"), \
        "signals: on_usr1 runs at 0.50 on the loop's thread"
    assert p.line_with("remove_signal_handler(SIGUSR1)").endswith(
        "-> true, SIGUSR1 back to SIG_DFL: yes"), \
        "signals: removing the handler puts SIG_DFL back"
    in_order(p, ["as if the user pressed Ctrl+C", "connection closed (its exit ran)",
                 "main: CancelledError at its await"],
             "signals: Ctrl+C cancels main, the `async with` exit and its catch run")
    for text in ["as if the user pressed Ctrl+C", "connection closed", "CancelledError"]:
        assert at(p, text) == 1.0, f"signals: {text!r} at 1.00"
    assert p.lines[-1] == "  run() threw aio::KeyboardInterrupt; SIGINT back to SIG_DFL: yes", \
        "signals: run() throws KeyboardInterrupt, and SIGINT is SIG_DFL again"


def check_files(p):
    starts = [p.index_of(f"read_file(example{i}.txt): open") for i in (1, 2, 3)]
    dones = [p.index_of(f"read_file(example{i}.txt): done") for i in (1, 2, 3)]
    assert max(starts) < min(dones), \
        "files: all three read_file calls start before any is done"
    first_tick = p.index_of("ticker: tick 1")
    assert max(starts) < first_tick < min(dones) \
        and p.lines[first_tick].endswith("3 reads in their threads"), \
        "files: the ticker ticks while all three reads are in flight: the loop is free"
    assert number(p.line_with("ticks while"), "ticks while") >= 1, "files: the ticker ticked"
    sizes = {f"example{i}.txt": (1 << 20) << (i - 1) for i in (1, 2, 3)}
    for name, size in sizes.items():
        assert p.line_with(f"] {name}: ").endswith(f"{name}: {size} bytes"), \
            f"files: {name}'s size comes back whole ({size} bytes)"
    assert p.lines[-1].endswith("removed the temp dir"), "files: the temp dir is removed"


def part_titled(parts, text):
    """The part whose heading contains text: the second half's parts are found by
    title, so a part added between them does not move their checks."""
    found = [p for p in parts if text in p.title]
    assert len(found) == 1, f"one demo part is titled ...{text}...: {[p.title for p in parts]}"
    return found[0]


def check(parts):
    titles = [p.title.split(":")[0] for p in parts]
    assert len(parts) == 8, f"the demo has eight parts: {titles}"
    check_echo(parts[0])
    check_lines(parts[1])
    check_backpressure(parts[2])
    check_protocol(parts[3])
    check_errors(parts[4])
    # the second half's parts, found by title
    check_subprocess(part_titled(parts, "a subprocess's output"))
    check_files(part_titled(parts, "files, as aiofiles does"))
    check_signals(part_titled(parts, "Ctrl+C and signal handlers"))
