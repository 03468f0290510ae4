"""PostgreSQL databases for tests: copied from the template ahead of need, dropped behind.

A copy of the template takes a few tenths of a second, and PostgreSQL 15 makes every
DROP DATABASE wait for a checkpoint: seconds on a busy server, for each test. So a thread
keeps a copy ready before a test asks for it, and used databases are dropped in batches on
threads of their own, where drops sent together share their checkpoints and no test waits.
Connections are opened for each statement and closed after it: the server's slots are
shared by every test run on the machine.
"""
from __future__ import annotations

import itertools
import queue
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL
from sqlalchemy.pool import NullPool

#: how many used databases are dropped together, and over how many connections at once
BATCH = 8
DROPPERS = 4
#: how long a test waits for its copy before the copy is called lost
WAIT_SECONDS = 120


class TemplateCopies:
    """Copies of ``template`` named ``<prefix>_t<n>_<random>``: ``take()`` one, ``give_back(name)`` it."""

    def __init__(self, server: URL, template: str, prefix: str):
        self.template, self.prefix = template, prefix
        self.admin = create_engine(server, isolation_level="AUTOCOMMIT", poolclass=NullPool)
        self._numbers = itertools.count()
        self._ready: queue.Queue = queue.Queue(maxsize=1)
        self._used: list[str] = []
        self._drops = ThreadPoolExecutor(max_workers=DROPPERS, thread_name_prefix="drop-test-db")
        self._closing = threading.Event()
        self._maker = threading.Thread(target=self._make_ahead, name="copy-test-db", daemon=True)
        self._maker.start()

    def take(self) -> str:
        """A fresh copy of the template (made ahead); raises what went wrong making it."""
        copy = self._ready.get(timeout=WAIT_SECONDS)
        if isinstance(copy, BaseException):
            raise copy
        return copy

    def give_back(self, name: str) -> None:
        """Drop ``name`` later, with the next batch."""
        self._used.append(name)
        if len(self._used) >= BATCH:
            self._drop_all(self._used)
            self._used = []

    def close(self) -> None:
        """Drop every copy still here (used, or made ahead and never taken) and wait for the drops."""
        self._closing.set()
        self._maker.join()
        while not self._ready.empty():
            leftover = self._ready.get_nowait()
            if isinstance(leftover, str):
                self._used.append(leftover)
        self._drop_all(self._used)
        self._drops.shutdown(wait=True)
        self.admin.dispose()

    def _make_ahead(self) -> None:
        while not self._closing.is_set():
            try:
                copy = self._copy()
            except Exception as error:  # the test that asks next fails with it; the next copy is tried afresh
                copy = error
            while not self._closing.is_set():
                try:
                    self._ready.put(copy, timeout=0.1)
                    break
                except queue.Full:
                    pass
            else:
                if isinstance(copy, str):
                    self._used.append(copy)

    def _copy(self) -> str:
        name = f"{self.prefix}_t{next(self._numbers)}_{uuid.uuid4().hex[:6]}"
        with self.admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"'))
        return name

    def _drop_all(self, names: list[str]) -> None:
        for name in names:
            self._drops.submit(self._drop, name)

    def _drop(self, name: str) -> None:
        with self.admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
