#!/usr/bin/env python3
"""Runs xacct's local stack on one machine: moto (emulated AWS holding an owner and a
requestor account), demo resources in the owner account, and two `cargo lambda watch`
servers that serve the four functions with each side's own credentials.

Run it with the repository's venv (`scripts/bootstrap-venv` creates it):

    .venv/bin/python scripts/localstack.py up --background   # or --foreground
    .venv/bin/python scripts/localstack.py status
    .venv/bin/python scripts/localstack.py reset
    .venv/bin/python scripts/localstack.py down

Everything it writes lives in `.local/` (git-ignored): `stack.json` (what runs, where,
with which credentials; tests find it through `XACCT_STACK_FILE`), `owner.env` and
`requestor.env` (the functions' environment), `aws/` (empty AWS config files) and
`logs/`. With XACCT_FAULT_PROXY=1 the stack file also holds `fault_proxy_url`, where
the end-to-end tests add faults (see tests/faultproxy.py).

Environment:
    XACCT_MOTO_PORT        moto's port (default 5000)
    XACCT_OWNER_PORT       owner functions' port (default 9000)
    XACCT_REQUESTOR_PORT   requestor function's port (default 9001)
    XACCT_STACK_TIMEOUT    seconds `up` waits for every function to answer (default 1500;
                           a fresh target directory compiles on the first request)
    XACCT_INVOKE_TIMEOUT   cargo lambda's --timeout, seconds (default 3600). It also
                           bounds a function instance's wait for its next event: an
                           instance idle that long gets an answer without a request id,
                           its runtime panics, and with XACCT_NO_RELOAD=1 cargo lambda
                           starts no new one, so every later request to it hangs (seen
                           with 60: every instance of both sides gone ~100 s after `up`)
    XACCT_NO_FUNCTIONS     1: start moto, seed it and write the env files only
    XACCT_FAULT_PROXY      1: put tests/faultproxy.py between the functions and moto (the
                           env files' AWS_ENDPOINT_URL points at it; seeding still talks
                           to moto); `make test-e2e` sets it
    XACCT_PROXY_PORT       the fault proxy's port (default 5001)
    XACCT_NO_RELOAD        1: the functions do not rebuild and restart when a file of the
                           work tree changes (`make test-e2e` sets it)
    XACCT_RUST_LOG         RUST_LOG for the functions (default info)
    XACCT_CARGO_LAMBDA     cargo-lambda executable (default: the venv's)
    CARGO_TARGET_DIR       kept; defaults to ~/.cache/xacct-target

moto enforces no IAM and maps an unknown access key to its default account 123456789012
without an error, so credentials are assumed afresh (and the function servers restarted)
every time moto starts or is reset, and each side's account is checked before use.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import errno
import fcntl
import io
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

try:
    import boto3
    import botocore.config
    import botocore.exceptions
except ModuleNotFoundError as missing:  # run with the system python by mistake
    sys.exit(f"localstack: {missing.name} is missing; run `make venv`, then use .venv/bin/python")

# --------------------------------------------------------------------------------------
# Layout and fixed facts
# --------------------------------------------------------------------------------------

REPO_ROOT = Path(__file__).resolve().parent.parent
LOCAL_DIR = REPO_ROOT / ".local"
LOG_DIR = LOCAL_DIR / "logs"
AWS_DIR = LOCAL_DIR / "aws"
STACK_FILE = LOCAL_DIR / "stack.json"
LOCK_FILE = LOCAL_DIR / "stack.lock"
STACK_FILE_VERSION = 1
FAULT_PROXY_SCRIPT = REPO_ROOT / "tests" / "faultproxy.py"
FAULT_PROXY_NAME = "fault-proxy"  # its name in the stack file's processes and logs/

LOOPBACK = "127.0.0.1"  # never `localhost`: the S3 SDKs switch to bucket.localhost
OWNER_ACCOUNT = "111111111111"
REQUESTOR_ACCOUNT = "222222222222"
MOTO_DEFAULT_ACCOUNT = "123456789012"
HOME_REGION = "us-east-1"
SEED_REGIONS = ("us-east-1", "eu-west-1")

# Functions served by each side's `cargo lambda watch`. Every instance serves every
# binary of the workspace; these maps say which port a caller must use.
SIDE_FUNCTIONS: dict[str, tuple[str, ...]] = {
    "owner": (
        "list-resources",
        "list-permissions",
        "create-owner-role",
        "list-grants",
        "check-owner-role",
        "revoke-grant",
    ),
    "requestor": (
        "create-requestor-resources",
        "check-requestor-role",
        "revoke-requestor-resources",
    ),
}
SIDE_ACCOUNTS = {"owner": OWNER_ACCOUNT, "requestor": REQUESTOR_ACCOUNT}
SIDE_ROLE_NAMES = {"owner": "xacct-local-owner", "requestor": "xacct-local-requestor"}

# Static keys used only to call moto's sts:AssumeRole. moto accepts any key; these are
# not credentials for anything. The keys the stack uses come from AssumeRole.
BOOTSTRAP_ACCESS_KEY_ID = "AKIAXACCTLOCALEXAMPLE"
BOOTSTRAP_SECRET_ACCESS_KEY = "xacct-local-bootstrap-secret-EXAMPLE"
ASSUMED_SESSION_NAME = "xacct-local"
# 12 h so a long local session keeps working; moto does not enforce MaxSessionDuration.
ASSUMED_SESSION_SECONDS = 43200

# Dropped from every child's environment before the stack sets its own, besides any
# AWS_* (profiles, config files, CA bundles, keys, endpoints, FIPS/dual-stack switches)
# and XACCT_*: the functions' own settings, so nothing from the shell leaks in.
STRIPPED_VARIABLES = ("PERMISSIONS_BOUNDARY_ARN",)

MOTO_READY_SECONDS = 60.0
PROXY_READY_SECONDS = 20.0
STOP_GRACE_SECONDS = 10.0
LOG_TAIL_LINES = 40
# After this many 5xx answers in a row a function is taken as broken (a crash at init,
# say) rather than still starting.
MAX_SERVER_ERRORS = 5
COMPILE_FAILURE = re.compile(
    r"^error: (could not compile|failed to (load|parse) manifest|no matching package)",
    re.MULTILINE,
)
ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


class StackError(Exception):
    """A failure the user can act on; its message is printed without a traceback."""


class Interrupted(Exception):
    """SIGINT, SIGTERM or SIGHUP arrived; the stack must be stopped."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


_STARTED = time.monotonic()


def log(message: str) -> None:
    """Progress on stderr, with the seconds since start (a first build takes minutes)."""
    print(
        f"localstack [{time.monotonic() - _STARTED:6.1f}s] {message}", file=sys.stderr, flush=True
    )


# --------------------------------------------------------------------------------------
# Settings
# --------------------------------------------------------------------------------------


def _env_int(name: str, default: int, low: int, high: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise StackError(f"`{name}` must be a whole number, got `{raw}`") from None
    if not low <= value <= high:
        raise StackError(f"`{name}` must be between {low} and {high}, got {value}")
    return value


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")


@dataclass(frozen=True)
class Settings:
    moto_port: int
    owner_port: int
    requestor_port: int
    stack_timeout: int
    invoke_timeout: int
    functions_enabled: bool
    rust_log: str
    target_dir: Path
    fault_proxy: bool = False
    proxy_port: int = 5001
    reload: bool = True

    @staticmethod
    def from_env(no_functions_flag: bool = False) -> Settings:
        target = os.environ.get("CARGO_TARGET_DIR", "").strip()
        settings = Settings(
            moto_port=_env_int("XACCT_MOTO_PORT", 5000, 1, 65535),
            owner_port=_env_int("XACCT_OWNER_PORT", 9000, 1, 65535),
            requestor_port=_env_int("XACCT_REQUESTOR_PORT", 9001, 1, 65535),
            stack_timeout=_env_int("XACCT_STACK_TIMEOUT", 1500, 1, 86400),
            invoke_timeout=_env_int("XACCT_INVOKE_TIMEOUT", 3600, 1, 86400),
            functions_enabled=not (no_functions_flag or _env_flag("XACCT_NO_FUNCTIONS")),
            rust_log=os.environ.get("XACCT_RUST_LOG", "").strip() or "info",
            target_dir=Path(target) if target else Path.home() / ".cache" / "xacct-target",
            fault_proxy=_env_flag("XACCT_FAULT_PROXY"),
            proxy_port=_env_int("XACCT_PROXY_PORT", 5001, 1, 65535),
            reload=not _env_flag("XACCT_NO_RELOAD"),
        )
        ports = [settings.moto_port]
        if settings.fault_proxy:
            ports.append(settings.proxy_port)
        if settings.functions_enabled:
            ports += [settings.owner_port, settings.requestor_port]
        if len(set(ports)) != len(ports):
            raise StackError(f"the stack's ports must differ, got {ports}")
        return settings

    @property
    def moto_url(self) -> str:
        return f"http://{LOOPBACK}:{self.moto_port}"

    @property
    def proxy_url(self) -> str:
        return f"http://{LOOPBACK}:{self.proxy_port}"

    @property
    def functions_endpoint(self) -> str:
        """The functions' AWS_ENDPOINT_URL: the fault proxy when there is one, else moto."""
        return self.proxy_url if self.fault_proxy else self.moto_url

    def side_port(self, side: str) -> int:
        return self.owner_port if side == "owner" else self.requestor_port

    def side_url_base(self, side: str) -> str:
        return f"http://{LOOPBACK}:{self.side_port(side)}"


def function_url(url_base: str, name: str) -> str:
    return f"{url_base}/lambda-url/{name}/"


# --------------------------------------------------------------------------------------
# Environments
# --------------------------------------------------------------------------------------


def aws_config_files() -> dict[str, str]:
    """Empty AWS config and credentials files, so no SDK reads the developer's ~/.aws."""
    AWS_DIR.mkdir(parents=True, exist_ok=True)
    paths = {
        "AWS_CONFIG_FILE": AWS_DIR / "config",
        "AWS_SHARED_CREDENTIALS_FILE": AWS_DIR / "credentials",
    }
    for path in paths.values():
        path.write_text("")
    return {name: str(path) for name, path in paths.items()}


def _no_proxy_value(current: str | None) -> str:
    hosts = [h for h in (current or "").split(",") if h.strip()]
    for host in (LOOPBACK, "localhost", "::1"):
        if host not in hosts:
            hosts.append(host)
    return ",".join(hosts)


def clean_environment(base: Mapping[str, str], for_child: bool = True) -> dict[str, str]:
    """`base` without any AWS_* variable, with loopback unproxied. For a child, also
    without the functions' settings and the stack's own XACCT_* knobs."""

    def kept(name: str) -> bool:
        if name.startswith("AWS_"):
            return False
        return not for_child or not (name.startswith("XACCT_") or name in STRIPPED_VARIABLES)

    env = {name: value for name, value in base.items() if kept(name)}
    env["NO_PROXY"] = env["no_proxy"] = _no_proxy_value(
        base.get("NO_PROXY") or base.get("no_proxy")
    )
    env.update(aws_config_files())
    env["AWS_EC2_METADATA_DISABLED"] = "true"
    return env


def isolate_this_process() -> None:
    """Applies `clean_environment` to this process, before boto3 reads anything."""
    cleaned = clean_environment(os.environ, for_child=False)
    for name in list(os.environ):
        if name not in cleaned:
            del os.environ[name]
    os.environ.update(cleaned)


# --------------------------------------------------------------------------------------
# HTTP on loopback (never through a proxy)
# --------------------------------------------------------------------------------------

_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def http_request(method: str, url: str, timeout: float) -> tuple[int, bytes]:
    """Status and body of one request; any HTTP status is an answer, not an error.

    Raises OSError (urllib.error.URLError, TimeoutError, ConnectionError) when nothing
    answers in time.
    """
    request = urllib.request.Request(url, method=method, data=b"" if method == "POST" else None)
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, error.read()


def port_answers(port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((LOOPBACK, port), timeout=timeout):
            return True
    except OSError:
        return False


def is_moto(url: str) -> bool:
    """Whether a moto server answers at `url`.

    Asks for moto's configuration (a JSON object, HTTP 201): `/moto-api/data.json`
    fails with HTTP 500 without Docker as soon as a Lambda function exists.
    """
    try:
        status, body = http_request("GET", f"{url}/moto-api/config", timeout=5)
    except OSError:
        return False
    if not 200 <= status < 300:
        return False
    try:
        return isinstance(json.loads(body), dict)
    except ValueError:
        return False


def reset_moto(url: str) -> None:
    try:
        status, body = http_request("POST", f"{url}/moto-api/reset", timeout=30)
    except OSError as error:
        raise StackError(f"moto at {url} did not answer the reset: {error}") from error
    if status != 200:
        raise StackError(f"moto at {url} refused the reset with HTTP {status}: {body[:200]!r}")


# --------------------------------------------------------------------------------------
# Processes
# --------------------------------------------------------------------------------------


@dataclass
class ProcessRecord:
    """A child started in its own session; `started` guards against a reused pid."""

    name: str
    pid: int
    pgid: int
    started: str | None
    log: str
    argv: list[str]

    def to_json(self) -> dict[str, Any]:
        return {
            "pid": self.pid,
            "pgid": self.pgid,
            "started": self.started,
            "log": self.log,
            "argv": self.argv,
        }

    @staticmethod
    def from_json(name: str, data: Mapping[str, Any]) -> ProcessRecord:
        return ProcessRecord(
            name=name,
            pid=int(data["pid"]),
            pgid=int(data["pgid"]),
            started=data.get("started"),
            log=str(data["log"]),
            argv=[str(a) for a in data.get("argv", [])],
        )


def _ps(args: list[str]) -> str | None:
    """Output of `ps` (present on Linux and macOS), or None when it cannot run."""
    try:
        result = subprocess.run(
            ["ps", *args], capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return result.stdout if result.returncode == 0 else None


def process_start_time(pid: int) -> str | None:
    out = _ps(["-o", "lstart=", "-p", str(pid)])
    return (out.strip() or None) if out is not None else None


def _is_zombie(pid: int) -> bool:
    stat = Path(f"/proc/{pid}/stat")
    try:
        # The state follows the parenthesised command name, which may contain spaces.
        return stat.read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return False
    except (OSError, IndexError):
        pass
    out = _ps(["-o", "stat=", "-p", str(pid)])
    return out is not None and out.strip().startswith("Z")


def pid_running(pid: int) -> bool:
    """Whether `pid` is a live (not zombie) process."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return not _is_zombie(pid)


def record_running(record: ProcessRecord) -> bool:
    """Whether the process recorded is still the one running under that pid."""
    if not pid_running(record.pid):
        return False
    if record.started is None:
        return True
    now = process_start_time(record.pid)
    return now is None or now == record.started


def reap_children() -> None:
    """Collects exited children of this process so they do not linger as zombies."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def descendants(pid: int) -> set[int]:
    """Every process below `pid`, found before signalling (orphans lose their parent)."""
    out = _ps(["-A", "-o", "pid=,ppid="])
    if out is None:
        return set()
    children: dict[int, list[int]] = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0].isdigit() and parts[1].isdigit():
            children.setdefault(int(parts[1]), []).append(int(parts[0]))
    found: set[int] = set()
    stack = [pid]
    while stack:
        for child in children.get(stack.pop(), []):
            if child not in found:
                found.add(child)
                stack.append(child)
    return found


def session_members(sid: int) -> set[int]:
    """Processes in session `sid` (Linux /proc; empty elsewhere). Each child starts its
    own session, so this finds what it left behind even after it died: the kernel does
    not reuse a pid that still names a session."""
    members: set[int] = set()
    proc = Path("/proc")
    if not proc.is_dir():
        return members
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            # Fields after the parenthesised name: state ppid pgrp session ...
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if len(fields) > 3 and fields[3] == str(sid) and fields[0] != "Z":
            members.add(int(entry.name))
    members.discard(sid)
    return members


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def _wait_until_gone(pids: set[int], seconds: float) -> set[int]:
    """Waits up to `seconds` for `pids` to exit; returns those still running."""
    deadline = time.monotonic() + seconds
    while True:
        reap_children()
        alive = {pid for pid in pids if pid_running(pid)}
        if not alive or time.monotonic() >= deadline:
            return alive
        time.sleep(0.1)


def stop_process(record: ProcessRecord, grace: float = STOP_GRACE_SECONDS) -> None:
    """Stops a recorded process and everything it started.

    SIGTERM to its process group first (cargo lambda then stops its functions itself),
    then SIGTERM to any descendant left in another group, then SIGKILL to what remains.
    """
    running = record_running(record)
    if running:
        log(f"stopping {record.name} (pid {record.pid})")
        # Found before signalling: orphans lose their parent.
        tree = descendants(record.pid) | session_members(record.pid)
        _signal_group(record.pgid, signal.SIGTERM)
    elif pid_running(record.pid):
        return  # the pid now belongs to another program: nothing of ours is left
    else:
        tree = session_members(record.pid)  # what a leader that died left behind
        if not tree:
            return
        log(f"{record.name} (pid {record.pid}) had exited; stopping what it left: {sorted(tree)}")
    leader = _wait_until_gone({record.pid}, grace) if running else set()
    leftovers = _wait_until_gone(tree, 0.5)
    if not leader and not leftovers:
        return
    for pid in leftovers:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGTERM)
    alive = _wait_until_gone(leader | leftovers, 2.0)
    if alive:
        log(f"{record.name}: pids {sorted(alive)} ignored SIGTERM; killing them")
        _signal_group(record.pgid, signal.SIGKILL)
        for pid in alive:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        _wait_until_gone(alive, 5.0)


def spawn(name: str, argv: list[str], env: Mapping[str, str]) -> ProcessRecord:
    """Starts `argv` in a new session (it outlives this script) logging to logs/<name>.log."""
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    log_path = LOG_DIR / f"{name}.log"
    with open(log_path, "wb") as log_file:  # a fresh log for each start
        process = subprocess.Popen(
            argv,
            cwd=REPO_ROOT,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return ProcessRecord(
        name=name,
        pid=process.pid,
        pgid=process.pid,  # a session leader leads its own process group
        started=process_start_time(process.pid),
        log=str(log_path),
        argv=argv,
    )


def log_tail(path: str | Path, lines: int = LOG_TAIL_LINES) -> str:
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - 64 * 1024))
            text = f.read().decode("utf-8", errors="replace")
    except OSError as error:
        return f"(cannot read {path}: {error})"
    tail = ANSI_ESCAPE.sub("", text).splitlines()[-lines:]
    return "\n".join(f"    {line}" for line in tail) or "    (empty)"


# --------------------------------------------------------------------------------------
# The stack file
# --------------------------------------------------------------------------------------


def load_stack() -> dict[str, Any] | None:
    try:
        data = json.loads(STACK_FILE.read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as error:
        raise StackError(
            f"cannot read {STACK_FILE}: {error}; remove it if no stack runs"
        ) from error
    if not isinstance(data, dict) or data.get("version") != STACK_FILE_VERSION:
        raise StackError(f"{STACK_FILE} was written by another version; remove it if no stack runs")
    return data


def save_stack(stack: Mapping[str, Any]) -> None:
    """Writes the stack file atomically (readers never see half a file); mode 0600."""
    LOCAL_DIR.mkdir(parents=True, exist_ok=True)
    tmp = STACK_FILE.with_name(f".{STACK_FILE.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(stack, f, indent=2, sort_keys=False)
        f.write("\n")
    os.replace(tmp, STACK_FILE)


def stack_processes(stack: Mapping[str, Any]) -> list[ProcessRecord]:
    """Recorded processes, function servers first, then the fault proxy, then moto (the
    order they must be stopped in: each one's callers before it)."""
    procs = stack.get("processes", {})
    last = {FAULT_PROXY_NAME: 1, "moto": 2}
    order = sorted(procs, key=lambda name: last.get(name, 0))
    return [ProcessRecord.from_json(name, procs[name]) for name in order]


def remove_generated_files() -> None:
    """Stack file and env files go together: env credentials are void once moto stops."""
    for path in (STACK_FILE, LOCAL_DIR / "owner.env", LOCAL_DIR / "requestor.env"):
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def stop_stack(stack: Mapping[str, Any]) -> None:
    for record in stack_processes(stack):
        stop_process(record)
    remove_generated_files()


@contextlib.contextmanager
def exclusive_lock() -> Iterator[None]:
    """One `up` or `reset` at a time; a second one fails at once instead of racing."""
    LOCAL_DIR.mkdir(parents=True, exist_ok=True)
    with open(LOCK_FILE, "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as error:
            if error.errno in (errno.EAGAIN, errno.EACCES):
                raise StackError("another `up` or `reset` is running") from None
            raise
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


# --------------------------------------------------------------------------------------
# AWS sessions on moto
# --------------------------------------------------------------------------------------

_BOTO_CONFIG = botocore.config.Config(
    connect_timeout=5,
    read_timeout=60,
    retries={"max_attempts": 3, "mode": "standard"},
    s3={"addressing_style": "path"},
)


@dataclass(frozen=True)
class Credentials:
    access_key_id: str
    secret_access_key: str
    session_token: str

    def to_json(self) -> dict[str, str]:
        return {
            "access_key_id": self.access_key_id,
            "secret_access_key": self.secret_access_key,
            "session_token": self.session_token,
        }


@dataclass
class Side:
    """One account's view of moto: its credentials and a client factory."""

    name: str
    account: str
    role_arn: str
    credentials: Credentials
    endpoint: str
    _session: boto3.session.Session = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._session = boto3.session.Session(
            aws_access_key_id=self.credentials.access_key_id,
            aws_secret_access_key=self.credentials.secret_access_key,
            aws_session_token=self.credentials.session_token,
        )

    def client(self, service: str, region: str = HOME_REGION) -> Any:
        return self._session.client(
            service, region_name=region, endpoint_url=self.endpoint, config=_BOTO_CONFIG
        )


def assume_side(side: str, endpoint: str) -> Side:
    """Assumes the side's role in moto and checks the account the credentials land in."""
    account = SIDE_ACCOUNTS[side]
    role_arn = f"arn:aws:iam::{account}:role/{SIDE_ROLE_NAMES[side]}"
    sts = boto3.session.Session(
        aws_access_key_id=BOOTSTRAP_ACCESS_KEY_ID,
        aws_secret_access_key=BOOTSTRAP_SECRET_ACCESS_KEY,
    ).client("sts", region_name=HOME_REGION, endpoint_url=endpoint, config=_BOTO_CONFIG)
    try:
        issued = sts.assume_role(
            RoleArn=role_arn,
            RoleSessionName=ASSUMED_SESSION_NAME,
            DurationSeconds=ASSUMED_SESSION_SECONDS,
        )["Credentials"]
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as error:
        raise StackError(f"sts:AssumeRole on `{role_arn}` failed at {endpoint}: {error}") from error
    result = Side(
        name=side,
        account=account,
        role_arn=role_arn,
        credentials=Credentials(
            issued["AccessKeyId"], issued["SecretAccessKey"], issued["SessionToken"]
        ),
        endpoint=endpoint,
    )
    seen = result.client("sts").get_caller_identity()["Account"]
    if seen != account:
        raise StackError(
            f"the {side} credentials act in account {seen}, not {account}"
            + (
                " (moto's default account: the keys were not recognised)"
                if seen == MOTO_DEFAULT_ACCOUNT
                else ""
            )
        )
    return result


def _error_code(error: botocore.exceptions.ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


# --------------------------------------------------------------------------------------
# Demo resources in the owner account
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BucketSpec:
    name: str
    region: str
    tags: dict[str, str]
    objects: dict[str, bytes] = field(default_factory=dict)


@dataclass(frozen=True)
class InstanceSpec:
    """EC2 instances have no name to look up: an instance matches on type and exact tags."""

    region: str
    instance_type: str
    tags: dict[str, str]


@dataclass(frozen=True)
class FunctionSpec:
    name: str
    region: str
    tags: dict[str, str]
    description: str


@dataclass(frozen=True)
class DbClusterSpec:
    identifier: str
    region: str
    engine: str
    tags: dict[str, str]


@dataclass(frozen=True)
class DbInstanceSpec:
    identifier: str
    region: str
    engine: str
    instance_class: str
    tags: dict[str, str]
    cluster: str | None = None


DEMO_TAGS = {"project": "xacct-demo", "owner-team": "platform"}

SEED_BUCKETS = (
    BucketSpec(
        "xacct-demo-reports",
        "us-east-1",
        {**DEMO_TAGS, "data-classification": "internal"},
        {
            "reports/2026-q2.csv": b"quarter,revenue\n2026-q2,1000\n",
            "reports/2026-q3.csv": b"quarter,revenue\n2026-q3,1250\n",
            "README.txt": b"Demo bucket seeded by scripts/localstack.py\n",
        },
    ),
    BucketSpec("xacct-demo-untagged", "us-east-1", {}),
    BucketSpec("xacct-demo-logs-eu", "eu-west-1", {**DEMO_TAGS, "retention": "90d"}),
)
SEED_INSTANCES = (
    InstanceSpec("us-east-1", "t3.micro", {"Name": "xacct-demo-web", **DEMO_TAGS}),
    InstanceSpec("us-east-1", "t3.nano", {}),
    InstanceSpec("eu-west-1", "t3.micro", {"Name": "xacct-demo-worker-eu", **DEMO_TAGS}),
    InstanceSpec("eu-west-1", "t3.nano", {}),
)
SEED_FUNCTIONS = (
    FunctionSpec(
        "xacct-demo-report-builder", "us-east-1", dict(DEMO_TAGS), "builds the quarterly reports"
    ),
    FunctionSpec("xacct-demo-log-shipper", "eu-west-1", {}, "ships logs to xacct-demo-logs-eu"),
)
SEED_DB_CLUSTERS = (
    DbClusterSpec("xacct-demo-analytics", "us-east-1", "aurora-postgresql", dict(DEMO_TAGS)),
)
SEED_DB_INSTANCES = (
    DbInstanceSpec("xacct-demo-orders-pg", "us-east-1", "postgres", "db.t3.micro", dict(DEMO_TAGS)),
    DbInstanceSpec(
        "xacct-demo-analytics-1",
        "us-east-1",
        "aurora-postgresql",
        "db.r6g.large",
        dict(DEMO_TAGS),
        cluster="xacct-demo-analytics",
    ),
    DbInstanceSpec("xacct-demo-inventory-mysql", "eu-west-1", "mysql", "db.t3.micro", {}),
)
LAMBDA_EXEC_ROLE = "xacct-demo-lambda-exec"
# moto stores but never uses it; a fixed demo value, not a secret.
DEMO_DB_PASSWORD = "xacct-local-demo-only"


def _tag_list(tags: Mapping[str, str]) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in sorted(tags.items())]


def _tag_dict(tags: list[Mapping[str, str]] | None) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in tags or []}


def _entry(arn: str, name: str, tags: Mapping[str, str], **extra: Any) -> dict[str, Any]:
    return {"arn": arn, "name": name, "tags": dict(sorted(tags.items())), **extra}


class OwnerSeeder:
    """Creates the owner's demo resources, each only if missing, and lists their ARNs."""

    def __init__(self, owner: Side) -> None:
        self.owner = owner
        self.inventory: dict[str, Any] = {
            "account": owner.account,
            "global": {"iam_roles": []},
            "regions": {
                region: {
                    "s3_buckets": [],
                    "s3_objects": [],
                    "ec2_instances": [],
                    "lambda_functions": [],
                    "rds_db_clusters": [],
                    "rds_db_instances": [],
                }
                for region in SEED_REGIONS
            },
        }

    def _add(self, region: str, kind: str, entry: dict[str, Any]) -> None:
        self.inventory["regions"][region][kind].append(entry)

    def run(self) -> dict[str, Any]:
        for bucket in SEED_BUCKETS:
            self.bucket(bucket)
        for instance in SEED_INSTANCES:
            self.instance(instance)
        role_arn = self.lambda_role()
        for function in SEED_FUNCTIONS:
            self.function(function, role_arn)
        for cluster in SEED_DB_CLUSTERS:
            self.db_cluster(cluster)
        for db in SEED_DB_INSTANCES:
            self.db_instance(db)
        return self.inventory

    def bucket(self, spec: BucketSpec) -> None:
        s3 = self.owner.client("s3", spec.region)
        kwargs: dict[str, Any] = {"Bucket": spec.name}
        if spec.region != "us-east-1":  # us-east-1 takes no LocationConstraint
            kwargs["CreateBucketConfiguration"] = {"LocationConstraint": spec.region}
        try:
            s3.create_bucket(**kwargs)
        except botocore.exceptions.ClientError as error:
            if _error_code(error) == "BucketAlreadyExists":
                raise StackError(
                    f"bucket `{spec.name}` belongs to another account in moto"
                ) from error
            if _error_code(error) != "BucketAlreadyOwnedByYou":
                raise
        if spec.tags:
            s3.put_bucket_tagging(Bucket=spec.name, Tagging={"TagSet": _tag_list(spec.tags)})
        else:
            s3.delete_bucket_tagging(Bucket=spec.name)
        arn = f"arn:aws:s3:::{spec.name}"
        self._add(spec.region, "s3_buckets", _entry(arn, spec.name, spec.tags))
        for key, body in sorted(spec.objects.items()):
            s3.put_object(Bucket=spec.name, Key=key, Body=body)
            self._add(spec.region, "s3_objects", _entry(f"{arn}/{key}", key, {}, bucket=spec.name))

    def _image_id(self, ec2: Any, region: str) -> str:
        """An Amazon Linux 2023 x86_64 AMI from moto's catalogue for the region."""
        images = ec2.describe_images(
            Owners=["amazon"],
            Filters=[
                {"Name": "name", "Values": ["al2023-ami-2023*"]},
                {"Name": "architecture", "Values": ["x86_64"]},
            ],
        )["Images"]
        if not images:
            images = ec2.describe_images(
                Owners=["amazon"], Filters=[{"Name": "architecture", "Values": ["x86_64"]}]
            )["Images"]
        if not images:
            raise StackError(f"moto lists no x86_64 Amazon AMI in {region}")
        return str(max(images, key=lambda image: image.get("Name", ""))["ImageId"])

    def instance(self, spec: InstanceSpec) -> None:
        ec2 = self.owner.client("ec2", spec.region)
        found = None
        pages = ec2.get_paginator("describe_instances").paginate(
            Filters=[
                {"Name": "instance-type", "Values": [spec.instance_type]},
                {
                    "Name": "instance-state-name",
                    "Values": ["pending", "running", "stopping", "stopped"],
                },
            ]
        )
        for page in pages:
            for reservation in page["Reservations"]:
                for instance in reservation["Instances"]:
                    if _tag_dict(instance.get("Tags")) == spec.tags:
                        found = instance
        if found is None:
            kwargs: dict[str, Any] = {
                "ImageId": self._image_id(ec2, spec.region),
                "InstanceType": spec.instance_type,
                "MinCount": 1,
                "MaxCount": 1,
            }
            if spec.tags:
                kwargs["TagSpecifications"] = [
                    {"ResourceType": "instance", "Tags": _tag_list(spec.tags)}
                ]
            found = ec2.run_instances(**kwargs)["Instances"][0]
        instance_id = found["InstanceId"]
        arn = f"arn:aws:ec2:{spec.region}:{self.owner.account}:instance/{instance_id}"
        self._add(
            spec.region,
            "ec2_instances",
            _entry(
                arn,
                spec.tags.get("Name", instance_id),
                spec.tags,
                instance_id=instance_id,
                instance_type=spec.instance_type,
            ),
        )

    def lambda_role(self) -> str:
        """The execution role moto requires before it creates a function."""
        iam = self.owner.client("iam")
        try:
            role = iam.get_role(RoleName=LAMBDA_EXEC_ROLE)["Role"]
        except botocore.exceptions.ClientError as error:
            if _error_code(error) != "NoSuchEntity":
                raise
            trust = {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "lambda.amazonaws.com"},
                        "Action": "sts:AssumeRole",
                    }
                ],
            }
            role = iam.create_role(
                RoleName=LAMBDA_EXEC_ROLE,
                Path="/service-role/",
                AssumeRolePolicyDocument=json.dumps(trust),
                Description="execution role of the demo functions",
                Tags=_tag_list(DEMO_TAGS),
            )["Role"]
        self.inventory["global"]["iam_roles"].append(
            _entry(role["Arn"], LAMBDA_EXEC_ROLE, DEMO_TAGS)
        )
        return str(role["Arn"])

    @staticmethod
    def _function_zip(description: str) -> bytes:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(
                "index.py",
                f'"""xacct demo function: {description}."""\n\n\n'
                "def handler(event, context):\n    return {'ok': True}\n",
            )
        return buffer.getvalue()

    def function(self, spec: FunctionSpec, role_arn: str) -> None:
        client = self.owner.client("lambda", spec.region)
        try:
            arn = client.get_function(FunctionName=spec.name)["Configuration"]["FunctionArn"]
        except botocore.exceptions.ClientError as error:
            if _error_code(error) != "ResourceNotFoundException":
                raise
            arn = client.create_function(
                FunctionName=spec.name,
                Runtime="python3.12",
                Role=role_arn,
                Handler="index.handler",
                Code={"ZipFile": self._function_zip(spec.description)},
                Description=spec.description,
                Timeout=10,
                MemorySize=128,
                Tags=spec.tags,
            )["FunctionArn"]
        if spec.tags:
            client.tag_resource(Resource=arn, Tags=spec.tags)
        self._add(spec.region, "lambda_functions", _entry(arn, spec.name, spec.tags))

    def db_cluster(self, spec: DbClusterSpec) -> None:
        rds = self.owner.client("rds", spec.region)
        try:
            cluster = rds.describe_db_clusters(DBClusterIdentifier=spec.identifier)["DBClusters"][0]
        except botocore.exceptions.ClientError as error:
            if _error_code(error) != "DBClusterNotFoundFault":
                raise
            cluster = rds.create_db_cluster(
                DBClusterIdentifier=spec.identifier,
                Engine=spec.engine,
                MasterUsername="xacct_demo",
                MasterUserPassword=DEMO_DB_PASSWORD,
                Tags=_tag_list(spec.tags),
            )["DBCluster"]
        self._add(
            spec.region,
            "rds_db_clusters",
            _entry(cluster["DBClusterArn"], spec.identifier, spec.tags, engine=spec.engine),
        )

    def db_instance(self, spec: DbInstanceSpec) -> None:
        rds = self.owner.client("rds", spec.region)
        try:
            db = rds.describe_db_instances(DBInstanceIdentifier=spec.identifier)["DBInstances"][0]
        except botocore.exceptions.ClientError as error:
            if _error_code(error) != "DBInstanceNotFound":
                raise
            kwargs: dict[str, Any] = {
                "DBInstanceIdentifier": spec.identifier,
                "DBInstanceClass": spec.instance_class,
                "Engine": spec.engine,
                "Tags": _tag_list(spec.tags),
            }
            if spec.cluster:  # storage and credentials come from the cluster
                kwargs["DBClusterIdentifier"] = spec.cluster
            else:
                kwargs.update(
                    AllocatedStorage=20,
                    MasterUsername="xacct_demo",
                    MasterUserPassword=DEMO_DB_PASSWORD,
                )
            db = rds.create_db_instance(**kwargs)["DBInstance"]
        extra: dict[str, Any] = {"engine": spec.engine}
        if spec.cluster:
            extra["cluster"] = spec.cluster
        self._add(
            spec.region,
            "rds_db_instances",
            _entry(db["DBInstanceArn"], spec.identifier, spec.tags, **extra),
        )


def _ids(items: list[Mapping[str, Any]], key: str) -> set[str]:
    return {str(item[key]) for item in items}


def account_view(side: Side, region: str) -> dict[str, set[str]]:
    """What one account sees in one region: instance ids, function, DB and cluster names."""
    ec2 = side.client("ec2", region)
    instances = {
        i["InstanceId"]
        for page in ec2.get_paginator("describe_instances").paginate()
        for r in page["Reservations"]
        for i in r["Instances"]
        if i["State"]["Name"] != "terminated"
    }
    lam = side.client("lambda", region)
    functions = {
        f["FunctionName"]
        for page in lam.get_paginator("list_functions").paginate()
        for f in page["Functions"]
    }
    rds = side.client("rds", region)
    dbs = {
        d["DBInstanceIdentifier"]
        for page in rds.get_paginator("describe_db_instances").paginate()
        for d in page["DBInstances"]
    }
    clusters = {
        c["DBClusterIdentifier"]
        for page in rds.get_paginator("describe_db_clusters").paginate()
        for c in page["DBClusters"]
    }
    return {
        "ec2_instances": instances,
        "lambda_functions": functions,
        "rds_db_instances": dbs,
        "rds_db_clusters": clusters,
    }


def verify_seed(owner: Side, requestor: Side, inventory: Mapping[str, Any]) -> None:
    """The owner sees every seeded resource; the requestor sees none of them."""
    problems: list[str] = []
    owner_buckets = _ids(owner.client("s3").list_buckets()["Buckets"], "Name")
    requestor_buckets = _ids(requestor.client("s3").list_buckets()["Buckets"], "Name")
    for region, kinds in inventory["regions"].items():
        seeded = {
            "ec2_instances": {e["instance_id"] for e in kinds["ec2_instances"]},
            "lambda_functions": {e["name"] for e in kinds["lambda_functions"]},
            "rds_db_instances": {e["name"] for e in kinds["rds_db_instances"]},
            "rds_db_clusters": {e["name"] for e in kinds["rds_db_clusters"]},
        }
        owner_view = account_view(owner, region)
        requestor_view = account_view(requestor, region)
        for kind, names in seeded.items():
            if missing := names - owner_view[kind]:
                problems.append(f"owner misses {kind} {sorted(missing)} in {region}")
            if leaked := names & requestor_view[kind]:
                problems.append(f"requestor sees owner {kind} {sorted(leaked)} in {region}")
        names = {e["name"] for e in kinds["s3_buckets"]}
        if missing := names - owner_buckets:
            problems.append(f"owner misses buckets {sorted(missing)}")
        if leaked := names & requestor_buckets:
            problems.append(f"requestor lists owner buckets {sorted(leaked)}")
    if problems:
        raise StackError("seeded resources are not where they belong: " + "; ".join(problems))


# --------------------------------------------------------------------------------------
# Env files for the functions
# --------------------------------------------------------------------------------------


# The CloudFormation stack name the local functions act as (XACCT_STACK_NAME).
LOCAL_STACK_NAME = "xacct-local"


def env_file_path(side: str) -> Path:
    return LOCAL_DIR / f"{side}.env"


def function_environment(side: Side, settings: Settings) -> dict[str, str]:
    """Every variable a function may read. PERMISSIONS_BOUNDARY_ARN is left unset on
    purpose (unset means no boundary); an empty value would be a malformed ARN."""
    env = {
        "AWS_ACCESS_KEY_ID": side.credentials.access_key_id,
        "AWS_SECRET_ACCESS_KEY": side.credentials.secret_access_key,
        "AWS_SESSION_TOKEN": side.credentials.session_token,
        "AWS_REGION": HOME_REGION,
        "AWS_DEFAULT_REGION": HOME_REGION,
        "AWS_ENDPOINT_URL": settings.functions_endpoint,
        "AWS_EC2_METADATA_DISABLED": "true",
        **aws_config_files(),
        "NO_PROXY": _no_proxy_value(None),
        "no_proxy": _no_proxy_value(None),
        "RUST_LOG": settings.rust_log,
        "XACCT_SIDE": side.name,
        # As template.yaml sets it: the functions never grant the deployment's own
        # resources, named after the stack.
        "XACCT_STACK_NAME": LOCAL_STACK_NAME,
    }
    return env


def write_env_file(path: Path, env: Mapping[str, str]) -> None:
    """`KEY="value"` lines, as cargo lambda's --env-file needs for values with `=`."""
    lines = []
    for name, value in env.items():
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name) or re.search(r'["\\\n\r]', value):
            raise StackError(f"cannot write `{name}` to an env file: unsupported characters")
        lines.append(f'{name}="{value}"\n')
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.writelines(lines)
    os.replace(tmp, path)


# --------------------------------------------------------------------------------------
# Stack steps
# --------------------------------------------------------------------------------------


def venv_tool(name: str) -> Path:
    return Path(sys.executable).parent / name


def start_moto(settings: Settings, env: Mapping[str, str]) -> ProcessRecord:
    tool = venv_tool("moto_server")
    argv = [str(tool)] if tool.exists() else [sys.executable, "-m", "moto.server"]
    record = spawn("moto", [*argv, "-H", LOOPBACK, "-p", str(settings.moto_port)], env)
    deadline = time.monotonic() + MOTO_READY_SECONDS
    while not is_moto(settings.moto_url):
        if not record_running(record):
            raise StackError(f"moto exited at start; {record.log}:\n{log_tail(record.log)}")
        if time.monotonic() > deadline:
            stop_process(record)
            raise StackError(
                f"moto did not answer within {MOTO_READY_SECONDS:.0f} s:\n{log_tail(record.log)}"
            )
        time.sleep(0.2)
    return record


def start_fault_proxy(settings: Settings, env: Mapping[str, str]) -> ProcessRecord:
    """tests/faultproxy.py in front of moto; ready once moto answers through it."""
    if port_answers(settings.proxy_port):
        raise StackError(f"port {settings.proxy_port} is busy; set XACCT_PROXY_PORT")
    argv = [
        sys.executable,
        str(FAULT_PROXY_SCRIPT),
        "--port",
        str(settings.proxy_port),
        "--target",
        settings.moto_url,
    ]
    record = spawn(FAULT_PROXY_NAME, argv, env)
    deadline = time.monotonic() + PROXY_READY_SECONDS
    while not is_moto(settings.proxy_url):
        if not record_running(record):
            raise StackError(
                f"the fault proxy exited at start; {record.log}:\n{log_tail(record.log)}"
            )
        if time.monotonic() > deadline:
            stop_process(record)
            raise StackError(
                f"moto did not answer through the fault proxy at {settings.proxy_url} within "
                f"{PROXY_READY_SECONDS:.0f} s:\n{log_tail(record.log)}"
            )
        time.sleep(0.2)
    return record


def record_process(stack: dict[str, Any], record: ProcessRecord) -> None:
    stack["processes"][record.name] = record.to_json()
    stack["pids"][record.name] = record.pid


# People on the requestor side, for grants to humans (`group_name` / `user_name`).
REQUESTOR_GROUP = "xacct-demo-analysts"
REQUESTOR_USER = "xacct-demo-alice"


def seed_requestor_people(requestor: Side) -> dict[str, str]:
    """An IAM group with one user in the requestor account (idempotent)."""
    iam = requestor.client("iam")
    for call, kwargs in (
        (iam.create_group, {"GroupName": REQUESTOR_GROUP}),
        (iam.create_user, {"UserName": REQUESTOR_USER}),
    ):
        try:
            call(**kwargs)
        except botocore.exceptions.ClientError as error:
            if _error_code(error) != "EntityAlreadyExists":
                raise
    iam.add_user_to_group(GroupName=REQUESTOR_GROUP, UserName=REQUESTOR_USER)
    return {"group_name": REQUESTOR_GROUP, "user_name": REQUESTOR_USER}


def prepare_accounts(settings: Settings) -> tuple[dict[str, Side], dict[str, Any]]:
    """Assumes both roles, seeds the owner, checks isolation and writes the env files."""
    sides = {name: assume_side(name, settings.moto_url) for name in SIDE_ACCOUNTS}
    inventory = OwnerSeeder(sides["owner"]).run()
    inventory["requestor_people"] = seed_requestor_people(sides["requestor"])
    verify_seed(sides["owner"], sides["requestor"], inventory)
    for name, side in sides.items():
        write_env_file(env_file_path(name), function_environment(side, settings))
    return sides, inventory


def cargo_lambda_path() -> Path:
    """XACCT_CARGO_LAMBDA if set (another install, or a stand-in in tests), else the venv's."""
    override = os.environ.get("XACCT_CARGO_LAMBDA", "").strip()
    tool = Path(override) if override else venv_tool("cargo-lambda")
    if not tool.is_file() or not os.access(tool, os.X_OK):
        raise StackError(f"{tool} is not an executable; run `make venv`")
    return tool


def start_function_server(
    side: str, settings: Settings, base_env: Mapping[str, str]
) -> ProcessRecord:
    """`cargo lambda watch` for one side, from the repository root (the workspace)."""
    env = dict(base_env)
    # cargo-lambda runs `cargo` from PATH; the venv's bin also has the zig it may want.
    env["PATH"] = f"{venv_tool('cargo-lambda').parent}{os.pathsep}{env.get('PATH', '')}"
    env["CARGO_TARGET_DIR"] = str(settings.target_dir)  # its --target-dir is broken in 1.9.2
    env["CARGO_TERM_COLOR"] = "never"
    if shutil.which("cargo", path=env["PATH"]) is None:
        raise StackError("`cargo` is not on PATH; cargo lambda needs it to build the functions")
    argv = [
        str(cargo_lambda_path()),
        "lambda",
        "watch",
        "--invoke-address",
        LOOPBACK,  # the default `::` listens on every interface
        "--invoke-port",
        str(settings.side_port(side)),
        "--env-file",
        str(env_file_path(side)),
        "--concurrency",
        "8",  # the default, 1, runs one request per function at a time
        "--disable-cors",  # else it answers OPTIONS itself, unlike a Function URL
        "--timeout",
        str(settings.invoke_timeout),
        "--color",
        "never",
    ]
    if not settings.reload:
        # Tests: a file written in the work tree (a screenshot, a test's edit) must not
        # restart every function mid-run.
        argv.append("--ignore-changes")
    return spawn(side, argv, env)


def is_missing_function_answer(status: int, body: bytes) -> bool:
    """cargo lambda's own 404 for a binary the workspace does not have."""
    if status != 404:
        return False
    try:
        return json.loads(body).get("title") == "Missing function"
    except (ValueError, AttributeError):
        return False


class LogWatcher:
    """Reads a log as it grows and spots a compile failure in the new part."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.offset = 0
        self.partial = ""

    def compile_failed(self) -> bool:
        try:
            with open(self.path, "rb") as f:
                f.seek(self.offset)
                chunk = f.read()
        except OSError:
            return False
        self.offset += len(chunk)
        text = self.partial + ANSI_ESCAPE.sub("", chunk.decode("utf-8", errors="replace"))
        complete, _, self.partial = text.rpartition("\n")
        return bool(COMPILE_FAILURE.search(complete))


class BackgroundRequest:
    """One GET in a daemon thread, so the caller can watch the servers meanwhile: the
    first request to a function blocks for the whole build."""

    def __init__(self, url: str, timeout: float) -> None:
        self.done = threading.Event()
        self.status: int | None = None
        self.body = b""
        self.error: OSError | None = None
        threading.Thread(target=self._run, args=(url, timeout), daemon=True).start()

    def _run(self, url: str, timeout: float) -> None:
        try:
            self.status, self.body = http_request("GET", url, timeout=timeout)
        except OSError as error:
            self.error = error
        finally:
            self.done.set()


def wait_for_function(
    name: str,
    url: str,
    deadline: float,
    settings: Settings,
    watched: list[ProcessRecord],
    server_log: LogWatcher,
) -> int:
    """Polls `url` until the function itself answers; returns the status it answered.

    A function is up when it answers anything but cargo lambda's 404 (missing binary),
    408 (its --timeout ran out, typically while compiling) or a 5xx. Fails fast, even
    while a request waits, when a watched process exits or the log shows a failed build.
    """
    delay = 0.5
    server_errors = 0
    last = "no answer yet"
    next_note = time.monotonic() + 30

    def check() -> None:
        nonlocal next_note
        for record in watched:
            if not record_running(record):
                raise StackError(
                    f"{record.name} exited while waiting for {name}; "
                    f"{record.log}:\n{log_tail(record.log)}"
                )
        if server_log.compile_failed():
            raise StackError(
                f"the workspace does not compile; {server_log.path}:\n{log_tail(server_log.path)}"
            )
        now = time.monotonic()
        if now >= deadline:
            raise StackError(
                f"{name} did not answer within XACCT_STACK_TIMEOUT={settings.stack_timeout} s "
                f"(last: {last}); {server_log.path}:\n{log_tail(server_log.path)}"
            )
        if now >= next_note:
            log(
                f"still waiting for {name} ({last}; the first request builds it; "
                f"{int(deadline - now)} s left)"
            )
            next_note = now + 30

    while True:
        check()
        request = BackgroundRequest(
            url, timeout=min(deadline - time.monotonic(), settings.invoke_timeout + 15)
        )
        while not request.done.wait(0.5):
            check()
        if request.status is None:
            last = f"no answer ({request.error})"
            server_errors = 0
        else:
            status, body = request.status, request.body
            last = f"HTTP {status}"
            if is_missing_function_answer(status, body):
                raise StackError(
                    f"cargo lambda serves no function `{name}`: "
                    f"{body[:300].decode(errors='replace')}"
                )
            if status == 408:
                server_errors = 0  # cargo lambda's --timeout expired: still building
            elif status >= 500:
                server_errors += 1
                if server_errors >= MAX_SERVER_ERRORS:
                    raise StackError(
                        f"{name} answered HTTP {status} {server_errors} times: "
                        f"{body[:300].decode(errors='replace')}\n"
                        f"{server_log.path}:\n{log_tail(server_log.path)}"
                    )
            else:
                return status
        pause_until = time.monotonic() + delay
        while time.monotonic() < pause_until:
            check()
            time.sleep(min(0.5, max(0.0, pause_until - time.monotonic())))
        delay = min(delay * 2, 10.0)


def start_and_check_functions(
    settings: Settings, base_env: Mapping[str, str], stack: dict[str, Any]
) -> None:
    """Starts both function servers, then checks every endpoint, one at a time (the
    first request compiles, and two servers building at once only fight for the lock)."""
    records = {}
    for side in SIDE_FUNCTIONS:
        if port_answers(settings.side_port(side)):
            raise StackError(
                f"port {settings.side_port(side)} is busy; set XACCT_{side.upper()}_PORT"
            )
        records[side] = start_function_server(side, settings, base_env)
        stack["processes"][side] = records[side].to_json()
        stack["pids"][side] = records[side].pid
    save_stack(stack)
    watched = [ProcessRecord.from_json(name, data) for name, data in stack["processes"].items()]
    logs = {side: LogWatcher(record.log) for side, record in records.items()}
    deadline = time.monotonic() + settings.stack_timeout
    for side, names in SIDE_FUNCTIONS.items():
        for name in names:
            url = function_url(settings.side_url_base(side), name)
            log(f"waiting for {name} at {url}")
            status = wait_for_function(name, url, deadline, settings, watched, logs[side])
            log(f"{name} answers (HTTP {status} to a bare GET)")


def new_stack(settings: Settings, mode: str) -> dict[str, Any]:
    """The stack file's content before anything started; filled in as things start."""
    bases = {
        side: settings.side_url_base(side) if settings.functions_enabled else None
        for side in SIDE_FUNCTIONS
    }
    functions = {
        name: function_url(base, name)
        for side, base in bases.items()
        if base is not None
        for name in SIDE_FUNCTIONS[side]
    }
    stack: dict[str, Any] = {
        "version": STACK_FILE_VERSION,
        "state": "starting",
        "mode": mode,
        "functions_enabled": settings.functions_enabled,
        "moto_url": settings.moto_url,
        "moto_managed": True,
        "ports": {
            "moto": settings.moto_port,
            "owner": settings.owner_port,
            "requestor": settings.requestor_port,
        },
        "region": HOME_REGION,
        "regions": list(SEED_REGIONS),
        "owner_account": OWNER_ACCOUNT,
        "requestor_account": REQUESTOR_ACCOUNT,
        "stack_name": LOCAL_STACK_NAME,
        "owner_url_base": bases["owner"],
        "requestor_url_base": bases["requestor"],
        "functions": functions,
        "env_files": {side: str(env_file_path(side)) for side in SIDE_ACCOUNTS},
        "credentials": {},
        "pids": {},
        "processes": {},
        "seed": {},
    }
    if settings.fault_proxy:  # absent otherwise: the stack is then as it always was
        stack["fault_proxy_url"] = settings.proxy_url
        stack["ports"]["proxy"] = settings.proxy_port
    return stack


def record_accounts(
    stack: dict[str, Any], sides: Mapping[str, Side], inventory: dict[str, Any]
) -> None:
    stack["credentials"] = {
        name: {"account": side.account, "role_arn": side.role_arn, **side.credentials.to_json()}
        for name, side in sides.items()
    }
    stack["seed"] = inventory


def print_summary(stack: Mapping[str, Any]) -> None:
    env_files = stack["env_files"]
    rows = [
        ("moto", stack["moto_url"]),
        *(
            [("fault proxy", f"{stack['fault_proxy_url']}  (the functions' AWS endpoint)")]
            if stack.get("fault_proxy_url")
            else []
        ),
        ("owner account", f"{stack['owner_account']}  (env: {env_files['owner']})"),
        ("requestor account", f"{stack['requestor_account']}  (env: {env_files['requestor']})"),
        *stack["functions"].items(),
        ("stack file", str(STACK_FILE)),
        ("logs", f"{LOG_DIR}/"),
    ]
    lines = ["", "xacct local stack is up", *(f"  {k:<27} {v}" for k, v in rows), ""]
    if stack["functions_enabled"]:
        lines.append(
            "Use the owner port for the owner functions and the requestor port for "
            "create-requestor-resources."
        )
        lines.append("For the CLI and the end-to-end tests:")
        lines.append(
            f"  export XACCT_OWNER_URL={stack['owner_url_base']}"
            f" XACCT_REQUESTOR_URL={stack['requestor_url_base']}"
            f" XACCT_STACK_FILE={STACK_FILE}"
        )
    else:
        lines.append("Functions not started (XACCT_NO_FUNCTIONS). For the integration tests:")
        lines.append(f"  export XACCT_STACK_FILE={STACK_FILE}")
    print("\n".join(lines), flush=True)


# --------------------------------------------------------------------------------------
# Signals
# --------------------------------------------------------------------------------------


def _raise_interrupted(signum: int, _frame: object) -> NoReturn:
    raise Interrupted(signum)


def install_signal_handlers() -> None:
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _raise_interrupted)


def ignore_signals() -> None:
    """While stopping children a second Ctrl-C must not abandon them half-stopped."""
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, signal.SIG_IGN)


# --------------------------------------------------------------------------------------
# Commands
# --------------------------------------------------------------------------------------


def running_stack() -> dict[str, Any] | None:
    """The recorded stack if any of its processes still runs; a dead one is cleared."""
    stack = load_stack()
    if stack is None:
        return None
    if any(record_running(r) for r in stack_processes(stack)):
        return stack
    if not stack.get("moto_managed", True) and is_moto(stack["moto_url"]):
        return stack  # a reused moto, with no function servers of its own
    log(f"clearing {STACK_FILE} left by a stack that no longer runs")
    remove_generated_files()
    return None


def cmd_up(args: argparse.Namespace) -> int:
    settings = Settings.from_env(no_functions_flag=args.no_functions)
    mode = "foreground" if args.foreground else "background"
    install_signal_handlers()
    stack: dict[str, Any] | None = None
    try:
        with exclusive_lock():
            if (existing := running_stack()) is not None:
                raise StackError(
                    f"a local stack already runs (pids {existing.get('pids')}); "
                    "use `status`, `reset`, or `down` first"
                )
            base_env = clean_environment(os.environ)
            if settings.fault_proxy and port_answers(settings.proxy_port):
                raise StackError(f"port {settings.proxy_port} is busy; set XACCT_PROXY_PORT")
            if settings.functions_enabled:
                for side in SIDE_FUNCTIONS:
                    if port_answers(settings.side_port(side)):
                        port = settings.side_port(side)
                        raise StackError(f"port {port} is busy; set XACCT_{side.upper()}_PORT")
            stack = new_stack(settings, mode)
            if port_answers(settings.moto_port):
                if not is_moto(settings.moto_url):
                    raise StackError(
                        f"port {settings.moto_port} is busy with something that is not moto; "
                        "set XACCT_MOTO_PORT"
                    )
                if not args.reuse_moto:
                    raise StackError(
                        f"a moto server not started by this script answers at {settings.moto_url}; "
                        "stop it, set XACCT_MOTO_PORT, or pass --reuse-moto to reset and use it"
                    )
                log(f"reusing the moto server at {settings.moto_url}: resetting it")
                reset_moto(settings.moto_url)
                stack["moto_managed"] = False
            else:
                log(f"starting moto at {settings.moto_url}")
                moto = start_moto(settings, base_env)
                stack["processes"]["moto"] = moto.to_json()
                stack["pids"]["moto"] = moto.pid
            save_stack(stack)
            if settings.fault_proxy:
                log(f"starting the fault proxy at {settings.proxy_url}")
                record_process(stack, start_fault_proxy(settings, base_env))
                save_stack(stack)
            log("assuming roles, seeding the owner account, writing env files")
            sides, inventory = prepare_accounts(settings)
            record_accounts(stack, sides, inventory)
            save_stack(stack)
            if settings.functions_enabled:
                log(f"starting function servers (CARGO_TARGET_DIR={settings.target_dir})")
                start_and_check_functions(settings, base_env, stack)
            stack["state"] = "ready"
            save_stack(stack)
    except Exception as error:  # stop what started, then report as usual
        ignore_signals()
        if stack is not None:
            stop_stack(stack)
        if isinstance(error, Interrupted):
            log(f"interrupted ({error}); stopped what had started")
            return 128 + error.signum
        raise
    print_summary(stack)  # outside the try: a closed stdout must not stop a healthy stack
    if mode == "background":
        return 0
    return watch_foreground()


def watch_foreground() -> int:
    """Stays attached until a signal, `down` (the stack file goes away) or a process
    exiting on its own; follows the stack file, so `reset` can restart the servers."""
    log("running in the foreground; Ctrl-C stops the stack")
    try:
        while True:
            reap_children()
            stack = load_stack()
            if stack is None:
                log("the stack file is gone (`down` ran); exiting")
                return 0
            if stack.get("state") == "ready":
                dead = [r for r in stack_processes(stack) if not record_running(r)]
                if dead:
                    ignore_signals()
                    for record in dead:
                        log(f"{record.name} exited; {record.log}:\n{log_tail(record.log)}")
                    stop_stack(stack)
                    return 1
            time.sleep(1)
    except Interrupted as interrupted:
        ignore_signals()
        stack = load_stack()
        if stack is not None:
            stop_stack(stack)
        log("stopped")
        return (
            0 if interrupted.signum in (signal.SIGINT, signal.SIGTERM) else 128 + interrupted.signum
        )


def cmd_down(_args: argparse.Namespace) -> int:
    ignore_signals()
    stack = load_stack()
    if stack is None:
        log("no local stack recorded; nothing to stop")
        remove_generated_files()
        return 0
    stack["state"] = "stopping"  # a foreground `up` then leaves the stopping to us
    save_stack(stack)
    stop_stack(stack)
    log("local stack stopped")
    return 0


def cmd_status(_args: argparse.Namespace) -> int:
    stack = load_stack()
    if stack is None:
        print("no local stack recorded")
        return 3
    healthy = True
    print(f"stack file   {STACK_FILE}  (state: {stack.get('state')}, mode: {stack.get('mode')})")
    moto_ok = is_moto(stack["moto_url"])
    healthy &= moto_ok
    managed = "" if stack.get("moto_managed", True) else " (reused, not started here)"
    print(
        f"moto api     {stack['moto_url']}  {'answers' if moto_ok else 'DOES NOT ANSWER'}{managed}"
    )
    if proxy_url := stack.get("fault_proxy_url"):
        proxy_ok = is_moto(proxy_url)
        healthy &= proxy_ok
        print(f"fault proxy  {proxy_url}  {'forwards to moto' if proxy_ok else 'DOES NOT FORWARD'}")
    for record in stack_processes(stack):
        alive = record_running(record)
        healthy &= alive
        state = "running" if alive else "NOT RUNNING"
        print(f"{record.name:<12} pid {record.pid:<8} {state}  log {record.log}")
    for name, url in stack.get("functions", {}).items():
        listening = port_answers(urllib.parse.urlsplit(url).port or 80)
        healthy &= listening
        print(f"{name:<27} {url}  {'port open' if listening else 'PORT CLOSED'}")
    return 0 if healthy else 1


def cmd_reset(_args: argparse.Namespace) -> int:
    install_signal_handlers()
    stack = running_stack()
    if stack is None:
        raise StackError("no local stack runs; start one with `up`")
    # Ports and mode are the running stack's, whatever the environment says now.
    ports = stack["ports"]
    settings = dataclasses.replace(
        Settings.from_env(no_functions_flag=not stack.get("functions_enabled", True)),
        moto_port=ports["moto"],
        owner_port=ports["owner"],
        requestor_port=ports["requestor"],
        fault_proxy="fault_proxy_url" in stack,
        proxy_port=ports.get("proxy", 5001),
    )
    try:
        with exclusive_lock():
            stack["state"] = "resetting"  # a foreground `up` ignores restarts meanwhile
            save_stack(stack)
            log(f"resetting moto at {stack['moto_url']}")
            reset_moto(stack["moto_url"])
            if settings.fault_proxy:  # a fresh proxy: no rules, no counts
                for record in stack_processes(stack):
                    if record.name == FAULT_PROXY_NAME:
                        stop_process(record)
                        stack["processes"].pop(record.name)
                        stack["pids"].pop(record.name, None)
                save_stack(stack)
                log(f"restarting the fault proxy at {settings.proxy_url}")
                record_process(stack, start_fault_proxy(settings, clean_environment(os.environ)))
                save_stack(stack)
            sides, inventory = prepare_accounts(settings)
            record_accounts(stack, sides, inventory)
            save_stack(stack)
            if stack.get("functions_enabled"):
                # New credentials reach a function only through a new server.
                for record in stack_processes(stack):
                    if record.name in SIDE_FUNCTIONS:
                        stop_process(record)
                        stack["processes"].pop(record.name)
                        stack["pids"].pop(record.name, None)
                start_and_check_functions(settings, clean_environment(os.environ), stack)
            stack["state"] = "ready"
            save_stack(stack)
    except Exception as error:  # record the failure, then report as usual
        ignore_signals()
        stack["state"] = "failed"
        save_stack(stack)
        log("reset failed; the stack is left as it is: run `down`, then `up`")
        if isinstance(error, Interrupted):
            return 128 + error.signum
        raise
    print_summary(stack)
    return 0


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="localstack.py",
        description="Runs xacct's local stack: moto, demo resources and the function servers.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    up = commands.add_parser("up", help="start moto, seed it, start and health-check the functions")
    how = up.add_mutually_exclusive_group(required=True)
    how.add_argument(
        "--foreground", action="store_true", help="stay attached; Ctrl-C stops everything"
    )
    how.add_argument(
        "--background", action="store_true", help="return once healthy; `down` stops it"
    )
    up.add_argument(
        "--no-functions",
        action="store_true",
        help="moto, seed and env files only (same as XACCT_NO_FUNCTIONS=1)",
    )
    up.add_argument(
        "--reuse-moto",
        action="store_true",
        help="reset and use a moto already answering on the port (`down` leaves it running)",
    )
    up.set_defaults(run=cmd_up)
    commands.add_parser("down", help="stop everything the stack file records").set_defaults(
        run=cmd_down
    )
    commands.add_parser(
        "status", help="show what runs (exit 0 healthy, 1 degraded, 3 none)"
    ).set_defaults(run=cmd_status)
    commands.add_parser(
        "reset", help="reset moto, re-seed, new credentials, restart the functions"
    ).set_defaults(run=cmd_reset)
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    run: Callable[[argparse.Namespace], int] = args.run
    try:
        isolate_this_process()
        return run(args)
    except StackError as error:
        log(f"error: {error}")
        return 1
    except BrokenPipeError:  # `status | head`: the reader left, nothing to report
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
