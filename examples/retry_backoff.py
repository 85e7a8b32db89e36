# retry_backoff.py - tutorial 001, "retry with exponential backoff": up to three tries,
# sleeping 0.5 * attempt seconds plus up to one second of random jitter between them.
# retry_backoff.cpp is its C++ port.
#
# There is no network here: the part of aiohttp the example uses is simulated below, and
# retry_backoff.cpp simulates it the same way. The simulated codesparklab.com is still
# starting: it answers its first two requests with "503 Service Unavailable", then the
# page. It prints a line for each request, so the retries can be seen (the tutorial's
# program prints only the length). The jitter is random in both programs; nothing
# printed depends on it.
import asyncio
import random

# ---- the simulated aiohttp and server -------------------------------------------------

PAGE = "<html><head><title>CodeSpark</title></head><body><h1>你好,世界</h1></body></html>"


class ClientResponseError(Exception):
    pass


class ClientResponse:
    def __init__(self, url, status, reason, body):
        self.url, self.status, self.reason, self.body = url, status, reason, body

    def raise_for_status(self):
        if self.status >= 400:
            raise ClientResponseError(f"{self.status}, message='{self.reason}', url='{self.url}'")

    async def text(self):
        return self.body


served = 0  # requests the server has answered


async def serve(url):
    """The server: still starting, it fails its first two requests."""
    global served
    await asyncio.sleep(0.1)  # the round trip
    served += 1
    if served < 3:
        print(f"  (server) GET {url} -> 503 Service Unavailable")
        return ClientResponse(url, 503, "Service Unavailable", "")
    print(f"  (server) GET {url} -> 200 OK")
    return ClientResponse(url, 200, "OK", PAGE)


class RequestContext:
    """What session.get(url) gives: `async with` sends the request, gives the response."""

    def __init__(self, url):
        self.url = url

    async def __aenter__(self):
        return await serve(self.url)

    async def __aexit__(self, *error):
        pass


class ClientSession:
    async def __aenter__(self):
        return self

    async def __aexit__(self, *error):
        pass

    def get(self, url):
        return RequestContext(url)


# ---- the tutorial's program ----------------------------------------------------------


async def fetch_with_retry(session, url, retries=3):
    for attempt in range(1, retries + 1):
        try:
            async with session.get(url) as resp:
                resp.raise_for_status()
                text = await resp.text()
                return text
        except Exception as e:
            if attempt == retries:
                raise
            await asyncio.sleep(0.5 * attempt + random.random())


async def main():
    async with ClientSession() as session:
        text = await fetch_with_retry(session, "https://codesparklab.com/")
        print("Fetched length:", len(text))


if __name__ == "__main__":
    asyncio.run(main())
