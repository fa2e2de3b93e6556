"""`kstthc-bot backup FILE` and `kstthc-bot restore FILE`.

SQLite: an online, consistent copy with SQLite's own backup API (the bot may go on writing; the
copy is the database as of one moment), made a single self-contained file, owner-only. Restore
checks the file, keeps the current database aside (`….before-restore-TIME`, owner-only) and
copies the backup in with the same API; it refuses to replace a database that holds data unless
told `--force`, as a `kstthc-bot run` still running would go on from its own view of the data.

PostgreSQL: pg_dump (custom format; one consistent snapshot while the bot runs) and pg_restore,
when the PostgreSQL client programs are installed; the password goes through the environment,
never the command line."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
from sqlalchemy.engine import URL, make_url

from bot.config import get_settings
from bot.privacy import make_private, private_file, private_folder
from engine.i18n import N_
from locales.translation import translator

# Pages copied per step of an online SQLite backup: between steps the bot's writers get in.
BACKUP_STEP_PAGES = 1024
# Tables every kstthc-bot database has: what tells a backup from any SQLite file.
REQUIRED_TABLES = ("alembic_version", "answers", "submissions", "officers")


def say(message: str, **params: Any) -> str:
    return translator(get_settings().locale).gettext(message).format(**params)


def fail(message: str, **params: Any) -> click.ClickException:
    return click.ClickException(say(message, **params))


def _database_url() -> URL:
    return make_url(get_settings().database_url)


def _sqlite_path(url: URL) -> Path:
    if not url.database or url.database == ":memory:":
        raise fail(N_("Cơ sở dữ liệu trong bộ nhớ không sao lưu được."))
    return Path(url.database).expanduser()


@click.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Overwrite FILE if it exists.")
def backup(file: Path, force: bool) -> None:
    """Save a consistent copy of the database in FILE, while the bot runs (owner-only file)."""
    url = _database_url()
    if file.exists() and not force:
        raise fail(N_("Tệp {file} đã có; chọn tên khác hoặc thêm --force để ghi đè."), file=file)
    if url.get_backend_name() == "postgresql":
        _pg_dump(url, file)
    else:
        source = _sqlite_path(url)
        if not source.exists():
            raise fail(N_("Không có cơ sở dữ liệu tại {path}."), path=source)
        file.unlink(missing_ok=True)
        _sqlite_copy(source, file)
        with sqlite3.connect(file) as copy:
            copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
        make_private(file)
    click.echo(say(N_("Đã sao lưu vào {file} ({size} byte); chỉ chủ sở hữu đọc được. Phục hồi bằng: "
                      "kstthc-bot restore {file}"), file=file, size=file.stat().st_size))


@click.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace a database that holds data (stop every "
              "`kstthc-bot run` first; the current database is kept aside).")
def restore(file: Path, force: bool) -> None:
    """Bring back a backup made by `kstthc-bot backup`."""
    url = _database_url()
    if url.get_backend_name() == "postgresql":
        _pg_restore(url, file, force)
        return
    target = _sqlite_path(url)
    _check_backup(file)
    kept: Path | None = None
    if target.exists() and _has_data(target):
        if not force:
            raise fail(N_("Cơ sở dữ liệu {path} đang có dữ liệu nên không bị ghi đè. An toàn là: dừng "
                          "mọi tiến trình kstthc-bot run, rồi chạy lại lệnh này với --force (cơ sở dữ "
                          "liệu hiện tại được giữ lại thành một tệp bên cạnh)."), path=target)
        kept = target.with_name(f"{target.name}.before-restore-{datetime.now(UTC):%Y%m%dT%H%M%SZ}")
        _sqlite_copy(target, kept)
        make_private(kept)
    _sqlite_copy(file, target)
    make_private(target)
    if kept is not None:
        click.echo(say(N_("Cơ sở dữ liệu trước khi phục hồi được giữ tại {path}."), path=kept))
    click.echo(say(N_("Đã phục hồi {file} vào {path}."), file=file, path=target))


def _sqlite_copy(source: Path, destination: Path) -> None:
    """SQLite's online backup: a consistent copy, the source's writers waiting only a step."""
    private_folder(destination.parent)
    private_file(destination)
    src, dst = sqlite3.connect(source, timeout=30), sqlite3.connect(destination, timeout=30)
    try:
        src.backup(dst, pages=BACKUP_STEP_PAGES)
    finally:
        src.close()
        dst.close()
    for suffix in ("-wal", "-shm"):
        sidecar = destination.with_name(destination.name + suffix)
        if sidecar.exists():
            make_private(sidecar)


def _check_backup(file: Path) -> None:
    try:
        with sqlite3.connect(f"file:{file}?mode=ro", uri=True) as backup_db:
            ok = backup_db.execute("PRAGMA quick_check").fetchone()[0] == "ok"
            tables = {row[0] for row in backup_db.execute("SELECT name FROM sqlite_master")}
        backup_db.close()
    except sqlite3.DatabaseError:
        ok, tables = False, set()
    if not ok or not set(REQUIRED_TABLES) <= tables:
        raise fail(N_("{file} không phải là bản sao lưu của kstthc-bot (hoặc đã hỏng); không phục "
                      "hồi."), file=file)


def _has_data(database: Path) -> bool:
    try:
        with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=30) as db:
            tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
            answers = db.execute("SELECT count(*) FROM answers").fetchone()[0] if "answers" in tables else 0
            units = db.execute("SELECT count(*) FROM units").fetchone()[0] if "units" in tables else 0
        db.close()
    except sqlite3.DatabaseError:
        return database.stat().st_size > 0
    return bool(answers or units)


# ----- PostgreSQL --------------------------------------------------------------------------------


def _pg_environment(url: URL) -> tuple[str, dict[str, str]]:
    """A libpq URL without the password, and the environment that carries it."""
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    plain = url.set(drivername="postgresql", password=None, query={})
    return plain.render_as_string(hide_password=False), env


def _pg_tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise fail(N_("Cơ sở dữ liệu là PostgreSQL: sao lưu, phục hồi dùng pg_dump và pg_restore, "
                      "nhưng máy này chưa cài {tool}. Cài gói postgresql-client cùng phiên bản với "
                      "máy chủ (ví dụ: apt install postgresql-client), hoặc chạy pg_dump -Fc ngay "
                      "trên máy chủ cơ sở dữ liệu."), tool=name)
    return found


def _pg_dump(url: URL, file: Path) -> None:
    tool = _pg_tool("pg_dump")
    target, env = _pg_environment(url)
    click.echo(say(N_("PostgreSQL: pg_dump chụp toàn bộ cơ sở dữ liệu tại một thời điểm, bot vẫn "
                      "chạy bình thường.")))
    private_file(file)
    result = subprocess.run([tool, "--format=custom", "--no-owner", f"--file={file}", target],
                            env=env, capture_output=True, text=True)
    make_private(file)
    if result.returncode != 0:
        file.unlink(missing_ok=True)
        raise fail(N_("pg_dump không thành công: {reason}"), reason=_first_line(result.stderr))


def _pg_restore(url: URL, file: Path, force: bool) -> None:
    tool = _pg_tool("pg_restore")
    target, env = _pg_environment(url)
    if not force:
        raise fail(N_("Phục hồi PostgreSQL thay thế toàn bộ dữ liệu hiện có. An toàn là: dừng mọi "
                      "tiến trình kstthc-bot run, sao lưu dữ liệu hiện tại (kstthc-bot backup), rồi "
                      "chạy lại lệnh này với --force."))
    result = subprocess.run([tool, "--clean", "--if-exists", "--no-owner", "--single-transaction",
                             f"--dbname={target}", str(file)], env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise fail(N_("pg_restore không thành công: {reason}"), reason=_first_line(result.stderr))
    click.echo(say(N_("Đã phục hồi {file} vào cơ sở dữ liệu PostgreSQL."), file=file))


def _first_line(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    return lines[0] if lines else "?"


def register(group: click.Group) -> None:
    group.add_command(backup)
    group.add_command(restore)
