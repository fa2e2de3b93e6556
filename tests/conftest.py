"""Shared fixtures: the real outline, and real databases (a SQLite file always; PostgreSQL
when KSTTHC_TEST_POSTGRES_URL is set, each test in a schema of its own).

The suite runs in parallel (pytest-xdist, `-n auto` in pyproject.toml): every test has its own
tmp_path, SQLite file, PostgreSQL schema or database, fake Bot API servers on port 0 and bot
processes, so tests on different workers share nothing but the PostgreSQL server. The slowest
tests (timed on the previous run, kept in pytest's cache) start first, so that no worker is left
with a long end-to-end test while the others are done; `-n 0` runs everything in one process.
That order interleaves modules on a worker, so a fixture that costs seconds (documents rendered
by LibreOffice, a bot started once) is session-scoped even where one module uses it: a
module-scoped one would be made again each time its module came back to the worker."""

from __future__ import annotations

import fcntl
import itertools
import json
import os
import pickle
import re
import secrets
import socket
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from sqlalchemy.ext.asyncio import create_async_engine

from engine.conversation import ReportEngine
from engine.outline import Outline, default_outline_path, load_outline
from storage.database import Database

POSTGRES_URL = os.environ.get("KSTTHC_TEST_POSTGRES_URL")
REPO = Path(__file__).resolve().parents[1]


# ----- running in parallel ---------------------------------------------------------------------

DURATIONS = "kstthc/durations"  # pytest cache key: seconds per test id, from the runs before
DURATIONS_FILE = "durations.json"  # the same, from one quiet run, for a checkout with no cache
SLOW = 1.0  # seconds: a test that takes longer is started before the quick ones
# A test not timed yet that starts the bot or a fake Bot API counts as this slow.
UNTIMED_END_TO_END = 5.0
END_TO_END = re.compile(r"running_bot|Popen|FakeTelegram\(|FakeZalo\(|\bcli\(")
# Workers per CPU for `-n auto`. The end-to-end tests wait part of the time (a retry_after, a
# drill's clock, a bot's replies), so a third worker on 2 cores fills those waits: 298 s against
# 325 s for the whole suite on 2026-12-04. It once made bots miss the tests' 15 s for a first
# reply, when a bot spent 4–6 s of CPU starting; it starts in about 1.6 s since the lazy imports.
WORKERS_PER_CPU = 1.5


IN_MEMORY = Path("/dev/shm")
IN_MEMORY_FREE = 1 << 30  # bytes free there, at least, to keep the suite's temporary files in it


def _temporary_files_in_memory() -> None:
    """tmp_path on /dev/shm (a tmpfs) when nobody chose a temporary folder: the tests' SQLite
    files keep synchronous=FULL, but a commit's fsync then costs nothing, where on a disk shared
    with other work it waited 1–10 ms, a thousand times per end-to-end test. Nothing a test checks
    depends on the data reaching a disk (a SIGKILL loses nothing the kernel holds either)."""
    if any(os.environ.get(name) for name in ("PYTEST_DEBUG_TEMPROOT", "TMPDIR", "TEMP", "TMP")):
        return
    try:
        free = os.statvfs(IN_MEMORY)
    except OSError:
        return
    if os.access(IN_MEMORY, os.W_OK | os.X_OK) and free.f_bavail * free.f_frsize >= IN_MEMORY_FREE:
        # Read by pytest where --basetemp is not given; xdist's workers get the controller's.
        os.environ["PYTEST_DEBUG_TEMPROOT"] = str(IN_MEMORY)


_temporary_files_in_memory()


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """`-n auto`: PYTEST_XDIST_AUTO_NUM_WORKERS if set, else WORKERS_PER_CPU per CPU."""
    wanted = os.environ.get("PYTEST_XDIST_AUTO_NUM_WORKERS", "")
    if wanted.isdigit():
        return int(wanted)
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return max(1, round(WORKERS_PER_CPU * cpus))


def _is_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


def _timed(config: pytest.Config) -> dict[str, float]:
    """The durations of the previous runs: handed by the controller to its workers, so that all
    collect the same order even if another run rewrites the cache meanwhile."""
    if _is_worker(config):
        return dict(config.workerinput.get("kstthc_durations", {}))  # type: ignore[attr-defined]
    if not hasattr(config, "_kstthc_timed"):
        cache = getattr(config, "cache", None)
        timed = cache.get(DURATIONS, {}) if cache is not None else {}
        if not timed or not isinstance(timed, dict):
            # A fresh checkout (CI) has no cache yet: the durations of a run kept in the tree.
            timed = json.loads((Path(__file__).with_name(DURATIONS_FILE)).read_text(encoding="utf-8"))
        config._kstthc_timed = timed if isinstance(timed, dict) else {}  # type: ignore[attr-defined]
    return config._kstthc_timed  # type: ignore[attr-defined,no-any-return]


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    node.workerinput["kstthc_durations"] = _timed(node.config)


_END_TO_END_MODULES: dict[str, bool] = {}


def _guess(item: pytest.Item) -> float:
    path = str(item.path)
    if path not in _END_TO_END_MODULES:
        try:
            _END_TO_END_MODULES[path] = bool(END_TO_END.search(item.path.read_text(errors="replace")))
        except OSError:
            _END_TO_END_MODULES[path] = False
    return UNTIMED_END_TO_END if _END_TO_END_MODULES[path] else 0.0


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The slow tests first, slowest first, each followed by a quick one; then the other quick
    ones in their usual order (which keeps a module's tests together, and its module-scoped
    fixtures made once).

    With `--maxschedchunk 1` an xdist worker holds the test it runs and the one it will run
    next, and is sent another when it finishes one. The quick test after each slow one is what
    waits behind it, so no slow test waits behind another while a worker is free."""
    timed = _timed(config)
    weight = {item.nodeid: float(timed.get(item.nodeid, _guess(item))) for item in items}
    slow = sorted((item for item in items if weight[item.nodeid] >= SLOW), key=lambda i: -weight[i.nodeid])
    quick = iter([item for item in items if weight[item.nodeid] < SLOW])
    ordered: list[pytest.Item] = []
    for item in slow:
        ordered.append(item)
        ordered.extend(itertools.islice(quick, 1))
    items[:] = [*ordered, *quick]


_took: dict[str, float] = {}


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    _took[report.nodeid] = _took.get(report.nodeid, 0.0) + report.duration


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Remember how long each test took (setup, call and teardown), for the next run's order. A
    quicker time lowers what is remembered only by a quarter: one quick run of a slow test (a
    local run with KSTTHC_TEST_RANDOM_UPDATES=200, say) does not send it to the back of the queue."""
    cache = getattr(session.config, "cache", None)
    if cache is None or _is_worker(session.config) or not _took:
        return
    durations = cache.get(DURATIONS, {})
    if not isinstance(durations, dict):
        durations = {}
    for nodeid, seconds in _took.items():
        before = durations.get(nodeid)
        if isinstance(before, (int, float)):
            seconds = max(seconds, 0.75 * before)
        durations[nodeid] = round(seconds, 2)
    cache.set(DURATIONS, durations)


def _worker_number() -> int:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    return int(worker[2:]) if worker[2:].isdigit() else 0


def _worker_ports(first: int = 20_000, per_worker: int = 400) -> Iterator[int]:
    """This worker's slice of the ports below the ephemeral range (32768 up), each once, from a
    random place in it (another run of the suite at the same time starts elsewhere)."""
    start = first + per_worker * (_worker_number() % 30)
    offset = secrets.randbelow(per_worker)
    return iter([*range(start + offset, start + per_worker), *range(start, start + offset)])


_next_ports = _worker_ports()


def _free_port() -> int:
    """A port for a server a test starts on a fixed address (a webhook): from this worker's own
    range below the ephemeral ports, so that neither another worker nor an outgoing connection
    takes it between the test choosing it and the bot listening on it."""
    for port in _next_ports:
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    with socket.socket() as probe:  # this worker's range used up: any free port
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


T = TypeVar("T")


def made_once(tmp_path_factory: pytest.TempPathFactory, name: str, make: Callable[[], T]) -> T:
    """What `make()` returns, made by the first worker that asks and read back by the others: a
    session fixture that costs seconds of CPU (documents made by the CLI and rendered by
    LibreOffice, a fresh interpreter's imports) is otherwise made again on every worker that
    runs one of its tests. The others wait for it meanwhile, which costs less on a busy machine
    than making it again. Only for what its tests read, never change."""
    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent  # the run's folder, shared by its workers (each has its own below)
    made = root / f"{name}.pickle"
    with (root / f"{name}.lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if made.exists():
            value: T = pickle.loads(made.read_bytes())
            return value
        value = make()
        partial = made.with_suffix(".partial")
        partial.write_bytes(pickle.dumps(value))
        partial.replace(made)
        return value


@pytest.fixture
def unused_tcp_port() -> int:
    """pytest-asyncio's fixture, with the port taken from this worker's own range."""
    return _free_port()


@pytest.fixture(scope="session")
def outline() -> Outline:
    return load_outline(default_outline_path())


@pytest.fixture(scope="session")
def engine(outline: Outline) -> ReportEngine:
    return ReportEngine(outline)


def sqlite_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


@pytest.fixture(params=["sqlite", "postgresql"])
async def database_url(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[tuple[str, str | None]]:
    """(url, schema) of an empty database of each kind the machine has."""
    if request.param == "sqlite":
        yield sqlite_url(tmp_path / "kstthc.sqlite3"), None
        return
    if not POSTGRES_URL:
        pytest.skip("KSTTHC_TEST_POSTGRES_URL is not set")
    schema = "t_" + secrets.token_hex(6)
    admin = create_async_engine(POSTGRES_URL)
    async with admin.begin() as connection:
        await connection.exec_driver_sql(f"CREATE SCHEMA {schema}")
    try:
        yield POSTGRES_URL, schema
    finally:
        async with admin.begin() as connection:
            await connection.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        await admin.dispose()


@pytest.fixture
async def unmigrated_db(database_url: tuple[str, str | None]) -> AsyncIterator[Database]:
    """An empty database of each kind the machine has, no schema made yet (a migration's test)."""
    url, schema = database_url
    database = Database(url, schema=schema)
    try:
        yield database
    finally:
        await database.close()


@pytest.fixture
async def db(unmigrated_db: Database) -> Database:
    """A migrated, empty database of each kind the machine has (a test module may define its
    own `db`: seeded, say)."""
    await unmigrated_db.upgrade()
    return unmigrated_db
