"""The client half of bench/refusals: one connection kept served, every other one refused.

Opens one connection and keeps it busy (a webhook every 0.3 s), so the server under test
(`max_connections = 1`) serves it and sheds every connection after it. Then 48 concurrent
senders post N unsigned webhooks: `fresh` opens a new connection for each, `kept` reuses its
connection until the server closes it. Prints the statuses seen; every one must be a 503.
  python3 bench/refusals.py HOST:PORT N fresh|kept
"""

import asyncio
import sys
import time

SENDERS = 48
BODY = b'{"zen": "Keep it logically awesome."}'.ljust(1024)
REQUEST = (
    b"POST /webhooks/gh HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n"
    b"X-GitHub-Event: push\r\nX-GitHub-Delivery: refused\r\nX-Hub-Signature-256: sha256=00\r\n"
    b"Content-Length: %d\r\n\r\n" % len(BODY)
) + BODY


async def exchange(reader, writer):
    """Sends one webhook; answers its status and whether the server closes the connection."""
    writer.write(REQUEST)
    await writer.drain()
    head = (await reader.readuntil(b"\r\n\r\n")).lower()
    length = next(
        int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.startswith(b"content-length:")
    )
    await reader.readexactly(length)
    return head.split(b" ")[1].decode(), b"connection: close" in head


async def keep_served(host, port, stop):
    reader, writer = await asyncio.open_connection(host, port)
    while not stop.is_set():
        await exchange(reader, writer)
        await asyncio.sleep(0.3)


async def sender(host, port, left, fresh, statuses):
    reader = writer = None
    while left[0] > 0:
        left[0] -= 1
        if reader is None:
            reader, writer = await asyncio.open_connection(host, port)
        status, closes = await exchange(reader, writer)
        statuses[status] = statuses.get(status, 0) + 1
        if fresh or closes:
            writer.close()
            reader = writer = None


async def main(authority, count, mode):
    host, port = authority.rsplit(":", 1)
    stop = asyncio.Event()
    served = asyncio.create_task(keep_served(host, int(port), stop))
    await asyncio.sleep(0.5)
    left, statuses, started = [count], {}, time.monotonic()
    await asyncio.gather(
        *(sender(host, int(port), left, mode == "fresh", statuses) for _ in range(SENDERS))
    )
    stop.set()
    await served
    print(f"{mode}: {statuses} in {time.monotonic() - started:.1f} s")
    if set(statuses) != {"503"}:
        sys.exit("not every request was refused: is max_connections 1?")


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2]), sys.argv[3]))
