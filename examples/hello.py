# hello.py - tutorial 000, example 1: the "Hello, World" coroutine, as the tutorial has it.
# hello.cpp is its C++ port; hello.expected is what CPython 3.11 prints.
import asyncio


async def hello():
    print("開始執行")
    await asyncio.sleep(1)  # gives control back to the loop for one second
    print("結束執行")


asyncio.run(hello())
