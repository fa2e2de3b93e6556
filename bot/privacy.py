"""Personal data kept out of logs and away from other users of the machine.

Logs: an officer's answers, name, phone number, invite code and the bot tokens never reach a
log line, not even when something fails. SQLAlchemy engines hide their parameters
(storage/database.py); on top of that, `RedactValues` rewrites every record its handlers see,
whoever wrote it (our code, aiogram, aiohttp, asyncpg): the secrets are replaced, quoted values,
PostgreSQL's "Key (…)=(…)" and "DETAIL:" lines, SQL parameters and long digit runs (phone
numbers) are masked, and an exception is shown as its traceback (code lines, which hold no data)
with, for each exception in the chain, its type and only the first line of its message, and that
only from libraries whose messages name no user data unquoted (the database drivers, the HTTP
stack, the operating system); any other exception (a pydantic error quoting an update, our own
errors) is shown by its type alone.

Files: the process creates what it writes owner-only (umask 077), and files we create are
chmod 0600 (folders 0700) explicitly, whatever the umask was.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import sys
import traceback
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType
from typing import Any

FILE_MODE = 0o600
FOLDER_MODE = 0o700
MASK = "…"

# Modules whose exception messages describe what failed, not what was being written: kept
# (first line, masked). Anything else is shown by its type alone.
_SPEAKING_MODULES = ("sqlite3", "asyncpg", "aiosqlite", "sqlalchemy", "aiohttp", "asyncio", "ssl",
                     "socket", "aiogram", "concurrent", "alembic")
_SPEAKING_BUILTINS = (OSError, TimeoutError, MemoryError, RecursionError)
_QUOTED = re.compile(r"""'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*"|“[^”\n]*”""")
# A quoted SQL name (a table, column or constraint: lower case, with "_" or "."), kept.
_IDENTIFIER = re.compile(r"""^['"][a-z][a-z0-9]*(?:[_.][a-z0-9]+)+['"]$""")
_KEY_VALUE = re.compile(r"=\([^)\n]*\)")
_DIGITS = re.compile(r"(?<![\w.])\+?\d(?:[ .-]?\d){8,}(?!\w)")
_VALUE_LINES = re.compile(r"^\s*(?:DETAIL|HINT|\[parameters|\[SQL parameters|Failing row).*$\n?",
                          re.MULTILINE)


def mask_values(text: str, secrets: Iterable[str] = ()) -> str:
    """`text` without the secrets, quoted values, key values, value lines and digit runs."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "<token>")
    text = _VALUE_LINES.sub("", text)
    text = _QUOTED.sub(lambda m: m.group(0) if _IDENTIFIER.match(m.group(0)) else f"'{MASK}'", text)
    text = _KEY_VALUE.sub(f"=({MASK})", text)
    return _DIGITS.sub(MASK, text)


def _speaks_safely(error: BaseException) -> bool:
    module = type(error).__module__ or ""
    if module == "builtins":
        return isinstance(error, _SPEAKING_BUILTINS)
    return module.split(".")[0] in _SPEAKING_MODULES


def safe_message(error: BaseException, secrets: Iterable[str] = ()) -> str:
    """What may be said of an exception: the first line of its message, masked, if it comes
    from a library that names no user data unquoted; "" otherwise. A SQLAlchemy error is said
    through the driver's error it wraps (its statement and parameters are left out)."""
    orig = getattr(error, "orig", None)
    if isinstance(orig, BaseException) and type(error).__module__.startswith("sqlalchemy"):
        inner = safe_message(orig, secrets)
        name = f"{type(orig).__module__}.{type(orig).__qualname__}"
        return f"({name}) {inner}".rstrip()
    errors = getattr(error, "errors", None)
    if type(error).__module__.startswith("pydantic") and callable(errors):
        # Which fields were refused and why, never the values given (include_input=False).
        try:
            found = errors(include_input=False, include_url=False)
            return mask_values("; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in found),
                               secrets)
        except Exception:
            return ""
    if not _speaks_safely(error):
        return ""
    try:
        text = str(error)
    except Exception:
        return ""
    lines = text.splitlines()
    return mask_values(lines[0] if lines else "", secrets)


def safe_reason(error: BaseException) -> str:
    """One line for a database column (why an event was set aside): type and safe message."""
    message = safe_message(error)
    return f"{type(error).__name__}: {message}" if message else type(error).__name__


def format_exception(error: BaseException, secrets: Iterable[str] = ()) -> str:
    """A traceback whose exceptions (the whole chain) say only their safe message."""
    secrets = list(secrets)
    seen: set[int] = set()

    def scrub(te: traceback.TracebackException, exc: BaseException | None) -> None:
        if id(te) in seen:
            return
        seen.add(id(te))
        if exc is not None:
            message = safe_message(exc, secrets)
            te._str = message  # type: ignore[attr-defined]  # the message the traceback prints
        te.__notes__ = None
        if getattr(te, "text", None) is not None:  # a SyntaxError's line: it may be data
            te.text = None  # type: ignore[assignment]
        if te.__cause__ is not None:
            scrub(te.__cause__, exc.__cause__ if exc is not None else None)
        if te.__context__ is not None:
            scrub(te.__context__, exc.__context__ if exc is not None else None)
        for child, child_exc in zip(te.exceptions or [], getattr(exc, "exceptions", []) or [],
                                    strict=False):
            scrub(child, child_exc)

    te = traceback.TracebackException.from_exception(error, capture_locals=False)
    scrub(te, error)
    text = "".join(te.format()).rstrip("\n")
    # The frames are lines of code (no data); the messages are scrubbed already.
    for secret in secrets:
        text = text.replace(secret, "<token>")
    return text


class RedactValues(logging.Filter):
    """Rewrites a record so that it carries no secret and no user data (see the module)."""

    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if s]

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "_kstthc_redacted", False):
            return True
        try:
            args: Any = record.args
            if isinstance(args, tuple):
                args = tuple(self._arg(a) for a in args)
            elif isinstance(args, dict):
                args = {k: self._arg(v) for k, v in args.items()}
            record.msg = mask_values(str(record.msg) % args if args else str(record.msg),
                                     self.secrets)
        except Exception:
            record.msg = mask_values(str(record.msg), self.secrets)
        record.args = ()
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = format_exception(record.exc_info[1], self.secrets)
            record.exc_info = None
        elif record.exc_text:
            record.exc_text = mask_values(record.exc_text, self.secrets)
        record._kstthc_redacted = True
        return True

    def _arg(self, value: Any) -> Any:
        if isinstance(value, BaseException):
            message = safe_message(value, self.secrets)
            return f"{message}" if message else type(value).__name__
        return value


def install_log_redaction(*secrets: str | None) -> RedactValues:
    """Put the filter on every handler of the root logger (call after they are set up)."""
    redaction = RedactValues(secrets)
    for handler in logging.getLogger().handlers:
        handler.addFilter(redaction)
    return redaction


def _excepthook(kind: type[BaseException], error: BaseException, tb: TracebackType | None) -> None:
    if issubclass(kind, KeyboardInterrupt):
        sys.__excepthook__(kind, error, tb)
        return
    print(format_exception(error, _hook_secrets), file=sys.stderr)


_hook_secrets: list[str] = []
_command_filter = RedactValues()


def protect_process(*secrets: str | None) -> None:
    """At the start of every `kstthc-bot` command (again once the settings, and so the secrets,
    are read): files owner-only, warnings and errors logged through the filter, and an uncaught
    exception printed the same way (a setting refused at start included)."""
    os.umask(0o077)
    _hook_secrets[:] = _command_filter.secrets = [s for s in secrets if s]
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig(level=logging.WARNING,
                            format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for handler in root.handlers:
        if _command_filter not in handler.filters:
            handler.addFilter(_command_filter)
    sys.excepthook = _excepthook


def make_private(path: Path) -> None:
    """Owner-only: a file 0600, a folder 0700 (on systems that have modes)."""
    with contextlib.suppress(NotImplementedError, PermissionError):
        os.chmod(path, FOLDER_MODE if path.is_dir() else FILE_MODE)


def private_folder(path: Path) -> Path:
    """Create a folder (and its missing parents) owner-only; one that existed is left as it is."""
    missing = [p for p in (path, *path.parents) if not p.exists()]
    path.mkdir(parents=True, exist_ok=True)
    for created in missing:
        make_private(created)
    return path


def private_file(path: Path) -> Path:
    """Create the file owner-only if it is missing, and make it owner-only if it is there."""
    # An existing file is not opened: closing a descriptor would drop this process's POSIX locks
    # on it (SQLite's).
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE))
    make_private(path)
    return path


def write_private(path: Path, content: bytes) -> None:
    """Write a file owner-only (an older file of that name too)."""
    private_file(path)
    path.write_bytes(content)
    make_private(path)
