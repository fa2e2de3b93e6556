"""The attachment file store: each file under its SHA-256 in a folder of the data folder,
owner-only (files 0600, folders 0700), written whole or not at all (a temporary file, fsync,
rename, fsync of the folder) so that a row naming a file is only ever committed once the
file is on disk. Content-addressed: the same bytes sent twice are stored once."""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import tempfile
from pathlib import Path

FILE_MODE = 0o600
FOLDER_MODE = 0o700
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


class StoredFileMissing(Exception):
    """The file a row names is not in the store, or its bytes no longer match their checksum."""


def sha256_of(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


class FileStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def path_for(self, sha256: str) -> Path:
        if not _SHA256.match(sha256):
            raise ValueError("not a SHA-256 in hex")
        return self.root / sha256[:2] / sha256

    def put(self, content: bytes) -> str:
        """Store the bytes (durably, before returning); their SHA-256."""
        digest = sha256_of(content)
        target = self.path_for(digest)
        if target.exists() and target.stat().st_size == len(content):
            return digest  # the same bytes are there already
        folder = self._folder(target.parent)
        # A name of its own (mkstemp: created 0600, never shared), so that two writers of the
        # same bytes, threads or processes, each rename a whole file of their own.
        descriptor, name = tempfile.mkstemp(prefix=f".{digest[:16]}.", suffix=".tmp", dir=folder)
        temporary = Path(name)
        try:
            with os.fdopen(descriptor, "wb") as stream:
                stream.write(content)
                stream.flush()
                os.fsync(stream.fileno())
            os.chmod(temporary, FILE_MODE)  # whatever the umask made of the mode above
            os.replace(temporary, target)  # two processes storing the same bytes: either wins
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                temporary.unlink()
            raise
        _fsync_folder(folder)
        return digest

    def read(self, sha256: str) -> bytes:
        """The stored bytes, checked against their checksum."""
        try:
            content = self.path_for(sha256).read_bytes()
        except FileNotFoundError as missing:
            raise StoredFileMissing(sha256) from missing
        if sha256_of(content) != sha256:
            raise StoredFileMissing(sha256)
        return content

    def _folder(self, folder: Path) -> Path:
        """The folder, created owner-only with any missing parent (an existing one is left be)."""
        missing = [path for path in (folder, *folder.parents) if not path.exists()]
        for path in reversed(missing):
            with contextlib.suppress(FileExistsError):  # another process made it meanwhile
                path.mkdir(mode=FOLDER_MODE)
                os.chmod(path, FOLDER_MODE)
            _fsync_folder(path.parent)
        return folder


def _fsync_folder(folder: Path) -> None:
    """The rename (or a new entry) itself made durable: without it a power cut may lose it."""
    with contextlib.suppress(OSError):  # a file system that cannot fsync a folder
        descriptor = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
