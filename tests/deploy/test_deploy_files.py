"""The deployment files, checked as far as this machine can without a container engine (that
part is deploy/container-smoke.sh, run by .ci/run where an engine answers):

- the Dockerfile: multi-stage on Python 3.11 slim, every folder the code needs copied, a
  non-root user, and a HEALTHCHECK whose own command passes against a ready `serve` and fails
  when nothing answers;
- deploy/compose.yaml: PostgreSQL, a one-shot `db upgrade` that `serve` waits for;
- deploy/kortkontor.service: `systemd-analyze verify` without a warning, and its hardening.
"""

from __future__ import annotations

import configparser
import json
import os
import shlex
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.fakes.smtp import free_port
from tests.kortkontor.processes import environment, serving

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"


def instructions(text: str) -> list[tuple[str, str]]:
    """A Dockerfile's instructions as (KEYWORD, arguments), continuation lines joined."""
    joined = text.replace("\\\n", " ")
    found = []
    for line in joined.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            found.append((keyword.upper(), " ".join(rest.split())))
    return found


@pytest.fixture(scope="module")
def dockerfile() -> list[tuple[str, str]]:
    return instructions((ROOT / "Dockerfile").read_text())


def final_stage(dockerfile: list[tuple[str, str]]) -> list[tuple[str, str]]:
    start = max(i for i, (keyword, _) in enumerate(dockerfile) if keyword == "FROM")
    return dockerfile[start:]


def healthcheck_command(dockerfile: list[tuple[str, str]]) -> list[str]:
    [check] = [args for keyword, args in final_stage(dockerfile) if keyword == "HEALTHCHECK"]
    command: list[str] = json.loads(check.split(" CMD ", 1)[1])
    return command


def test_the_image_is_built_in_stages_on_python_3_11_slim(
    dockerfile: list[tuple[str, str]],
) -> None:
    bases = [args.split()[0] for keyword, args in dockerfile if keyword == "FROM"]
    assert len(bases) >= 2
    assert all(base.startswith("python:3.11-slim") for base in bases), bases
    copied_from_build = [a for k, a in final_stage(dockerfile) if k == "COPY" and "--from=" in a]
    assert any("/opt/kortkontor" in args for args in copied_from_build)


def test_the_image_copies_every_folder_the_code_reads(dockerfile: list[tuple[str, str]]) -> None:
    """The packages pyproject.toml installs, and the catalogs and migrations beside them."""
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    packages = pyproject["tool"]["setuptools"]["packages"]["find"]["include"]
    needed = {pattern.rstrip("*") for pattern in packages} | {"locales"}
    copied = {args.split()[0].rstrip("/") for keyword, args in dockerfile if keyword == "COPY"}
    assert needed <= copied, needed - copied
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".venv", ".env", "*.db", ".git"} <= set(ignored)
    assert not needed & set(ignored)


def test_the_image_runs_serve_as_a_user_who_is_not_root(
    dockerfile: list[tuple[str, str]],
) -> None:
    stage = final_stage(dockerfile)
    users = [args for keyword, args in stage if keyword == "USER"]
    assert users, "the final stage sets no USER: it would run as root"
    user = users[-1].split(":")[0]
    assert user not in {"root", "0"}
    assert ("ENTRYPOINT", '["kortkontor"]') in stage and ("CMD", '["serve"]') in stage


def test_the_healthcheck_asks_readyz_and_passes_only_when_serve_is_ready(
    dockerfile: list[tuple[str, str]], env: str, tmp_path: Path
) -> None:
    command = healthcheck_command(dockerfile)
    assert "/readyz" in " ".join(command)
    # The image's own check, with this machine's Python, against a real `serve`.
    assert command[0] == "python"
    check = [sys.executable, *command[1:]]
    with serving(environment(env), tmp_path) as served:
        served.wait_for("kortkontor ready", timeout=120)  # a loaded machine starts slowly
        port = str(served.port)
        passed = subprocess.run(check, env={**os.environ, "WEB_PORT": port}, timeout=30)
        assert passed.returncode == 0
        assert served.stop() == 0
    nothing = subprocess.run(
        check, env={**os.environ, "WEB_PORT": str(free_port())}, capture_output=True, timeout=30
    )
    assert nothing.returncode != 0


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    parsed: dict[str, Any] = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    return parsed


def test_compose_migrates_once_before_serve_starts(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert set(services) == {"postgres", "migrate", "serve"}
    migrate, serve = services["migrate"], services["serve"]
    assert migrate["command"] == ["db", "upgrade"] and migrate["restart"] == "no"
    assert serve["command"] == ["serve"]
    assert serve["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}
    assert migrate["depends_on"]["postgres"] == {"condition": "service_healthy"}
    assert services["postgres"]["image"].startswith("postgres:")
    assert "healthcheck" in services["postgres"]
    # Both run the same image on the same database.
    for service in (migrate, serve):
        assert service["build"]["context"] == ".."
        assert (DEPLOY / service["build"]["context"] / service["build"]["dockerfile"]).is_file()
        url = service["environment"]["DATABASE_URL"]
        assert url.startswith("postgresql://") and "@postgres:5432/" in url
    assert migrate["environment"] == serve["environment"]
    # Secrets come from the env file, not from compose.yaml.
    assert "KORTKONTOR_SECRET_KEY" not in serve["environment"]


def test_the_env_example_names_only_settings_the_service_reads() -> None:
    from kortkontor.settings import Settings

    lines = (DEPLOY / "kortkontor.env.example").read_text().splitlines()
    names = {line.split("=", 1)[0] for line in lines if line and not line.startswith("#")}
    assert names and {name.lower() for name in names} <= set(Settings.model_fields)


def unit() -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string((DEPLOY / "kortkontor.service").read_text())
    return parser


def test_the_unit_is_hardened_and_migrates_before_serving() -> None:
    service = unit()["Service"]
    assert service["ExecStartPre"].endswith("kortkontor db upgrade")
    assert service["ExecStart"].endswith("kortkontor serve")
    assert service["EnvironmentFile"] == "/etc/kortkontor/kortkontor.env"
    assert service["NoNewPrivileges"] == "yes"
    assert service["ProtectSystem"] == "strict"
    assert service["ReadWritePaths"] == service["WorkingDirectory"] == "/var/lib/kortkontor"
    assert service.get("User") not in {None, "root"}


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="no systemd-analyze here")
def test_systemd_verifies_the_unit_without_a_warning(tmp_path: Path) -> None:
    """With the virtual environment's kortkontor in place of /opt's: verify checks it exists."""
    kortkontor = Path(sys.executable).parent / "kortkontor"
    text = (DEPLOY / "kortkontor.service").read_text()
    assert "/opt/kortkontor/bin/kortkontor" in text
    copy = tmp_path / "kortkontor.service"
    copy.write_text(text.replace("/opt/kortkontor/bin/kortkontor", shlex.quote(str(kortkontor))))
    done = subprocess.run(
        ["systemd-analyze", "verify", str(copy)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
    )
    assert (done.returncode, done.stderr) == (0, "")


def _engine_stub(folder: Path, name: str, script: str) -> None:
    stub = folder / name
    stub.write_text(f"#!/bin/sh\n{script}\n")
    stub.chmod(0o755)


@pytest.mark.parametrize(
    ("stubs", "said"),
    [
        # `docker` is only a client here: `docker info` fails without a daemon.
        (
            {"docker": 'echo "Cannot connect to the Docker daemon" >&2; exit 1'},
            "no container engine answers",
        ),
        # An engine that answers but cannot reach the base images' registry.
        (
            {"podman": '[ "$1" = info ] && exit 0; [ "$1" = pull ] && exit 125; exit 1'},
            "cannot pull python:3.11-slim",
        ),
    ],
)
def test_the_container_check_says_why_it_skipped(
    tmp_path: Path, stubs: dict[str, str], said: str
) -> None:
    for name, script in stubs.items():
        _engine_stub(tmp_path, name, script)
    tools = ("bash", "sed", "head", "od", "tr", "seq", "sleep", "dirname")
    for tool in tools:
        found = shutil.which(tool)
        assert found is not None
        (tmp_path / tool).symlink_to(found)
    done = subprocess.run(
        ["bash", str(DEPLOY / "container-smoke.sh")],
        env={"PATH": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("container check SKIPPED:") and said in done.stdout
    assert "not built" in done.stdout
