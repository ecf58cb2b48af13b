"""The search node unreachable mid-indexing, then back: the indexer catches up, nothing is lost.

The shared node of `make services` must keep running for everyone else, so the test puts a
small TCP proxy (threads in this process) between the indexer and the node, and cuts it: every
open connection is closed and new ones are dropped as soon as they are accepted, which the
client sees as a node that went away; restoring lets connections through again.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from models.application import RecordStore
from pipeline.dispatch.follower import Follower
from search.elastic.index import ElasticIndex
from search.index import SearchUnavailableError
from search.indexer import IndexProjection
from search.query import Query
from tests.search.conftest import node_url
from tests.search.test_indexer import import_rows

pytestmark = pytest.mark.services


class Proxy:
    """Forwards TCP connections from 127.0.0.1:`port` to `target` until cut."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.1)
        self.port = self.listener.getsockname()[1]
        self.passing = threading.Event()
        self.passing.set()
        self.stopped = threading.Event()
        self.sockets: set[socket.socket] = set()
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def cut(self) -> None:
        self.passing.clear()
        with self.lock:
            for sock in self.sockets:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()
            self.sockets.clear()

    def restore(self) -> None:
        self.passing.set()

    def close(self) -> None:
        self.stopped.set()
        self.cut()
        self.listener.close()

    def _accept(self) -> None:
        while not self.stopped.is_set():
            try:
                client, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            if not self.passing.is_set():
                client.close()
                continue
            upstream = socket.create_connection(self.target)
            with self.lock:
                self.sockets.update((client, upstream))
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)


@pytest.fixture
def proxy() -> Proxy:
    parts = urlsplit(node_url())
    p = Proxy((parts.hostname or "127.0.0.1", parts.port or 9200))
    yield p
    p.close()


def sites(start: int, stop: int) -> list[dict]:
    return [
        {"code": f"HN-F{i}", "name": f"Đình làng số {i}", "published": True}
        for i in range(start, stop)
    ]


def wait_for(condition, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_the_indexer_catches_up_after_the_node_was_unreachable(
    proxy: Proxy, store: RecordStore, tmp_path: Path
):
    alias = f"sohoa-test-{uuid.uuid4().hex[:12]}"
    direct = ElasticIndex.from_url(f"{node_url()}/{alias}")
    url = f"opensearch+http://127.0.0.1:{proxy.port}/{alias}"
    index = ElasticIndex.from_url(url, ensure=False, max_retries=0, timeout=5)
    follower = Follower("indexer", store, index, IndexProjection(store, index).handle, batch=10)
    stop = threading.Event()
    runner = threading.Thread(target=follower.run, args=(stop, 0.05), daemon=True)
    try:
        import_rows(store, tmp_path, *sites(0, 150), name="first")
        runner.start()
        wait_for(lambda: direct.position("indexer") > 0)
        proxy.cut()  # mid-indexing
        import_rows(store, tmp_path, *sites(150, 300), name="second")
        with pytest.raises(SearchUnavailableError):
            index.count()
        cut_at = direct.position("indexer")
        time.sleep(1.0)
        assert direct.position("indexer") == cut_at < store.max_notification_id()
        proxy.restore()
        wait_for(lambda: direct.position("indexer") == store.max_notification_id())
        direct.refresh()
        assert direct.count() == 300
        found = direct.search(Query(text="Đình làng", limit=300))
        assert len({hit.id for hit in found.hits}) == found.total == 300
    finally:
        stop.set()
        runner.join(10)
        index.close()
        direct.drop()
        direct.close()
