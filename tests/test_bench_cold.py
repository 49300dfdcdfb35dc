"""bench/cold.py's timing of one URL: a download cut while it streams (gunicorn's timeout killing the worker) keeps
its first-byte time and counts as an error; a whole answer is timed and keeps its status."""

import socket
import threading
import time

from bench.cold import timed_get


def serve_once(body_then_cut):
    """A one-request server on a free port: answers with a chunked body, then either ends it or cuts it."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)

    def answer():
        client, _ = listener.accept()
        client.recv(65536)
        client.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nclave\r\n")
        time.sleep(0.3)  # the rest of the download takes a while
        if not body_then_cut:
            client.sendall(b"0\r\n\r\n")
        client.close()
        listener.close()

    threading.Thread(target=answer, daemon=True).start()
    return listener.getsockname()[1]


def test_a_download_cut_while_streaming_keeps_its_first_byte_time_and_is_an_error():
    elapsed, status = timed_get(serve_once(body_then_cut=True), "/proyectos/descarga.csv", first_byte=True)
    assert status == 0 and elapsed < 250


def test_a_whole_download_keeps_its_status_and_first_byte_time():
    elapsed, status = timed_get(serve_once(body_then_cut=False), "/proyectos/descarga.csv", first_byte=True)
    assert status == 200 and elapsed < 250
    elapsed, status = timed_get(serve_once(body_then_cut=False), "/", first_byte=False)
    assert status == 200 and elapsed >= 300
