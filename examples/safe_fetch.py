# safe_fetch.py - tutorial 000, example 5: a fetch bounded by a timeout, its errors turned
# into messages, several fetches gathered. safe_fetch.cpp is its C++ port.
#
# There is no network here: the part of aiohttp the example uses is simulated below, and
# safe_fetch.cpp simulates it the same way (same delays, same bodies, same error text),
# so the two programs print the same thing. "/delay/N" answers after N seconds, like
# httpbin.org's; any other httpbin.org path after 0.1 s; any other host cannot be reached.
#
# Two changes to the tutorial's code, both marked below: its `async with
# asyncio.wait_for(...)` does not run (wait_for gives a coroutine, which is not an async
# context manager: TypeError), so the request is awaited under wait_for as it evidently
# meant; and a third URL, on a host that does not resolve, takes the error branch.
import asyncio

# ---- the simulated aiohttp (ClientSession.get, ClientResponse.text, ClientError) ------

GET_BODY = ('{"args": {}, "headers": {"Host": "httpbin.org"}, '
            '"origin": "203.0.113.7", "url": "https://httpbin.org/get"}')


class ClientError(Exception):
    pass


class ClientResponse:
    def __init__(self, body):
        self.body = body

    async def __aenter__(self):
        return self

    async def __aexit__(self, *error):
        pass

    async def text(self):
        return self.body


class ClientSession:
    async def __aenter__(self):
        return self

    async def __aexit__(self, *error):
        pass

    async def get(self, url):
        rest = url.split("//", 1)[1]  # "httpbin.org/delay/5"
        host = rest.split("/", 1)[0]
        if host != "httpbin.org":
            raise ClientError(f"Cannot connect to host {host}"
                              ":443 ssl:default [Name or service not known]")
        path = rest.split("/", 1)[1]
        if path.startswith("delay/"):
            await asyncio.sleep(float(path[len("delay/"):]))
            return ClientResponse('{"url": "' + url + '"}')
        await asyncio.sleep(0.1)
        return ClientResponse(GET_BODY)


# ---- the tutorial's program ----------------------------------------------------------


async def safe_fetch(url: str, timeout: int = 3):
    try:
        async with ClientSession() as session:
            # The tutorial: `async with asyncio.wait_for(session.get(url), timeout):` and
            # a second session.get(url) inside; this is the request it meant to bound.
            resp = await asyncio.wait_for(session.get(url), timeout)
            async with resp:
                return await resp.text()
    except asyncio.TimeoutError:
        return f"{url} 逾時"
    except ClientError as e:
        return f"{url} 錯誤: {e}"


async def main():
    urls = ["https://httpbin.org/delay/5", "https://httpbin.org/get",
            "https://nowhere.invalid/"]  # the third is ours: it takes the error branch
    results = await asyncio.gather(*(safe_fetch(u) for u in urls))
    for r in results:
        print(r[:80], "...")


asyncio.run(main())
