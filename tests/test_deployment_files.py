"""The deployment files (deploy/) against the settings: nothing is built or pulled.

Every environment variable src/medworks/settings.py reads is in deploy/medworks.env.sample,
and the sample names nothing else; the compose file, the Dockerfile and nginx.conf hold the
production layout; `medworks check --deploy` passes with the sample's values.
"""

from __future__ import annotations

import ast
import base64
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
SETTINGS = ROOT / "src" / "medworks" / "settings.py"
SAMPLE = DEPLOY / "medworks.env.sample"


def _is_environ(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Attribute)
        and node.attr == "environ"
        and isinstance(node.value, ast.Name)
        and node.value.id == "os"
    )


def _reads_environ(call: ast.Call) -> bool:
    func = call.func
    if isinstance(func, ast.Attribute) and func.attr in {"get", "pop", "setdefault"}:
        return _is_environ(func.value)
    if isinstance(func, ast.Attribute) and func.attr == "getenv":
        return isinstance(func.value, ast.Name) and func.value.id == "os"
    return False


def _is_env_helper(call: ast.Call) -> bool:
    return isinstance(call.func, ast.Name) and call.func.id.startswith("env_")


def settings_variables() -> set[str]:
    """Names read by os.environ.get / os.environ[...] / os.getenv / an env_* helper with a
    string literal; a read of a computed name is allowed only inside an env_* helper (whose
    own call sites name the variable)."""
    tree = ast.parse(SETTINGS.read_text(), filename=str(SETTINGS))
    names: set[str] = set()
    unnamed: list[int] = []

    def visit(node: ast.AST, in_helper: bool) -> None:
        if isinstance(node, ast.FunctionDef):
            in_helper = in_helper or node.name.startswith("env_")
        first = None
        if isinstance(node, ast.Call) and (_reads_environ(node) or _is_env_helper(node)):
            first = node.args[0] if node.args else None
        elif isinstance(node, ast.Subscript) and _is_environ(node.value):
            first = node.slice
        if first is not None or (isinstance(node, ast.Call) and _reads_environ(node)):
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                names.add(first.value)
            elif not in_helper:
                unnamed.append(node.lineno)
        for child in ast.iter_child_nodes(node):
            visit(child, in_helper)

    visit(tree, False)
    assert not unnamed, (
        f"settings.py reads the environment with a computed name on line(s) {unnamed}: "
        "name the variable literally (or read it through an env_* helper)"
    )
    return names


def sample_values() -> dict[str, str]:
    values: dict[str, str] = {}
    for number, line in enumerate(SAMPLE.read_text().splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, equals, value = line.partition("=")
        assert equals and re.fullmatch(r"[A-Z][A-Z0-9_]*", name), (
            f"{SAMPLE.name}:{number} is not NAME=value: {line!r}"
        )
        assert name not in values, f"{SAMPLE.name}:{number}: {name} is given twice"
        assert "$" not in value and not value.startswith(("'", '"')), (
            f"{SAMPLE.name}:{number}: no quotes or $ (compose and systemd read them differently)"
        )
        values[name] = value
    return values


def test_the_settings_read_at_least_the_known_variables():
    # A guard on the parser itself: if it found nothing, the comparison below would be empty.
    assert {"SECRET_KEY", "DATABASE_URL", "MEDWORKS_DOCUMENT_KEY", "MEDWORKS_CARD_KEYS"} <= (
        settings_variables()
    )
    assert {"MEDWORKS_RETENTION_DAYS", "MEDWORKS_GST_HST_NUMBER"} <= settings_variables()


def test_the_sample_names_every_variable_the_settings_read_and_no_other():
    read = settings_variables()
    sample = set(sample_values())
    missing = sorted(read - sample)
    extra = sorted(sample - read)
    assert not missing and not extra, (
        f"deploy/medworks.env.sample is out of step with src/medworks/settings.py.\n"
        f"  read by the settings, missing from the sample: {missing or 'none'}\n"
        f"  in the sample, read by no setting: {extra or 'none'}"
    )


def test_the_sample_comments_every_variable():
    lines = SAMPLE.read_text().splitlines()
    for number, line in enumerate(lines):
        if line and not line.startswith("#"):
            assert number and lines[number - 1].startswith("#"), (
                f"{SAMPLE.name}: {line.split('=')[0]} has no comment line above it"
            )


def _compose() -> dict:
    yaml = pytest.importorskip("yaml")
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text())


def test_compose_holds_the_production_layout():
    text = (DEPLOY / "compose.yaml").read_text()
    for service in ("db", "migrate", "web", "worker", "proxy"):
        assert re.search(rf"^  {service}:$", text, re.MULTILINE), f"no {service} service"
    compose = _compose()
    services = compose["services"]
    assert set(services) == {"db", "migrate", "web", "worker", "proxy"}
    assert services["db"]["image"].startswith("postgres:")
    assert "pg_isready" in " ".join(services["db"]["healthcheck"]["test"])
    for name in ("migrate", "web", "worker"):
        service = services[name]
        assert service["build"]["dockerfile"] == "deploy/Dockerfile"
        assert (DEPLOY / service["build"]["context"] / service["build"]["dockerfile"]).is_file()
        assert service["env_file"] == ["medworks.env"], f"{name} reads deploy/medworks.env"
        assert service["depends_on"]["db"]["condition"] == "service_healthy"
    assert services["migrate"]["command"] == ["medworks", "migrate", "--noinput"]
    for name in ("web", "worker"):
        assert (
            services[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        ), f"{name} starts after the migrations"
    assert services["worker"]["command"] == ["medworks", "worker"]
    assert services["worker"]["deploy"]["replicas"] >= 2
    assert services["proxy"]["image"].startswith("nginx:")
    assert "./nginx.conf:/etc/nginx/nginx.conf:ro" in services["proxy"]["volumes"]
    assert {"80:80", "443:443"} <= set(services["proxy"]["ports"])


def test_the_image_runs_gunicorn_and_checks_healthz():
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    instructions = re.findall(r"^([A-Z]+) ((?:.*\\\n)*.*)", dockerfile, re.MULTILINE)
    by_name: dict[str, list[str]] = {}
    for name, rest in instructions:
        by_name.setdefault(name, []).append(rest)
    assert by_name["FROM"] == ["python:3.11-slim"]
    assert len(by_name["CMD"]) == 1 and "gunicorn medworks.wsgi" in by_name["CMD"][0]
    assert "--bind 0.0.0.0:8000" in by_name["CMD"][0]
    assert any("8000" in exposed for exposed in by_name["EXPOSE"])
    assert len(by_name["HEALTHCHECK"]) == 1 and "/healthz" in by_name["HEALTHCHECK"][0]
    assert by_name["USER"] == ["medworks"], "the desk never runs as root"
    runs = "\n".join(by_name["RUN"])
    assert "pip install -r requirements.lock" in runs
    assert "pip install --no-deps ." in runs
    assert "medworks collectstatic --noinput" in runs
    assert "postgresql-client" in runs
    assert any("MEDWORKS_ENV=production" in env for env in by_name["ENV"])
    # The data folder the image prepares is the sample's, and the documents' volume is in it.
    data_dir = sample_values()["MEDWORKS_DATA_DIR"]
    assert f"MEDWORKS_DATA_DIR={data_dir}" in dockerfile
    documents = f"{data_dir}/documents"
    assert f"documents:{documents}" in (DEPLOY / "compose.yaml").read_text()


def test_nginx_proxies_to_web_with_the_forwarded_headers():
    conf = (DEPLOY / "nginx.conf").read_text()
    assert re.search(r"server web:8000;", conf)
    assert "proxy_pass http://medworks_web;" in conf
    for header in ("X-Forwarded-Proto $scheme", "X-Forwarded-For", "X-Request-ID $request_id"):
        assert f"proxy_set_header {header}" in conf
    assert "ssl_certificate /etc/nginx/certs/" in conf
    assert "location = /healthz" in conf and "return 301 https://" in conf
    size = re.search(r"client_max_body_size (\d+)m;", conf)
    assert size, "client_max_body_size in megabytes"
    allowed = int(size.group(1)) * 1024 * 1024
    documents = int(sample_values()["MEDWORKS_DOCUMENT_MAX_BYTES"] or 25 * 1024 * 1024)
    assert allowed > documents, "nginx must let a document of the largest size through"


def test_systemd_units_run_the_web_server_and_the_workers():
    web = (DEPLOY / "medworks-web.service").read_text()
    worker = (DEPLOY / "medworks-worker@.service").read_text()
    assert "gunicorn medworks.wsgi" in web and "EnvironmentFile=" in web
    assert "medworks worker" in worker and "EnvironmentFile=" in worker


def _key() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()


def test_check_deploy_passes_with_the_samples_production_values(tmp_path):
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path)}
    env.update(sample_values())
    assert env["MEDWORKS_ENV"] == "production"
    env.update(
        SECRET_KEY=secrets.token_urlsafe(50),
        MEDWORKS_DOCUMENT_KEY=_key(),
        MEDWORKS_CARD_KEYS=f"k1:{_key()}",
        MEDWORKS_BACKUP_KEY=_key(),
        MEDWORKS_DATA_DIR=str(tmp_path / "var"),
        DATABASE_URL=f"sqlite:///{tmp_path / 'medworks.sqlite3'}",
    )
    medworks = Path(sys.executable).with_name("medworks")
    command = [str(medworks)] if medworks.exists() else [sys.executable, "-m", "medworks.cli"]
    result = subprocess.run(
        [*command, "check", "--deploy", "--fail-level", "WARNING"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
