// demo_files.cpp - lesson 5's demo, the files part: tutorial 001's aiofiles example,
// several files read at once, each `async with aiofiles.open(path) as f: contents =
// await f.read()`, gathered, printing "name: size". Beside them a ticker task runs
// on the loop while the reads sit in the executor's threads, which is the point: a file
// read blocks a worker, not the loop.
//
// The files are written first (also through aio::open) into a fresh directory under
// $TMPDIR, and removed at the end with to_thread (a blocking call, run_in_executor's way).
// Each read_file prints when it starts and when its read is done; all three start
// before any is done, and the ticker's first tick comes while all three are in flight.
// How many ticks fit in the reads depends on the disk cache and the machine, so that
// count, and the times, vary from run to run.
#include <cstdlib>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "lesson02_coroutines/context_managers.hpp"
#include "lesson02_coroutines/sleep.hpp"
#include "lesson03_tasks/gather.hpp"
#include "lesson03_tasks/tasks.hpp"
#include "lesson03_tasks/threads.hpp"
#include "lesson05_io/demo.hpp"
#include "lesson05_io/files.hpp"

using demo::say;

namespace {

struct Reading {
    int in_flight = 0;  // read_file calls between their start and their end
    bool finished = false;
};

// The tutorial's read_file(path): (name, len(contents)).
aio::Coro<std::pair<std::string, std::size_t>> read_file(std::string dir, std::string name,
                                                         Reading* reading) {
    ++reading->in_flight;
    say("read_file(" + name + "): open and read on the executor");
    std::string contents;
    auto body = [&contents](aio::TextFile& f) -> aio::Coro<void> { contents = co_await f.read(); };
    co_await aio::async_with(aio::open(dir + "/" + name, "r"), body);
    --reading->in_flight;
    say("read_file(" + name + "): done, " + std::to_string(reading->in_flight) +
        " still in flight");
    co_return std::pair{name, contents.size()};
}

// A task that shows the loop is free: it ticks every 2 ms while the reads wait in their
// threads. It prints its first tick, then only how many ticks it made.
aio::Coro<void> ticker(Reading* reading) {
    int ticks = 0;
    while (!reading->finished) {
        if (++ticks == 1)
            say("ticker: tick 1, the loop is free; " + std::to_string(reading->in_flight) +
                " reads in their threads");
        co_await aio::sleep(0.002);
    }
    say("ticker: " + std::to_string(ticks) + " ticks while the reads were in their threads");
}

aio::Coro<void> write_file(std::string path, std::size_t size) {
    aio::TextFile f = co_await aio::open(path, "w");
    std::string line = "asyncio from scratch, in C++: a line of the file.\n";
    std::string text;
    while (text.size() + line.size() <= size) text += line;
    text.resize(size, '.');
    co_await f.write(std::move(text));
    co_await f.close();
}

std::string make_dir() {
    std::string pattern = std::filesystem::temp_directory_path() / "aio-demo-files-XXXXXX";
    if (!::mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
    return pattern;
}

void remove_dir(std::string dir) { std::filesystem::remove_all(dir); }

}  // namespace

aio::Coro<void> demo::files_part() {
    start_clock();
    say("writing example1.txt, example2.txt, example3.txt (1, 2 and 4 MiB) into a temp dir");
    std::string dir = co_await aio::to_thread(make_dir);
    std::vector<std::string> names = {"example1.txt", "example2.txt", "example3.txt"};
    std::vector<std::size_t> sizes = {1 << 20, 2 << 20, 4 << 20};
    for (std::size_t i = 0; i < names.size(); ++i)
        co_await write_file(dir + "/" + names[i], sizes[i]);
    say("written; now the tutorial's main(): gather(read_file(p) for p in files)");
    Reading reading;
    std::vector<aio::Coro<std::pair<std::string, std::size_t>>> tasks;
    for (const std::string& name : names) tasks.push_back(read_file(dir, name, &reading));
    auto all = aio::gather(std::move(tasks));
    aio::Task<void> tick = aio::create_task(ticker(&reading));
    auto results = co_await std::move(all);
    reading.finished = true;
    co_await tick;
    for (auto& [name, size] : results) say(name + ": " + std::to_string(size) + " bytes");
    co_await aio::to_thread(remove_dir, dir);
    say("removed the temp dir");
}
