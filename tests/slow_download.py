"""A WSGI application whose answer streams for longer than the timeout the test gives gunicorn (test_serving)."""

import time

CHUNKS, PAUSE = 10, 0.5


def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/csv; charset=utf-8")])

    def body():
        for n in range(CHUNKS):
            time.sleep(PAUSE)
            yield f"fila,{n}\n".encode()

    return body()
