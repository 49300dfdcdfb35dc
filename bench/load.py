"""A fixed-rate (open-loop) HTTP load generator, for the held-load test.

Debian ships wrk, which keeps N connections busy (closed loop): when the server slows down it sends less, and its
latencies hide the queue the slow-down caused ("coordinated omission"). wrk2 fixes that but is not packaged, so this
module does what wrk2 does, with asyncio: request i is due at start + i/rate whatever happened before, and its
latency is measured from that due time to the last byte of the response, so waiting for a free connection counts.

Bounded by construction: rate x duration requests at most, each given up after --timeout seconds, at most
--max-in-flight at once (a request due when that many are pending is counted as an error, not sent). Loopback only.

    python -m bench.load http://127.0.0.1:8100/proyectos/ --rate 250 --duration 60 --warmup 5

`--paths FILE` sends a mix instead of one URL: request i asks for line i of FILE (one path per line, taken in
turn, from the start again when they run out) on the URL's host (bench/edits.py writes a Zipf mix of catalogue
URLs there).

prints one JSON object: requests due, completed, errors by kind, status counts, latency percentiles (ms; a request
that timed out counts as taking the timeout, so a percentile that reaches it is a lower bound), the rate achieved,
and the response sizes.
"""

import argparse
import asyncio
import json
import time
from urllib.parse import urlsplit

LOOPBACK = ("127.", "localhost", "[::1]", "::1")


class Target:
    def __init__(self, url, paths=None):
        parts = urlsplit(url)
        if parts.scheme != "http" or not (parts.hostname or "").startswith(LOOPBACK):
            raise SystemExit(f"bench.load only sends traffic to http:// loopback addresses, not {url}")
        self.host, self.port = parts.hostname, parts.port or 80
        paths = paths or [(parts.path or "/") + (f"?{parts.query}" if parts.query else "")]
        requests = {
            path: f"GET {path} HTTP/1.1\r\nHost: {parts.netloc}\r\nUser-Agent: ficosec-bench\r\n\r\n".encode()
            for path in set(paths)
        }
        self.requests = [requests[path] for path in paths]  # request i sends self.requests[i % len]
        self.idle = []  # keep-alive connections ready for another request

    async def fetch(self, index=0, reuse=True):
        """(status, body size) of one GET, on an idle keep-alive connection or a new one. An idle connection the
        server closed meanwhile (gunicorn closes one idle for its `keepalive` seconds) answers nothing: the request
        is then sent again on a new connection, as HTTP clients do for an idempotent request (RFC 9112, 9.3.1)."""
        reused = reuse and bool(self.idle)
        reader, writer = self.idle.pop() if reused else await asyncio.open_connection(self.host, self.port)
        try:
            writer.write(self.requests[index % len(self.requests)])
            status, size, keep = await read_response(reader)
        except (asyncio.IncompleteReadError, ConnectionError) as error:
            writer.close()
            if reused and not getattr(error, "partial", b""):  # not one byte of an answer: closed while idle
                return await self.fetch(index, reuse=False)
            raise
        except BaseException:
            writer.close()
            raise
        if keep:
            self.idle.append((reader, writer))
        else:
            writer.close()
        return status, size


async def read_response(reader):
    """Read one HTTP/1.1 response; (status, body bytes, whether the connection may be reused)."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip().lower()
    size = 0
    if "content-length" in headers:
        size = int(headers["content-length"])
        await reader.readexactly(size)
    elif headers.get("transfer-encoding") == "chunked":
        while True:
            chunk = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            await reader.readexactly(chunk + 2)
            size += chunk
            if chunk == 0:
                break
    else:
        size = len(await reader.read())
        return status, size, False
    return status, size, headers.get("connection") != "close"


def percentile(ordered, p):
    if not ordered:
        return None
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


async def run(url, rate, duration, warmup, timeout, max_in_flight, paths=None):
    target = Target(url, paths)
    latencies, statuses, errors, sizes, censored = [], {}, {}, [], [0]
    pending = set()
    measured_from = warmup * rate  # requests before this index are the warm-up: sent, not recorded

    async def one(index, due):
        try:
            status, size = await asyncio.wait_for(target.fetch(index), timeout)
        except asyncio.TimeoutError:
            outcome = "timeout"
        except (OSError, asyncio.IncompleteReadError, ValueError, IndexError) as error:
            outcome = type(error).__name__
        else:
            outcome = None
        if index < measured_from:
            return
        if outcome == "timeout":
            latencies.append(timeout * 1000)  # censored: it took at least this long, so percentiles stay honest
            censored[0] += 1
        if outcome:
            errors[outcome] = errors.get(outcome, 0) + 1
            return
        statuses[status] = statuses.get(status, 0) + 1
        if status >= 400:
            errors[f"http {status}"] = errors.get(f"http {status}", 0) + 1
        latencies.append((time.perf_counter() - due) * 1000)
        sizes.append(size)

    total = int((warmup + duration) * rate)
    start = time.perf_counter() + 0.05
    for index in range(total):
        due = start + index / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        if len(pending) >= max_in_flight:
            if index >= measured_from:
                errors["client cap on requests in flight"] = errors.get("client cap on requests in flight", 0) + 1
            continue
        task = asyncio.ensure_future(one(index, due))
        pending.add(task)
        task.add_done_callback(pending.discard)
    if pending:
        await asyncio.wait(pending, timeout=timeout + 1)
    elapsed = time.perf_counter() - start - warmup
    for _reader, writer in target.idle:
        writer.close()
    latencies.sort()
    return {
        "url": url,
        "distinct_paths": len(set(paths or [url])),
        "rate": rate,
        "duration_s": duration,
        "warmup_s": warmup,
        "timeout_s": timeout,
        "due": total - int(measured_from),
        "completed": len(sizes),
        "errors": sum(errors.values()),
        "error_kinds": errors,
        "timeouts_counted_at_timeout": censored[0],
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "achieved_rate": round(len(sizes) / elapsed, 1) if elapsed > 0 else None,
        "latency_ms": {
            f"p{p}": round(percentile(latencies, p), 2) if latencies else None for p in (50, 90, 95, 99, 99.9)
        }
        | {"max": round(latencies[-1], 2) if latencies else None},
        "mean_response_bytes": round(sum(sizes) / len(sizes)) if sizes else None,
    }


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__.split("\n\n")[0])
    parser.add_argument("url")
    parser.add_argument("--rate", type=float, default=250, help="requests per second (default 250)")
    parser.add_argument("--duration", type=float, default=60, help="measured seconds (default 60)")
    parser.add_argument("--warmup", type=float, default=5, help="seconds at the same rate before measuring (default 5)")
    parser.add_argument(
        "--timeout", type=float, default=10, help="seconds before a request counts as failed (default 10)"
    )
    parser.add_argument("--max-in-flight", type=int, default=512, help="requests pending at once at most (default 512)")
    parser.add_argument("--paths", help="file of paths (one a line) sent in turn on the URL's host instead of its own")
    args = parser.parse_args(argv)
    paths = open(args.paths).read().split() if args.paths else None
    result = asyncio.run(
        run(args.url, args.rate, args.duration, args.warmup, args.timeout, args.max_in_flight, paths=paths)
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
