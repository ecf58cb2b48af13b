"""Static checks of the distributed stack: docker-compose.yml, Dockerfile, .env.example.

No Docker needed: the compose file is interpolated here the way Compose does it and
validated against the Compose Specification schema (tests/data/compose-spec.json).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jsonschema
import pytest
import yaml

REPO = Path(__file__).resolve().parent.parent
COMPOSE_FILE = REPO / "docker-compose.yml"
DOCKERFILE = REPO / "Dockerfile"
DOCKERIGNORE = REPO / ".dockerignore"
ENV_EXAMPLE = REPO / ".env.example"
README = REPO / "README.md"
SCHEMA_FILE = Path(__file__).resolve().parent / "data" / "compose-spec.json"

SOHOA_SERVICES = ("web", "worker", "reconstruction", "follow")
ONE_SHOT_SERVICES = {"minio-init"}
REQUIRED_SECRETS = (
    "SOHOA_POSTGRES_PASSWORD",
    "SOHOA_S3_ACCESS_KEY",
    "SOHOA_S3_SECRET_KEY",
    "SOHOA_RABBITMQ_PASSWORD",
    "SOHOA_WEB_ADMIN_PASSWORD",
    "SOHOA_WEB_SESSION_SECRET",
)
# Test values, deliberately unlike anything in the repository.
TEST_ENV = {
    "SOHOA_POSTGRES_PASSWORD": "pg-test-7f3a",
    "SOHOA_S3_ACCESS_KEY": "s3-access-test",
    "SOHOA_S3_SECRET_KEY": "s3-secret-test-91c2",
    "SOHOA_RABBITMQ_PASSWORD": "rmq-test-5d0e",
    "SOHOA_WEB_ADMIN_PASSWORD": "admin-test-2b8f",
    "SOHOA_WEB_SESSION_SECRET": "session-test-6e1d",
}
# The URL each sohoa process needs, with the schemes the distributed stack may use.
SOHOA_URLS = {
    "SOHOA_EVENTSTORE_URL": ("postgresql",),
    "SOHOA_STORAGE_URL": ("s3",),
    "SOHOA_BROKER_URL": ("redis", "amqp"),
    "SOHOA_SEARCH_URL": ("http", "https", "opensearch+http", "elasticsearch+http"),
}


# --- interpolation (Compose rules: $$, $VAR, ${VAR}, ${VAR:-d}, ${VAR-d}, ${VAR:?m}, ${VAR?m})


class InterpolationError(ValueError):
    def __init__(self, variable: str, message: str) -> None:
        super().__init__(f"required variable {variable} is missing a value: {message}")
        self.variable = variable


_VAR = re.compile(
    r"""\$(?:
        (?P<escaped>\$)
      | \{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?+])(?P<arg>[^}]*))?\}
      | (?P<named>[A-Za-z_][A-Za-z0-9_]*)
      | (?P<invalid>)
    )""",
    re.VERBOSE,
)


def interpolate(text: str, env: Mapping[str, str]) -> str:
    def substitute(m: re.Match[str]) -> str:
        if m.group("escaped") is not None:
            return "$"
        if m.group("named") is not None:
            return env.get(m.group("named"), "")
        name = m.group("braced")
        if name is None:
            raise ValueError(f"invalid interpolation format in {text!r}")
        op, arg = m.group("op"), m.group("arg") or ""
        value = env.get(name)
        missing = value is None or (value == "" and op is not None and op.startswith(":"))
        if op in (":-", "-"):
            return arg if missing else value
        if op in (":?", "?"):
            if missing:
                raise InterpolationError(name, arg or name)
            return value
        if op in (":+", "+"):
            return "" if missing else arg
        return value or ""

    return _VAR.sub(substitute, text)


def interpolate_tree(node: Any, env: Mapping[str, str]) -> Any:
    """Interpolate every string value (not keys), as Compose does after parsing YAML."""
    if isinstance(node, str):
        return interpolate(node, env)
    if isinstance(node, dict):
        return {key: interpolate_tree(value, env) for key, value in node.items()}
    if isinstance(node, list):
        return [interpolate_tree(value, env) for value in node]
    return node


def raw_compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))


def required_variables(text: str) -> set[str]:
    return {
        m.group("braced")
        for m in _VAR.finditer(text)
        if m.group("braced") and m.group("op") in (":?", "?")
    }


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return interpolate_tree(raw_compose(), TEST_ENV)


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return compose["services"]


def environment_of(service: Mapping[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        return dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {key: "" if value is None else str(value) for key, value in env.items()}


# --- the interpolation helper itself


def test_interpolate_follows_compose_rules() -> None:
    env = {"SET": "v", "EMPTY": ""}
    assert interpolate("a${SET}b$SET", env) == "avbv"
    assert interpolate("${UNSET:-d}|${EMPTY:-d}|${EMPTY-d}|${UNSET-d}", env) == "d|d||d"
    assert interpolate("${SET:?need it}", env) == "v"
    assert interpolate("$$HOME and $${SET}", env) == "$HOME and ${SET}"
    assert interpolate("${UNSET}", env) == ""
    with pytest.raises(InterpolationError, match="EMPTY"):
        interpolate("${EMPTY:?}", env)
    assert interpolate("${EMPTY?}", env) == ""


@pytest.mark.parametrize("secret", REQUIRED_SECRETS)
def test_missing_secret_stops_interpolation_naming_it(secret: str) -> None:
    env = {key: value for key, value in TEST_ENV.items() if key != secret}
    with pytest.raises(InterpolationError) as caught:
        interpolate_tree(raw_compose(), env)
    assert caught.value.variable == secret
    assert secret in str(caught.value)
    # An empty value counts as missing for ${VAR:?...}.
    with pytest.raises(InterpolationError, match=secret):
        interpolate_tree(raw_compose(), {**env, secret: ""})


def test_required_variables_are_exactly_the_secrets() -> None:
    assert required_variables(COMPOSE_FILE.read_text(encoding="utf-8")) == set(REQUIRED_SECRETS)


# --- schema


def test_compose_file_matches_compose_specification(compose: dict[str, Any]) -> None:
    schema = yaml.safe_load(SCHEMA_FILE.read_text(encoding="utf-8"))  # JSON is YAML
    validator_class = jsonschema.validators.validator_for(schema)
    validator_class.check_schema(schema)
    errors = sorted(
        validator_class(schema).iter_errors(compose), key=lambda e: list(e.absolute_path)
    )
    assert not errors, "\n".join(
        f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}" for e in errors
    )


def test_schema_is_a_modern_compose_specification() -> None:
    schema = yaml.safe_load(SCHEMA_FILE.read_text(encoding="utf-8"))
    assert schema.get("title") == "Compose Specification"
    text = SCHEMA_FILE.read_text(encoding="utf-8")
    for feature in ('"profiles"', '"replicas"', "service_completed_successfully", '"^x-"'):
        assert feature in text, feature


def test_no_obsolete_version_key() -> None:
    assert "version" not in raw_compose()


# --- services


def test_every_long_running_service_has_a_healthcheck(services: dict[str, Any]) -> None:
    for name, service in services.items():
        if name in ONE_SHOT_SERVICES:
            continue
        check = service.get("healthcheck")
        assert check, f"service {name} has no healthcheck"
        assert not check.get("disable"), f"service {name} disables its healthcheck"
        test = check.get("test")
        assert test and test not in ("NONE", ["NONE"]), f"service {name} has an empty check"


def test_expected_services_exist(services: dict[str, Any]) -> None:
    expected = {
        *SOHOA_SERVICES,
        "postgres",
        "redis",
        "minio",
        "minio-init",
        "elasticsearch",
        "opensearch",
        "rabbitmq",
    }
    assert expected <= set(services)


def test_one_shot_bucket_creation(services: dict[str, Any]) -> None:
    init = services["minio-init"]
    assert init.get("restart") == "no"
    assert init["depends_on"]["minio"]["condition"] == "service_healthy"
    script = " ".join(
        " ".join(part) if isinstance(part, list) else str(part or "")
        for part in (init.get("entrypoint"), init.get("command"))
    )
    assert "mc alias set" in script
    assert "mc mb --ignore-existing local/sohoa" in script


def test_sohoa_processes_share_one_image(services: dict[str, Any]) -> None:
    builds = {repr(services[name].get("build")) for name in SOHOA_SERVICES}
    images = {services[name].get("image") for name in SOHOA_SERVICES}
    assert len(builds) == 1 and services["web"].get("build"), builds
    assert len(images) == 1, images
    commands = {name: services[name]["command"] for name in SOHOA_SERVICES}
    assert commands["web"][:2] == ["sohoa", "serve"]
    assert commands["worker"][:2] == ["sohoa", "worker"]
    assert "ocr" in commands["worker"] and "reconstruction" not in commands["worker"]
    assert commands["reconstruction"] == ["sohoa", "worker", "--queue", "reconstruction"]
    assert services["reconstruction"]["deploy"]["resources"]["limits"]["memory"]
    assert commands["follow"] == ["sohoa", "follow"]
    assert services["worker"]["deploy"]["replicas"] >= 2


@pytest.mark.parametrize("name", SOHOA_SERVICES)
def test_sohoa_process_configuration(services: dict[str, Any], name: str) -> None:
    service = services[name]
    env = environment_of(service)
    for variable, schemes in SOHOA_URLS.items():
        assert env.get(variable), f"{name} lacks {variable}"
        url = urlsplit(env[variable])
        assert url.scheme in schemes, f"{name}: {variable} has scheme {url.scheme}"
        # Every backend the URL names is a service of this stack.
        assert url.hostname in services, f"{name}: {variable} points at {url.hostname}"
    assert env.get("SOHOA_DATA_DIR") == "/data"
    assert any(str(v).split(":")[1:2] == ["/data"] for v in service.get("volumes", []))
    # The secrets reach the URLs.
    assert TEST_ENV["SOHOA_POSTGRES_PASSWORD"] in env["SOHOA_EVENTSTORE_URL"]
    assert TEST_ENV["SOHOA_S3_SECRET_KEY"] in env["SOHOA_STORAGE_URL"]

    depends = service["depends_on"]
    assert isinstance(depends, dict), "depends_on needs conditions"
    for backend in ("postgres", "redis", "minio", "elasticsearch"):
        assert depends[backend]["condition"] == "service_healthy", (name, backend)
    assert depends["minio-init"]["condition"] == "service_completed_successfully"

    check = " ".join(service["healthcheck"]["test"])
    if name == "web":
        assert "/readyz" in check  # its backends and followers, not only the process
    else:
        # the process's own heartbeat (its threads, its follower's polls), not the event store
        assert "sohoa health" in check
        assert env.get("SOHOA_HEARTBEAT_FILE", "").startswith("/tmp/")


def test_processes_share_one_environment_without_drift(services: dict[str, Any]) -> None:
    """A service that adds settings keeps every shared one (YAML merges are shallow)."""
    shared = environment_of(services["follow"])
    for name in SOHOA_SERVICES:
        env = environment_of(services[name])
        drift = {k: (v, env.get(k)) for k, v in shared.items() if env.get(k) != v}
        assert not drift, f"{name} differs from the shared settings: {drift}"
    assert environment_of(services["reconstruction"])["SOHOA_WORKER_THREADS"] == "1"


def test_web_creates_the_admin_from_the_environment(services: dict[str, Any]) -> None:
    env = environment_of(services["web"])
    assert env["SOHOA_WEB_ADMIN_LOGIN"] == "admin"
    assert env["SOHOA_WEB_ADMIN_PASSWORD"] == TEST_ENV["SOHOA_WEB_ADMIN_PASSWORD"]
    assert env["SOHOA_WEB_SESSION_SECRET"] == TEST_ENV["SOHOA_WEB_SESSION_SECRET"]


def test_presigned_links_are_signed_for_an_address_browsers_reach(
    services: dict[str, Any],
) -> None:
    public = urlsplit(environment_of(services["web"])["SOHOA_STORAGE_PUBLIC_URL"])
    assert public.scheme in ("http", "https") and public.hostname not in services
    published = [str(p) for p in services["minio"]["ports"]]
    assert published == ["127.0.0.1:9000:9000"], "S3 API only, loopback unless asked"


def test_search_nodes_have_their_documented_limits(services: dict[str, Any]) -> None:
    for name in ("elasticsearch", "opensearch"):
        limits = services[name]["ulimits"]
        assert limits["memlock"] == {"soft": -1, "hard": -1}, name
        assert limits["nofile"]["soft"] >= 65535, name
    assert "vm.max_map_count" in COMPOSE_FILE.read_text(encoding="utf-8")


def test_opensearch_is_an_opt_in_alternative(services: dict[str, Any]) -> None:
    node = services["opensearch"]
    assert node.get("profiles") == ["opensearch"]
    assert node["image"].startswith("opensearchproject/opensearch:2.")
    for name in SOHOA_SERVICES:
        assert "opensearch" not in (services[name].get("depends_on") or {})


def test_object_store_image_is_not_the_vulnerable_release(services: dict[str, Any]) -> None:
    image = services["minio"]["image"]
    release = image.rsplit(":RELEASE.", 1)[-1]
    assert release >= "2025-10-15T17-29-55Z", f"{image} predates the fix of CVE-2025-62506"


def test_dependencies_exist_and_can_become_healthy(services: dict[str, Any]) -> None:
    for name, service in services.items():
        depends = service.get("depends_on") or {}
        for target in depends:
            assert target in services, f"{name} depends on unknown service {target}"
            if isinstance(depends, dict):
                condition = depends[target].get("condition")
                if condition == "service_healthy":
                    assert services[target].get("healthcheck"), (name, target)
                if condition == "service_completed_successfully":
                    assert target in ONE_SHOT_SERVICES, (name, target)


def test_rabbitmq_is_an_opt_in_profile(services: dict[str, Any]) -> None:
    rabbit = services["rabbitmq"]
    assert rabbit.get("profiles") == ["rabbitmq"]
    assert "rabbitmq-diagnostics" in " ".join(rabbit["healthcheck"]["test"])
    # The processes do not need it unless the broker URL is switched to amqp.
    for name in SOHOA_SERVICES:
        assert "rabbitmq" not in (services[name].get("depends_on") or {})


def test_only_web_and_the_s3_api_publish_a_port(services: dict[str, Any]) -> None:
    published = {name for name, service in services.items() if service.get("ports")}
    assert published == {"web", "minio"}
    assert any(str(p).endswith(":8000") for p in services["web"]["ports"])
    assert all(str(p).endswith(":9000") for p in services["minio"]["ports"])


# --- secrets and volumes

_SECRET_KEY = re.compile(r"PASSWORD|PASS$|SECRET|ROOT_USER|ACCESS_KEY|TOKEN", re.IGNORECASE)
_REFERENCE = re.compile(r"^\$\{[A-Za-z_][A-Za-z0-9_]*(?::?[-?][^}]*)?\}$")
_URL_PASSWORD = re.compile(r"[a-z][a-z0-9+.-]*://[^/@\s:]*:(?P<password>[^/@\s]*)@")


def test_no_secret_literals_in_compose_file() -> None:
    raw = raw_compose()
    for name, service in raw["services"].items():
        for key, value in environment_of(service).items():
            if _SECRET_KEY.search(key):
                assert _REFERENCE.match(value), f"{name}: {key} must come from ${{...}}"
    text = COMPOSE_FILE.read_text(encoding="utf-8")
    for m in _URL_PASSWORD.finditer(text):
        password = m.group("password")
        assert _REFERENCE.match(password), f"URL password literal: {m.group(0)}"
    for value in TEST_ENV.values():
        assert value not in text


def _named_volumes(service: Mapping[str, Any]) -> set[str]:
    names = set()
    for volume in service.get("volumes") or []:
        if isinstance(volume, str):
            source = volume.split(":", 1)[0] if ":" in volume else ""
            if source and not source.startswith((".", "/", "~", "$")):
                names.add(source)
        elif volume.get("type", "volume") == "volume" and volume.get("source"):
            names.add(volume["source"])
    return names


def test_every_named_volume_is_declared(compose: dict[str, Any]) -> None:
    declared = set(compose.get("volumes") or {})
    used = set()
    for name, service in compose["services"].items():
        missing = _named_volumes(service) - declared
        assert not missing, f"{name} uses undeclared volumes {missing}"
        used |= _named_volumes(service)
    assert used == declared, f"declared but unused: {declared - used}"


def test_stateful_services_keep_data_in_volumes(services: dict[str, Any]) -> None:
    for name in ("postgres", "minio", "elasticsearch", "rabbitmq", "web", "worker", "follow"):
        assert _named_volumes(services[name]), name


def test_env_example_lists_every_required_secret() -> None:
    text = ENV_EXAMPLE.read_text(encoding="utf-8")
    values = dict(
        line.split("=", 1)
        for line in text.splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    )
    assert set(values) == set(REQUIRED_SECRETS)
    for key, value in values.items():
        assert "change-me" in value, f"{key} should hold an obvious placeholder"
        assert re.fullmatch(r"[A-Za-z0-9_-]{8,}", value), f"{key}: URL-safe, 8+ characters"


# --- image


def test_dockerfile_builds_the_ocr_image() -> None:
    text = DOCKERFILE.read_text(encoding="utf-8")
    assert re.search(r"^FROM python:3\.11-slim-bookworm\b", text, re.MULTILINE)
    for package in ("tesseract-ocr", "tesseract-ocr-vie", "tesseract-ocr-eng"):
        assert re.search(rf"\s{re.escape(package)}\s", text), package
    assert "--no-install-recommends" in text
    assert "rm -rf /var/lib/apt/lists/*" in text
    assert "OMP_THREAD_LIMIT=1" in text
    users = re.findall(r"^USER\s+(\S+)", text, re.MULTILINE)
    assert users and users[-1] not in ("root", "0"), "the image must run as a non-root user"
    assert re.search(r"^HEALTHCHECK\b.*urllib.*/healthz", text, re.MULTILINE | re.DOTALL)
    assert re.search(r"^EXPOSE 8000\b", text, re.MULTILINE)
    assert re.search(r'^CMD \["sohoa", "serve"', text, re.MULTILINE)


def test_dockerfile_copies_every_package_pyproject_installs() -> None:
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    include = pyproject["tool"]["setuptools"]["packages"]["find"]["include"]
    packages = {pattern.rstrip("*").rstrip(".") for pattern in include}
    copied = {
        src.rstrip("/")
        for line in re.findall(r"^COPY\s+(.+)$", DOCKERFILE.read_text(), re.MULTILINE)
        for src in line.split()[:-1]
        if not src.startswith("--")
    }
    assert packages <= copied, f"not copied into the image: {packages - copied}"
    assert "pyproject.toml" in copied
    readme = pyproject["project"].get("readme")
    if readme:
        assert readme in copied


def test_dockerignore_keeps_secrets_and_clutter_out() -> None:
    entries = {line.strip() for line in DOCKERIGNORE.read_text().splitlines() if line.strip()}
    for entry in (".env", ".venv", "var", ".git", "tests"):
        assert entry in entries, entry
    for needed in ("pyproject.toml", "README.md"):
        assert needed not in entries


# --- README cross-check

_SERVICE_LIKE = re.compile(r"`([a-z][a-z0-9]*(?:-[a-z0-9]+)*)`")
# Backticked words in that section that are not service names.
_NOT_SERVICES = {"sohoa", "docker", "compose", "up", "down", "build", "ps", "logs", "healthy"}


def test_readme_distributed_stack_services_exist(compose: dict[str, Any]) -> None:
    if not README.exists():
        pytest.skip("README.md does not exist yet; its 'Distributed stack' section is checked")
    text = README.read_text(encoding="utf-8")
    section = re.search(
        r"^##\s+Distributed stack\s*$(?P<body>.*?)(?=^##\s|\Z)", text, re.MULTILINE | re.DOTALL
    )
    assert section, "README.md has no '## Distributed stack' section"
    profiles = {p for s in compose["services"].values() for p in s.get("profiles", [])}
    ignore = (
        _NOT_SERVICES | set(compose.get("volumes") or {}) | (profiles - set(compose["services"]))
    )
    mentioned = {m for m in _SERVICE_LIKE.findall(section.group("body")) if m not in ignore}
    assert mentioned, "the 'Distributed stack' section names no services in backticks"
    unknown = mentioned - set(compose["services"])
    assert not unknown, f"README names services missing from docker-compose.yml: {unknown}"
