"""Deployment: the locks pin every dependency, the image's health check asks the process, and the
compose file runs one ingest and webhook replicas on shared state. The image itself is built and
smoke-tested by scripts/test-image (in .ci/run), the Dockerfile linted by the test command."""

import re
import subprocess
import sys
import threading
import tomllib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from conftest import REPO

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


class _Health(BaseHTTPRequestHandler):
    status = 200

    def do_GET(self) -> None:
        self.send_response(self.status if self.path == "/healthz" else 404)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.mark.parametrize(("answered", "status"), [(200, 0), (503, 1), (None, 1)])
def test_the_health_check_asks_the_process_on_its_health_port(answered, status):
    """The image's HEALTHCHECK: healthy only when /healthz answers 200 (not ready: 503; nothing
    listening: down)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), type("H", (_Health,), {"status": answered}))
    port = server.server_address[1]
    if answered is None:
        server.server_close()
    else:
        threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        result = subprocess.run(
            [sys.executable, str(REPO / "scripts" / "healthcheck")],
            env={"PATH": "/usr/bin:/bin", "HEALTH_PORT": str(port)},
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    finally:
        if answered is not None:
            server.shutdown()
            server.server_close()
    assert result.returncode == status and "Traceback" not in result.stderr, result.stderr


def test_compose_runs_one_image_ingest_first_and_webhook_replicas_on_shared_state():
    """What scripts/test-stack runs for real, checked for what podman 4.3 does not enforce (it
    ignores health conditions)."""
    import yaml

    services = yaml.safe_load((REPO / "compose.yaml").read_text())["services"]
    assistants = ("ingest", "bot", "web")
    assert {services[name]["image"] for name in assistants} == {
        "${ALLIANCE_IMAGE:-alliance-assistant:latest}"
    }
    for name in assistants:
        assert services[name]["env_file"] == [{"path": ".env", "required": False}]
        assert services[name]["read_only"] is True
        environment = services[name]["environment"]
        assert environment["CHROMA_HOST"] == "chroma"
        assert environment["DATABASE_URL"].startswith("postgresql+asyncpg://")
        assert environment["INDEX_DIR"].startswith("/app/data")
    assert services["ingest"]["depends_on"] == {"chroma": {"condition": "service_healthy"}}
    for name in ("bot", "web"):
        assert services[name]["depends_on"] == {
            "ingest": {"condition": "service_completed_successfully"},
            "postgres": {"condition": "service_healthy"},
        }
    assert services["bot"]["command"] == ["python", "-m", "bot", "run"]
    assert services["bot"]["deploy"] == {"mode": "replicated", "replicas": 2}
    assert "healthcheck" in services["chroma"] and "healthcheck" in services["postgres"]
    client = next(line for line in LOCK.read_text().splitlines() if line.startswith("chromadb=="))
    assert services["chroma"]["image"].endswith(":" + client.split("==")[1] + "}")
    # The resolver is the container's own, under Docker and podman alike.
    template = (REPO / "deploy" / "nginx.conf.template").read_text()
    assert "resolver ${NGINX_LOCAL_RESOLVERS}" in template
    assert services["nginx"]["environment"] == {"NGINX_ENTRYPOINT_LOCAL_RESOLVERS": "1"}
