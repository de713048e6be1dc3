"""Deployment: the Dockerfile passes hadolint (in the test command), and the steps it runs (the
pinned requirements, then the project without resolving anything) give a working install in a
fresh virtual environment."""

import re
import shutil
import subprocess
import sys
import tomllib

import pytest
from conftest import KNOWLEDGE, REPO

LOCK = REPO / "requirements.lock"
DEV_LOCK = REPO / "requirements-dev.lock"


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~\[ ;@]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def _pins(lock) -> dict[str, str]:
    return {
        _name(line): line.split("==", 1)[1]
        for line in lock.read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }


def test_every_dependency_is_pinned_in_the_locks():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    runtime, dev = _pins(LOCK), _pins(DEV_LOCK)
    missing = {_name(d) for d in project["dependencies"]} - set(runtime)
    assert not missing, f"pyproject dependencies missing from requirements.lock: {missing}"
    extras = {_name(d) for group in project["optional-dependencies"].values() for d in group}
    assert extras, "no extras declared"
    missing = extras - set(runtime) - set(dev)
    assert not missing, f"extras missing from the locks: {missing}"
    assert not set(runtime) & set(dev), "the dev lock repeats the runtime lock"
    assert "torch" not in runtime  # the default install needs none
    assert dev["torch"].startswith("2.13.0")  # the CPU build, never CUDA


@pytest.mark.parametrize(
    ("environment", "status"),
    [({}, 0), ({"TELEGRAM_WEBHOOK_URL": "https://x/t", "TELEGRAM_WEBHOOK_PORT": "9"}, 1)],
)
def test_the_health_check_passes_in_polling_mode_and_fails_without_a_server(environment, status):
    result = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "healthcheck")],
        env={"PATH": "/usr/bin:/bin", **environment},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == status and "Traceback" not in result.stderr, result.stderr


def test_the_dockerfile_steps_install_a_working_assistant(tmp_path):
    python, index = str(tmp_path / "venv" / "bin" / "python"), str(tmp_path / "i")

    def step(*args: str, **environment: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            args,
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
            cwd=tmp_path,
            env={"PATH": "/usr/bin:/bin", **environment} if environment else None,
        )

    # The image's pip steps, without byte-compiling every installed module (not what is
    # tested: Python compiles what it imports).
    pip_install = (python, "-m", "pip", "install", "--quiet", "--no-compile")
    # The charter alone: what the question below needs, embedded in a few seconds.
    shutil.copytree(KNOWLEDGE / "charter", tmp_path / "knowledge" / "charter")
    for args in (
        (sys.executable, "-m", "venv", str(tmp_path / "venv")),
        (*pip_install, "-r", str(LOCK)),
        (*pip_install, "--no-deps", str(REPO)),
        (python, "-m", "pip", "check"),
        (
            python,
            "-m",
            "ingest",
            "--knowledge",
            str(tmp_path / "knowledge"),
            "--index",
            str(tmp_path / "i"),
        ),
    ):
        done = step(*args)
        assert done.returncode == 0, f"{args}: {done.stderr[-3000:]}"
    ask = (python, "-m", "bot", "ask", "--index", index)
    answered = step(*ask, "When was the alliance founded?")
    assert answered.returncode == 0 and "8 June 2020" in answered.stdout, answered.stderr[-2000:]
    assert step(python, "-m", "pip", "show", "torch").returncode != 0  # answered without torch
    # A backend that is not installed is named with the command that installs it.
    for setting, command in [
        ({"EMBEDDING_BACKEND": "sentence-transformers"}, "pip install torch==2.13.0 -e "),
        ({"LLM_PROVIDER": "openai", "LLM_MODEL": "m"}, "pip install -e '.[openai]'"),
        ({"LLM_PROVIDER": "ollama", "LLM_MODEL": "m"}, "pip install -e '.[ollama]'"),
    ]:
        missing = step(*ask, "When?", **setting)
        assert missing.returncode == 2 and command in missing.stderr, missing.stderr[-2000:]
        assert "Traceback" not in missing.stderr


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
