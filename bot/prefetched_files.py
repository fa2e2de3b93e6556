"""Files fetched before their event's transaction opens. A download (up to 20 MB, up to a minute
on a poor network) inside the transaction would hold the chat's lock, and on SQLite the one
write lock, so every other chat would wait for it. The inbox worker therefore fetches a file
first into the content-addressed store and remembers, here, which platform file gave which
checksum; the handler, inside the transaction, reads it back from the store (checked against
the checksum). This memory only saves the download: when it has nothing (another process
prefetched, a restart, a file gone from the store), the handler downloads as before."""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from handlers.attachments import Attached, Incoming
from handlers.file_kinds import sniff
from storage.files import FileStore, StoredFileMissing

log = logging.getLogger(__name__)
Fetch = Callable[[], Awaitable[Incoming | Attached]]
REMEMBERED = 64  # files: far more than the workers take in hand at once


@dataclass(frozen=True)
class _Fetched:
    sha256: str
    filename: str
    caption: str


class PrefetchedFiles:
    def __init__(self, store: FileStore, max_bytes: int, remembered: int = REMEMBERED) -> None:
        self.store = store
        self.max_bytes = max_bytes
        self.remembered = remembered
        self._known: OrderedDict[str, _Fetched] = OrderedDict()

    def has(self, key: str) -> bool:
        return key in self._known

    async def prefetch(self, key: str, fetch: Fetch) -> None:
        """Download the file `key` names and keep it in the store. Only a file the bot accepts
        by size and kind is kept: bytes it will refuse would lie in the store with no
        attachment naming them.
        A failure is only logged (by kind): the handler tries again and tells the officer."""
        if key in self._known:
            return
        try:
            fetched = await fetch()
            if not isinstance(fetched, Incoming) or len(fetched.content) > self.max_bytes \
                    or sniff(fetched.content) is None:
                return
            digest = await asyncio.to_thread(self.store.put, fetched.content)
        except Exception as error:
            log.warning("a file could not be fetched ahead of its turn: %s", type(error).__name__)
            return
        self._known[key] = _Fetched(digest, fetched.filename, fetched.caption)
        while len(self._known) > self.remembered:
            self._known.popitem(last=False)

    async def fetch(self, key: str, fetch: Fetch) -> Incoming | Attached:
        """The file `key` names: from the store if it was fetched ahead, else downloaded now."""
        known = self._known.get(key)
        if known is not None:
            try:
                content = await asyncio.to_thread(self.store.read, known.sha256)
            except StoredFileMissing:
                self._known.pop(key, None)
            else:
                return Incoming(known.filename, content, known.caption)
        return await fetch()
