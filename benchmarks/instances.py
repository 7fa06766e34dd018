"""Chat throughput with one and with two `kortkontor serve` processes on one PostgreSQL database.

Several instances take Telegram's updates by webhook (polling is single-instance), so this
benchmark runs real `kortkontor serve` processes in webhook mode: the fake Bot API of
tests/fakes/telegram.py takes the bot's replies in a child process, and this process posts the
updates to the instances' `/telegram/webhook`, each user always to the same instance in turn
(the users are spread over the instances round-robin, as a load balancer would). A webhook
answers once its update is handled and the reply has left, so the time of each POST is the
latency a user sees, and the run's updates per second is the throughput.

The capacity run of benchmarks/chat.py, with the outgoing rate limiter off as there: `--users`
linked card users send `/status`, `/boka`, «tisdag eftermiddag» and `/meny`, each round sent by
everyone at once (at most `--in-flight` requests open at a time), once with one instance and
once with each count asked for. Each count gets users of its own.

Run with `.venv/bin/python benchmarks/instances.py --database-url postgresql://…/empty
[--instances 1 2] [--users 300]`. The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.chat import FIRST_USER_ID, ROUND, far_side, percentile, seed
from benchmarks.common import add_database_option, bench_services
from models.crypto import webhook_secret
from web.telegram_webhook import SECRET_HEADER

# `kortkontor serve` with the bot's outgoing rate limiter off, as in benchmarks/chat.py's
# capacity run: with it on, Telegram's flood limits (1 message/s in a chat) are what is measured.
SERVE_UNLIMITED = (
    "import sys; from functools import partial; import kortkontor.serve as serve; "
    "serve.build_application = partial(serve.build_application, rate_limited=False); "
    "from kortkontor.cli import main; sys.exit(main(['serve']))"
)
SECRET_KEY = "bench-" * 8  # benchmarks.common's: the seeded personnummer are encrypted with it
READY_TIMEOUT = 60.0


def text_update(update_id: int, chat: int, text: str) -> dict[str, Any]:
    """What Telegram posts when a user writes in their private chat with the bot."""
    user = {"id": chat, "is_bot": False, "first_name": "Test"}
    message: dict[str, Any] = {
        "message_id": update_id,
        "from": user,
        "chat": {"id": chat, "type": "private", "first_name": "Test"},
        "date": int(time.time()),
        "text": text,
    }
    if text.startswith("/"):
        message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text)}]
    return {"update_id": update_id, "message": message}


def spawn(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """One serve process, logging to `log`."""
    with log.open("wb") as stderr:
        return subprocess.Popen(
            [sys.executable, "-c", SERVE_UNLIMITED],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )


@asynccontextmanager
async def instances(
    count: int, database_url: str, base_url: str, token: str, folder: Path
) -> AsyncIterator[list[str]]:
    """`count` serve processes in webhook mode; yields their web addresses."""
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "TWILIO_"))},
        "DATABASE_URL": database_url,
        "KORTKONTOR_SECRET_KEY": SECRET_KEY,
        "TELEGRAM_BOT_TOKEN": token,
        "TELEGRAM_API_BASE_URL": base_url,
        "PUBLIC_BASE_URL": "https://kortkontor.example",
        "WEB_PORT": "0",
    }
    processes: list[subprocess.Popen[bytes]] = []
    addresses = []
    try:
        for n in range(count):
            log = folder / f"serve-{count}-{n}.log"
            process = spawn(env, log)
            processes.append(process)
            deadline = time.monotonic() + READY_TIMEOUT
            pattern = r"kortkontor ready: .*web on [\d.]+:(\d+)"
            while (found := re.search(pattern, log.read_text(errors="replace"))) is None:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"serve did not start:\n{log.read_text(errors='replace')}")
                await asyncio.sleep(0.1)
            addresses.append(f"http://127.0.0.1:{found.group(1)}/telegram/webhook")
        yield addresses
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=30)


class Poster:
    """Posts updates, numbering them across the whole benchmark."""

    def __init__(self, client: httpx.AsyncClient, in_flight: int) -> None:
        self.client = client
        self.slots = asyncio.Semaphore(in_flight)
        self.next_id = 1
        self.secret = webhook_secret(SECRET_KEY)

    async def post(self, address: str, chat: int, text: str) -> float:
        """One update; the seconds until the instance answered (handled, reply sent)."""
        update_id, self.next_id = self.next_id, self.next_id + 1
        async with self.slots:
            began = time.monotonic()
            for attempt in range(2):
                try:
                    answer = await self.client.post(
                        address,
                        json=text_update(update_id, chat, text),
                        headers={SECRET_HEADER: self.secret},
                    )
                    break
                except httpx.TransportError:
                    # A kept-alive connection the server closed as it was reused: post again,
                    # as Telegram would (the webhook answers a redelivered update once).
                    if attempt:
                        raise
            took = time.monotonic() - began
        if answer.status_code != 204:
            raise RuntimeError(f"update {update_id}: {answer.status_code} {answer.text}")
        return took


async def capacity(poster: Poster, addresses: list[str], users: range) -> dict[str, Any]:
    """Each round of ROUND sent by every user at once; the next once all are answered."""
    chats = [FIRST_USER_ID + n for n in users]
    # Warm each instance up (imports, caches, the pool's connections) on one user of its own.
    warm = chats[: len(addresses)]
    for address, chat in zip(addresses, warm, strict=True):
        await poster.post(address, chat, "/meny")
    measured = chats[len(addresses) :]
    latencies: list[float] = []
    started = time.monotonic()
    for text in ROUND:
        latencies += await asyncio.gather(
            *(
                poster.post(addresses[i % len(addresses)], chat, text)
                for i, chat in enumerate(measured)
            )
        )
    seconds = time.monotonic() - started
    updates = len(measured) * len(ROUND)
    return {
        "instances": len(addresses),
        "users": len(measured),
        "updates": updates,
        "seconds": round(seconds, 2),
        "updates_per_s": round(updates / seconds, 1),
        "p50_ms": round(statistics.median(latencies) * 1000, 1),
        "p99_ms": round(percentile(latencies, 99) * 1000, 1),
    }


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--instances", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--users", type=int, default=300, help="users per run")
    parser.add_argument("--in-flight", type=int, default=64, help="requests open at a time")
    add_database_option(parser)
    args = parser.parse_args()
    if not (args.database_url or "").startswith("postgres"):
        parser.error("several instances need PostgreSQL: give --database-url postgresql://…")
    counts = sorted({1, *args.instances})
    results = []
    async with bench_services(args.database_url) as services:
        await seed(services, args.users * len(counts))
    folder = tempfile.mkdtemp(prefix="kk-instances-")  # the serve logs stay, to read
    print(f"serve logs in {folder}")
    with far_side(enforce_limits=False) as (base_url, token, _):
        async with httpx.AsyncClient(
            timeout=120, limits=httpx.Limits(max_connections=None)
        ) as client:
            poster = Poster(client, args.in_flight)
            for n, count in enumerate(counts):
                users = range(n * args.users, (n + 1) * args.users)
                async with instances(
                    count, args.database_url, base_url, token, Path(folder)
                ) as addresses:
                    result = await capacity(poster, addresses, users)
                print(f"{count} instance(s): {result}")
                results.append(result)
    one = results[0]["updates_per_s"]
    print(
        json.dumps(
            {
                "updates_per_s": {r["instances"]: r["updates_per_s"] for r in results},
                "ratio_to_one": {
                    r["instances"]: round(r["updates_per_s"] / one, 2) for r in results
                },
                "p99_ms": {r["instances"]: r["p99_ms"] for r in results},
            }
        )
    )


if __name__ == "__main__":
    asyncio.run(main())
