"""Deployment: the Dockerfile passes hadolint (in the test command), and the steps it runs (the
pinned requirements, then the project without resolving anything) give a working install in a
fresh virtual environment."""

import re
import subprocess
import sys
import tomllib

import pytest
from conftest import KNOWLEDGE, REPO

LOCK = REPO / "requirements.lock"


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~\[ ;@]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def test_every_dependency_is_pinned_in_the_lock():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    pinned = {
        _name(line): line.split("==", 1)[1]
        for line in LOCK.read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    missing = {_name(d) for d in project["dependencies"]} - set(pinned)
    assert not missing, f"pyproject dependencies missing from requirements.lock: {missing}"
    assert pinned["torch"].startswith("2.13.0")  # the CPU build, never CUDA


@pytest.mark.parametrize(
    ("environment", "status"),
    [({}, 0), ({"TELEGRAM_WEBHOOK_URL": "https://x/t", "TELEGRAM_WEBHOOK_PORT": "9"}, 1)],
)
def test_the_health_check_passes_in_polling_mode_and_fails_without_a_server(environment, status):
    result = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "healthcheck")],
        env={"PATH": "/usr/bin:/bin", **environment},
        timeout=30,
        check=False,
    )
    assert result.returncode == status


def test_the_dockerfile_steps_install_a_working_assistant(tmp_path):
    venv = tmp_path / "venv"
    python = venv / "bin" / "python"

    def step(*args: str) -> None:
        result = subprocess.run(
            args, capture_output=True, text=True, timeout=900, check=False, cwd=tmp_path
        )
        assert result.returncode == 0, f"{args}: {result.stderr[-3000:]}"

    step(sys.executable, "-m", "venv", str(venv))
    step(str(python), "-m", "pip", "install", "--quiet", "torch==2.13.0")
    step(str(python), "-m", "pip", "install", "--quiet", "-r", str(LOCK))
    step(str(python), "-m", "pip", "install", "--quiet", "--no-deps", str(REPO))
    step(str(python), "-m", "pip", "check")
    index = tmp_path / "index"
    step(str(python), "-m", "ingest", "--knowledge", str(KNOWLEDGE), "--index", str(index))
    result = subprocess.run(
        [str(python), "-m", "bot", "ask", "--index", str(index), "When was the alliance founded?"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=tmp_path,
    )
    assert result.returncode == 0 and "8 June 2020" in result.stdout, result.stderr[-2000:]


def test_compose_runs_one_ingest_and_webhook_replicas_on_shared_state():
    import yaml

    services = yaml.safe_load((REPO / "compose.yaml").read_text())["services"]
    assert services["ingest"]["command"] == ["python", "-m", "ingest"]
    assert services["bot"]["command"] == ["python", "-m", "bot", "run"]
    assert services["bot"]["depends_on"]["ingest"]["condition"] == "service_completed_successfully"
    for name in ("ingest", "bot"):
        environment = services[name]["environment"]
        assert environment["CHROMA_HOST"] == "chroma"
        assert environment["DATABASE_URL"].startswith("postgresql+asyncpg://")
        assert environment["INDEX_DIR"].startswith("/app/data")
    client = next(line for line in LOCK.read_text().splitlines() if line.startswith("chromadb=="))
    assert services["chroma"]["image"].endswith(":" + client.split("==")[1])
    assert (REPO / "deploy" / "nginx.conf").is_file()
