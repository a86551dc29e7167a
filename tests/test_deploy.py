"""The deployment recipe (Dockerfile, compose.yaml, deploy/nginx.conf) is not run here (no Docker
daemon), so its files are checked instead: compose parses and every reference resolves, the two
app servers share the store, the artifact folder and the cookie key, the proxy config is valid
(``nginx -t`` when nginx is installed, else a structural check) with sticky sessions and websocket
upgrade, and the Dockerfile runs the README's commands."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
APPS = ("app1", "app2")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data = yaml.safe_load((REPO / "compose.yaml").read_text())
    assert isinstance(data, dict)
    return data


def test_compose_references_resolve(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert set(services) == {"app1", "app2", "worker", "db", "proxy"}
    declared_volumes = set(compose.get("volumes") or {})
    for name, service in services.items():
        deps = service.get("depends_on") or []
        assert set(deps) <= set(services), (name, deps)
        build = service.get("build")
        if build is not None:
            context = REPO / (build if isinstance(build, str) else build.get("context", "."))
            dockerfile = build.get("dockerfile", "Dockerfile") if isinstance(build, dict) else "Dockerfile"
            assert (context / dockerfile).is_file(), (name, context / dockerfile)
        else:
            assert service.get("image"), f"{name} has neither build nor image"
        for mount in service.get("volumes") or []:
            source = mount.split(":")[0]
            if source.startswith((".", "/")):
                assert (REPO / source).exists(), (name, source)
            else:
                assert source in declared_volumes, (name, source)
    assert services["proxy"]["ports"], "the proxy publishes no port"


def test_both_app_servers_share_store_artifacts_and_keys(compose: dict[str, Any]) -> None:
    services = compose["services"]
    envs = [services[a]["environment"] for a in APPS]
    for key in ("DATABASE_URL", "CINEBLEND_ARTIFACT_DIR", "CINEBLEND_COOKIE_KEY", "STREAMLIT_SERVER_COOKIE_SECRET"):
        assert envs[0][key] == envs[1][key] and envs[0][key], key
    assert "@db:5432/" in envs[0]["DATABASE_URL"] and envs[0]["DATABASE_URL"].startswith("postgresql+psycopg://")
    artifact_dir = envs[0]["CINEBLEND_ARTIFACT_DIR"]
    shared = [{m for m in services[a]["volumes"] if m.endswith(":" + artifact_dir)} for a in APPS]
    assert shared[0] and shared[0] == shared[1], "the artifact folder is not one shared volume"
    own = [{m for m in services[a]["volumes"] if m.endswith(":/app/data")} for a in APPS]
    assert own[0] and own[1] and own[0] != own[1], "each server keeps its own data folder"
    # no secret written into the file: the keys come from the environment, required
    assert "${CINEBLEND_COOKIE_KEY:?" in (REPO / "compose.yaml").read_text()
    assert "${POSTGRES_PASSWORD:?" in (REPO / "compose.yaml").read_text()


def _nginx_structure(text: str) -> None:
    body = re.sub(r"#.*", "", text)
    depth = 0
    for ch in body:
        depth += {"{": 1, "}": -1}.get(ch, 0)
        assert depth >= 0, "a closing brace without its block"
    assert depth == 0, "unbalanced braces"
    upstream = re.search(r"upstream\s+(\w+)\s*\{([^}]*)\}", body)
    assert upstream, "no upstream block"
    name, block = upstream.groups()
    servers = re.findall(r"^\s*server\s+([\w.-]+):(\d+)", block, re.M)
    assert {host for host, _ in servers} == set(APPS), servers
    assert re.search(r"^\s*ip_hash;", block, re.M) or "sticky" in block, "no session affinity"
    assert re.search(rf"proxy_pass\s+http://{name}\s*;", body)
    assert re.search(r"proxy_set_header\s+Upgrade\s+\$http_upgrade\s*;", body)
    assert re.search(r"proxy_set_header\s+Connection\s+\$connection_upgrade\s*;", body)
    assert re.search(r"proxy_http_version\s+1\.1\s*;", body)
    for line in body.splitlines():  # every directive line ends with ; or opens / closes a block
        line = line.strip()
        assert not line or line.endswith((";", "{", "}")) or re.match(r"^(default|'')\s+\S+;$", line), line


def test_proxy_config_is_valid_with_sticky_sessions_and_websockets(tmp_path: Path) -> None:
    text = (REPO / "deploy" / "nginx.conf").read_text()
    _nginx_structure(text)
    nginx = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").is_file() else None)
    if nginx is None:
        return  # the structural check above is all we can do
    # nginx -t resolves upstream host names: point them at loopback for the check
    local = text.replace("server app1:8501", "server 127.0.0.1:18501").replace(
        "server app2:8501", "server 127.0.0.2:18501"
    )
    (tmp_path / "logs").mkdir()
    conf = tmp_path / "nginx.conf"
    conf.write_text(local)
    result = subprocess.run(
        [nginx, "-t", "-p", str(tmp_path), "-e", str(tmp_path / "logs" / "error.log"), "-c", str(conf),
         "-g", f"pid {tmp_path / 'nginx.pid'};"],
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr


def _instructions(dockerfile: str) -> list[tuple[str, str]]:
    joined = re.sub(r"\\\n", " ", dockerfile)
    out = []
    for line in joined.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            out.append((word.upper(), " ".join(rest.split())))
    return out


def test_dockerfile_runs_the_readme_commands() -> None:
    steps = _instructions((REPO / "Dockerfile").read_text())
    assert steps[0] == ("FROM", "python:3.11-slim")
    start = (REPO / "scripts" / "start.sh").read_text()
    install = re.search(r"^source (scripts/_venv\.sh \S+)$", start, re.M)
    assert install, "scripts/start.sh no longer installs through scripts/_venv.sh"
    runs = [rest for word, rest in steps if word == "RUN"]
    assert any(f"source {install.group(1)}" in r for r in runs), runs  # start.sh's install step
    cmd = [rest for word, rest in steps if word == "CMD"]
    assert len(cmd) == 1 and cmd[0].startswith('["scripts/start.sh"'), cmd  # README: scripts/start.sh
    assert "-m recsys.ui.serve run app.py" in start  # the launcher settles st.navigation first
    readme = (REPO / "README.md").read_text()
    assert "scripts/start.sh" in readme and "docker compose up" in readme
    # compose mounts the shared artifact volume there: the image must let its user write it
    artifact_dir = yaml.safe_load((REPO / "compose.yaml").read_text())["services"]["app1"]["environment"][
        "CINEBLEND_ARTIFACT_DIR"
    ]
    user = next(rest for word, rest in steps if word == "USER")
    assert any(f"mkdir -p {artifact_dir}" in r and f"chown {user}:{user} {artifact_dir}" in r for r in runs), runs
    ignored = (REPO / ".dockerignore").read_text().split()
    assert {".venv", "data/*", ".streamlit/secrets.toml"} <= set(ignored)


def test_the_worker_runs_the_jobs_on_the_apps_store(compose: dict[str, Any]) -> None:
    services = compose["services"]
    worker = services["worker"]
    assert worker["command"] == ["python", "-m", "recsys", "worker"]
    assert worker["environment"]["DATABASE_URL"] == services["app1"]["environment"]["DATABASE_URL"]
    assert "artifacts:/artifacts" in worker["volumes"]
