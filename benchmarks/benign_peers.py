"""The benign TLS peers that record_encrypted.py needs and Debian ships no program for, each a thin shell
around a maintained library (Python's ssl and http.server, python3-websockets):

    benign_peers.py https DOCROOT CERT KEY --port 443      files on keep-alive; /hold/S answers after S s
    benign_peers.py wss CERT KEY --port 443 --push 5       WebSocket over TLS, a JSON message every 5 s
                                                           (or every S s for a client of /ticker/S)
    benign_peers.py wss-client URL --seconds 300           reads pushes, answers some, pings every 20 s
    benign_peers.py idle CERT KEY --port 993 --push 120    IMAP IDLE-like: greeting, then "* OK Still here"

Run with Debian's python3 (python3-websockets). Every server listens on all addresses of its namespace.
"""

from __future__ import annotations

import argparse
import asyncio
import http.server
import json
import random
import ssl
import time
from collections.abc import AsyncIterator
from functools import partial


def tls_context(cert: str, key: str) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    return context


class Handler(http.server.SimpleHTTPRequestHandler):
    """Files from the document root; `/hold/S` is a long-poll answered after S seconds with a small event."""

    protocol_version = "HTTP/1.1"

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        if not self.path.startswith("/hold/"):
            super().do_GET()
            return
        time.sleep(float(self.path.removeprefix("/hold/")))
        body = json.dumps({"events": [{"id": random.randrange(10**6), "type": "update"}]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def https(args: argparse.Namespace) -> None:
    handler = partial(Handler, directory=args.docroot)
    server = http.server.ThreadingHTTPServer(("0.0.0.0", args.port), handler)
    server.socket = tls_context(args.cert, args.key).wrap_socket(server.socket, server_side=True)
    server.serve_forever()


async def wss(args: argparse.Namespace) -> None:
    from websockets.server import serve

    async def pushes(socket, path: str = "") -> None:  # websockets 10 passes the path
        serial = 0
        async for _ in _ticks(_push_period(path, args.push)):
            serial += 1
            price = round(random.uniform(100, 200), 2)
            await socket.send(json.dumps({"seq": serial, "topic": "ticker", "price": price}))

    async with serve(pushes, "0.0.0.0", args.port, ssl=tls_context(args.cert, args.key)):
        await asyncio.Future()


def _push_period(path: str, default: float) -> float:
    """/ticker/7.5 asks for a push every 7.5 s (clients of one server subscribe to feeds of other rates)."""
    try:
        return max(0.5, float(path.rsplit("/", 1)[-1]))
    except ValueError:
        return default


async def wss_client(args: argparse.Namespace) -> None:
    from websockets.client import connect

    context = ssl.create_default_context()
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    async with connect(args.url, ssl=context, ping_interval=20) as socket:
        deadline = time.monotonic() + args.seconds
        while (left := deadline - time.monotonic()) > 0:
            try:
                message = await asyncio.wait_for(socket.recv(), left)
            except TimeoutError:
                break
            if random.random() < 0.2:  # an acknowledgement now and then, as trading clients send
                await socket.send(json.dumps({"ack": json.loads(message)["seq"]}))


async def idle(args: argparse.Namespace) -> None:
    async def session(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"* OK [CAPABILITY IMAP4rev1 IDLE] ready\r\n")
        notifier = asyncio.create_task(_still_here(writer, args.push))
        try:
            while line := await reader.readline():
                tag = line.split(b" ", 1)[0]
                if b"IDLE" in line.upper():
                    writer.write(b"+ idling\r\n")
                elif line.strip().upper() != b"DONE":
                    writer.write(tag + b" OK done\r\n")
                await writer.drain()
        except ConnectionError:
            pass
        finally:
            notifier.cancel()
            writer.close()

    server = await asyncio.start_server(session, "0.0.0.0", args.port, ssl=tls_context(args.cert, args.key))
    async with server:
        await asyncio.Future()


async def _still_here(writer: asyncio.StreamWriter, seconds: float) -> None:
    async for _ in _ticks(seconds):
        writer.write(b"* OK Still here\r\n")
        await writer.drain()


async def _ticks(seconds: float) -> AsyncIterator[None]:
    """Forever, every `seconds` (+-10%, as timers of real servers drift)."""
    while True:
        await asyncio.sleep(seconds * random.uniform(0.9, 1.1))
        yield


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("https")
    p.add_argument("docroot")
    for name in ("https", "wss", "idle"):
        p = sub.choices.get(name) or sub.add_parser(name)
        p.add_argument("cert")
        p.add_argument("key")
        p.add_argument("--port", type=int, default=443)
        p.add_argument("--push", type=float, default=30.0, help="seconds between server pushes")
    p = sub.add_parser("wss-client")
    p.add_argument("url")
    p.add_argument("--seconds", type=float, default=300.0)
    args = parser.parse_args()
    if args.command == "https":
        https(args)
    else:
        runner = {"wss": wss, "wss-client": wss_client, "idle": idle}[args.command]
        asyncio.run(runner(args))


if __name__ == "__main__":
    main()
