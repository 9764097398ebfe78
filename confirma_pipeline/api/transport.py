"""The HTTP transport under `ConfirmaClient`: httpx's own `HTTPTransport`, sharded into a few small pools.

Why sharded: see `ShardedHTTPTransport`. Everything on the wire (TLS verification, keep-alive, HTTP/1.1
framing, errors) is httpx / httpcore's, the well-kept library.
"""

from __future__ import annotations

import itertools
import threading

import httpx


class ShardedHTTPTransport(httpx.BaseTransport):
    """httpx's own HTTPTransport, split into a few smaller pools, each thread keeping to one.

    Why: httpcore's pool rescans every connection for every queued request on acquire and on release
    (O(requests x connections), encode/httpx#3215), which at 32 threads is most of the client's CPU
    per request. Several pools of a few connections each do the same work with far shorter scans.
    Everything else (TLS verification, keep-alive, errors) is httpx's unchanged."""

    def __init__(self, max_connections: int, shards: int = 8) -> None:
        self._shards = max(1, min(shards, max_connections))
        per_shard = -(-max_connections // self._shards)
        limits = httpx.Limits(max_connections=per_shard, max_keepalive_connections=per_shard)
        self._pools = [
            httpx.HTTPTransport(limits=limits, verify=True, retries=0) for _ in range(self._shards)
        ]
        self._local = threading.local()
        self._next = itertools.count()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        pool = getattr(self._local, "pool", None)
        if pool is None:
            pool = self._local.pool = self._pools[next(self._next) % self._shards]
        return pool.handle_request(request)

    def close(self) -> None:
        for pool in self._pools:
            pool.close()


def make_transport(max_connections: int) -> httpx.BaseTransport:
    """httpx's HTTPTransport (sharded into small pools, see `ShardedHTTPTransport`) with as many
    connections as the concurrency."""
    return ShardedHTTPTransport(max_connections)
