# pitfalls.py - tutorial 000's table of pitfalls, one small demonstration per row, in the
# table's order. The table has no code: these programs are ours. pitfalls.cpp is the C++
# port, and prints the same lines; what the two write to stderr (warnings, log lines) is
# compared message by message (see README.md).
#
#  1. asyncio.run() where a loop already runs: RuntimeError.
#  2. A forgotten await: the coroutine never runs ("coroutine ... was never awaited").
#  3. A blocking call in a coroutine (time.sleep): the whole loop waits. Debug mode names
#     the step that held it ("Executing <Task ...> took 0.300 seconds").
#  4. Too many tasks at once: a Semaphore bounds how many run together.
#  5. A resource not closed (a ClientSession): an exception skips the close() after it;
#     `async with` closes it anyway.
import asyncio
import time

# ---- 1. asyncio.run() inside a running loop ---------------------------------------------


async def nested():
    return 1


async def run_inside_run():
    try:
        asyncio.run(nested())
    except RuntimeError as e:
        print(f"1. asyncio.run() inside a running loop: RuntimeError: {e}")


# ---- 2. a forgotten await ---------------------------------------------------------------


async def fetch_data():
    print("   (never printed: nobody awaited fetch_data)")
    return "data"


async def forget_await():
    result = fetch_data()  # no await: a coroutine object, and it never runs
    print(f"2. forgetting await: got the coroutine {result.__name__}(), not its result")


# ---- 3. blocking the loop ---------------------------------------------------------------


async def blocking_job():
    time.sleep(0.3)  # holds the thread: no other task runs meanwhile


async def polite_job():
    await asyncio.sleep(0.3)  # gives the loop back while it waits


async def two_side_by_side(job):
    loop = asyncio.get_running_loop()
    start = loop.time()
    await asyncio.gather(job(), job())
    return loop.time() - start


async def block_the_loop():
    loop = asyncio.get_running_loop()
    loop.set_debug(True)  # logs each step that holds the loop over 0.1 s
    blocked = await two_side_by_side(blocking_job)
    loop.set_debug(False)
    polite = await two_side_by_side(polite_job)
    print(f"3. two blocking_job() gathered: {blocked:.1f} s; two polite_job(): {polite:.1f} s")


# ---- 4. too many tasks ------------------------------------------------------------------

running = 0  # jobs between their start and their end
peak = 0  # the most that ever ran together


async def job():
    global running, peak
    running += 1
    peak = max(peak, running)
    await asyncio.sleep(0.001)  # its I/O
    running -= 1


async def limited_job(sem):
    async with sem:
        await job()


async def too_many_tasks():
    global peak
    peak = 0
    await asyncio.gather(*(job() for _ in range(1000)))
    unlimited = peak
    peak = 0
    sem = asyncio.Semaphore(10)
    await asyncio.gather(*(limited_job(sem) for _ in range(1000)))
    print(f"4. 1000 jobs gathered: {unlimited} ran together; under Semaphore(10): {peak}")


# ---- 5. a resource left open ------------------------------------------------------------

open_sessions = 0


class Session:
    """Stands in for aiohttp.ClientSession: open from creation until close()."""

    def __init__(self):
        global open_sessions
        open_sessions += 1

    async def __aenter__(self):
        return self

    async def __aexit__(self, *error):
        await self.close()

    async def close(self):
        global open_sessions
        open_sessions -= 1

    async def get(self, url):
        await asyncio.sleep(0.01)
        raise ConnectionResetError(f"{url}: connection reset by peer")


async def leaky(url):
    session = Session()
    await session.get(url)  # raises: the close() below never runs
    await session.close()


async def tidy(url):
    async with Session() as session:  # closed on the way out, even by an exception
        await session.get(url)


async def left_open(fetch):
    """How many sessions fetch leaves open when its request fails."""
    global open_sessions
    open_sessions = 0
    try:
        await fetch("https://example.com/")
    except ConnectionResetError:
        pass
    return open_sessions


async def resources_left_open():
    leaked = await left_open(leaky)
    kept = await left_open(tidy)
    print(f"5. sessions left open by a failed get: leaky() {leaked}, tidy() {kept}")


async def main():
    await run_inside_run()
    await forget_await()
    await block_the_loop()
    await too_many_tasks()
    await resources_left_open()


asyncio.run(main())
