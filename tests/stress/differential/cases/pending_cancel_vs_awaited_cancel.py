"""CPython's side of cases/pending_cancel_vs_awaited_cancel.txt: prints CancelledError('a')."""
import asyncio


async def t1():
    asyncio.current_task().cancel("a")
    await asyncio.sleep(0)


async def t2(main_task):
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    main_task.cancel("b")


async def main():
    helper = asyncio.create_task(t2(asyncio.current_task()))
    try:
        await asyncio.gather(asyncio.create_task(t1()))
    except asyncio.CancelledError as e:
        print(repr(e))
    await helper


asyncio.run(main())
