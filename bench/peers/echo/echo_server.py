"""TCP echo server on 127.0.0.1.

Copied from the project's shared bench harness (bench_peers/py/echo_server.py),
2026-12-04, with one addition: SIZE. Given SIZE, streams mode reads with
reader.readexactly(SIZE), as bench/echo_streams.cpp does (the issue's "readexactly /
write / drain"); without it, reader.read(65536) as the harness did.

usage: python echo_server.py PORT {streams|protocol} [asyncio|uvloop] [SIZE]

streams : asyncio.start_server + reader.readexactly(SIZE) (or read(65536)) /
          writer.write / await drain()
protocol: loop.create_server with an asyncio.Protocol whose data_received()
          calls transport.write(data)
Both asyncio and uvloop set TCP_NODELAY on accepted TCP sockets.
"""
import asyncio
import sys


SIZE = None


async def handle(reader, writer):
    try:
        while True:
            if SIZE:
                data = await reader.readexactly(SIZE)
            else:
                data = await reader.read(65536)
            if not data:
                break
            writer.write(data)
            await writer.drain()
    except (ConnectionError, asyncio.IncompleteReadError):
        pass
    finally:
        writer.close()


class Echo(asyncio.Protocol):
    def connection_made(self, transport):
        self.transport = transport

    def data_received(self, data):
        self.transport.write(data)


async def main(port, mode):
    loop = asyncio.get_running_loop()
    if mode == "streams":
        server = await asyncio.start_server(handle, "127.0.0.1", port, backlog=1024)
    else:
        server = await loop.create_server(Echo, "127.0.0.1", port, backlog=1024)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    port, mode = int(sys.argv[1]), sys.argv[2]
    if len(sys.argv) > 4:
        SIZE = int(sys.argv[4])
    if len(sys.argv) > 3 and sys.argv[3] == "uvloop":
        import uvloop
        uvloop.install()
    asyncio.run(main(port, mode))
