"""bench/load.py's keep-alive connections: an idle connection the server has closed (gunicorn closes one idle for
its `keepalive` seconds) is not an error of the server; the request goes again on a new connection. An answer cut
after it began stays an error."""

import asyncio

import pytest

from bench.load import Target

ANSWER = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"


async def serve(handle):
    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]


def test_a_request_on_an_idle_connection_the_server_closed_is_sent_again_on_a_new_one():
    async def scenario():
        connections = []

        async def handle(reader, writer):
            connections.append(writer)
            await reader.readuntil(b"\r\n\r\n")
            writer.write(ANSWER)
            await writer.drain()
            writer.close()  # as gunicorn does once the keep-alive connection has been idle too long

        server, port = await serve(handle)
        async with server:
            target = Target(f"http://127.0.0.1:{port}/")
            assert await target.fetch() == (200, 2)
            assert len(target.idle) == 1  # kept for reuse: the answer did not say "close"
            await asyncio.sleep(0.1)
            assert await target.fetch() == (200, 2)  # the stale one answered nothing: sent again
            assert len(connections) == 2

    asyncio.run(scenario())


def test_an_answer_cut_after_it_began_is_still_an_error():
    async def scenario():
        async def handle(reader, writer):
            await reader.readuntil(b"\r\n\r\n")
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nok")  # 2 of 10 bytes, then closed
            await writer.drain()
            writer.close()

        server, port = await serve(handle)
        async with server:
            with pytest.raises(asyncio.IncompleteReadError):
                await Target(f"http://127.0.0.1:{port}/").fetch()

    asyncio.run(scenario())
