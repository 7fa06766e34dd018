"""`kortkontor serve` and the demo's terminal chat, run as real processes."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

from tests.fakes.telegram import FakeBotApi
from tests.kortkontor.processes import KORTKONTOR, environment


def _wait_for_line(process: subprocess.Popen[str], needle: str, timeout: float = 60) -> list[str]:
    assert process.stderr is not None
    lines: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = process.stderr.readline()
        if not line:
            break
        lines.append(line)
        if needle in line:
            return lines
    raise AssertionError(f"no {needle!r} in {lines}")


def test_serve_answers_over_telegram_and_stops_on_sigterm(env: str, tmp_path: Path) -> None:
    with FakeBotApi() as fake:
        process = subprocess.Popen(
            [*KORTKONTOR, "serve"],
            env=environment(
                env, TELEGRAM_BOT_TOKEN=fake.token, TELEGRAM_API_BASE_URL=fake.base_url
            ),
            stderr=subprocess.PIPE,
            text=True,
            cwd=tmp_path,
        )
        try:
            ready = _wait_for_line(process, "kortkontor ready")
            assert "telegram bot (polling)" in ready[-1]
            fake.send_text(4242, "/start")
            reply = fake.wait_messages_sync(4242, 1, timeout=10)[0]
            assert reply.text is not None and reply.text.startswith("Hej!")
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=20) == 0
            assert process.stderr is not None
            assert "kortkontor stopped" in process.stderr.read()
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()


def test_serve_without_telegram_runs_and_stops(env: str, tmp_path: Path) -> None:
    process = subprocess.Popen(
        [*KORTKONTOR, "serve"],
        env=environment(env),
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
    )
    try:
        lines = _wait_for_line(process, "kortkontor ready")
        assert any("TELEGRAM_BOT_TOKEN is not set" in line for line in lines)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def demo(tmp_path: Path, option: str, typed: str) -> subprocess.CompletedProcess[str]:
    """`kortkontor demo` with an option, on its own key and database, fed the typed lines."""
    environment = {k: v for k, v in os.environ.items() if k != "KORTKONTOR_SECRET_KEY"}
    environment.pop("DATABASE_URL", None)
    done = subprocess.run(
        [*KORTKONTOR, "demo", option],
        input=typed,
        capture_output=True,
        text=True,
        env=environment,
        cwd=tmp_path,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return done


def test_demo_chat_books_from_the_terminal(tmp_path: Path) -> None:
    # Book (2), as soon as possible (1), the first time (1), confirm (1), then quit.
    done = demo(tmp_path, "--chat", "2\n1\n1\n1\nq\n")
    chat = done.stdout.split("Chatt som kortanvändaren Ahmed Hassan (SE-1002)")[1]
    assert "  2) Boka" in chat and "  1) Snarast" in chat and "Stämmer det här?" in chat
    assert "Din förfrågan är skickad" in chat or "Klart! Din tid är bokad." in chat
    assert "PIN-brev" in chat


def test_demo_sms_chat_books_by_text_message(tmp_path: Path) -> None:
    # A time wish in words, the first time offered, yes; the input then ends.
    done = demo(tmp_path, "--sms", "snarast\n1\nja\n")
    chat = done.stdout.split("Sms-chatt som kortanvändaren Ahmed Hassan (SE-1002)")[1]
    opening, *answers = chat.split("Svara med sms (q avslutar)> ")
    assert "Ditt SITHS-kort har kommit" in opening
    assert len(answers) == 4  # three answers, and the prompt the end of the input met
    assert "  | 1 " in answers[0] and "Svara 1, 2" in answers[0]
    assert "Stämmer det här?" in answers[1]
    assert "Din förfrågan är skickad" in answers[2] or "Klart! Din tid är bokad." in answers[2]
    for answer in answers[:3]:
        size = answer.rsplit("(", 1)[1]
        assert size.startswith(("1 sms", "2 sms", "3 sms")), answer


def test_demo_without_a_terminal_does_not_wait_for_input(tmp_path: Path) -> None:
    """As `make demo` runs it from a pipe or CI: stdin is not a terminal."""
    done = subprocess.run(
        [*KORTKONTOR, "demo"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
    )
    assert done.returncode == 0 and "Chatt som" not in done.stdout
    # It ends by saying how to open the chat.
    last = done.stdout.rstrip("\n").splitlines()[-1]
    assert last.startswith("Chatta som kortanvändaren: kör `kortkontor demo --chat`"), last
