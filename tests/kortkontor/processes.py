"""`kortkontor …` run as a real process: its environment, and `serve` with its whole log kept."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from tests.conftest import TEST_SECRET_KEY

KORTKONTOR = [sys.executable, "-m", "kortkontor.cli"]
_WEB = re.compile(r"web on [\d.]+:(\d+)")


def environment(database_url: str, **extra: str) -> dict[str, str]:
    """This process's environment without any channel's settings, on the test database."""
    keep = {
        k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "TWILIO_", "SMTP_"))
    }
    return {
        **keep,
        "DATABASE_URL": database_url,
        "KORTKONTOR_SECRET_KEY": TEST_SECRET_KEY,
        "WEB_PORT": "0",
        **extra,
    }


class Served:
    """A running `kortkontor serve`; its stderr is read on a thread, so the pipe never fills."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.process = process
        self.lines: list[str] = []
        self._changed = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            with self._changed:
                self.lines.append(line)
                self._changed.notify_all()
        with self._changed:
            self._changed.notify_all()

    @property
    def log(self) -> str:
        """Everything written to stderr so far."""
        with self._changed:
            return "".join(self.lines)

    def wait_for(self, needle: str, timeout: float = 30) -> str:
        """The first line containing `needle`; fails when the process ends or time runs out."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                found = next((line for line in self.lines if needle in line), None)
                if found is not None:
                    return found
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not self._reader.is_alive():
                    raise AssertionError(f"no {needle!r} in {''.join(self.lines)}")
                self._changed.wait(remaining)

    @property
    def port(self) -> int:
        """The web server's port, from the «kortkontor ready» line."""
        found = _WEB.search(self.wait_for("kortkontor ready"))
        assert found is not None
        return int(found.group(1))

    def stop(self) -> int:
        """SIGTERM; the exit code, once the whole log is read."""
        self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(timeout=30)
        self._reader.join(timeout=10)
        return code


@contextmanager
def serving(
    env: dict[str, str], cwd: Path, *, args: Sequence[str] = ("serve",)
) -> Iterator[Served]:
    """`kortkontor serve` until the block ends (killed if it is still running then)."""
    process = subprocess.Popen(
        [*KORTKONTOR, *args], env=env, stderr=subprocess.PIPE, text=True, cwd=cwd
    )
    try:
        yield Served(process)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
