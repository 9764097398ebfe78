"""A lean, thread-safe HTTP/1.1 keep-alive transport for `httpx.Client` (opt-in, not the default).

Why: with httpx 0.28 / httpcore 1.0 the pure-Python h11 stack costs about 0.6 ms of client CPU per request
at 32 threads (shared/reference/performance-baselines.md, part A), which caps a push at well under the
latency bound. This transport keeps httpx's public interface (`httpx.Client(transport=...)`, `httpx.Request`,
`httpx.Response`, httpx's exception classes) and does the wire work with plain sockets and the C parser from
`httptools` (installed with uvicorn[standard]).

Scope, on purpose: HTTP/1.1 only, no proxies, no request streaming, no Expect/100-continue. TLS always
verifies the server certificate and host name (certifi's CA bundle, as httpx does). If `httptools` is not
importable, `make_transport()` falls back to httpx's own `HTTPTransport`.
"""

from __future__ import annotations

import contextlib
import itertools
import select
import socket
import ssl
import struct
import threading
import time
from collections.abc import Callable

import httpx

try:  # pragma: no cover - exercised implicitly
    import httptools
except ImportError:  # pragma: no cover
    httptools = None

_DEFAULT_PORTS = {b"http": 80, b"https": 443}


def make_ssl_context() -> ssl.SSLContext:
    try:
        import certifi

        context = ssl.create_default_context(cafile=certifi.where())
    except ImportError:  # pragma: no cover
        context = ssl.create_default_context()
    context.check_hostname = True
    context.verify_mode = ssl.CERT_REQUIRED
    context.set_alpn_protocols(["http/1.1"])
    return context


class _ResponseState:
    __slots__ = ("body", "complete", "headers", "headers_done", "keep_alive", "parser")

    def __init__(self) -> None:
        self.headers: list[tuple[bytes, bytes]] = []
        self.body: list[bytes] = []
        self.complete = False
        self.headers_done = False
        self.keep_alive = False
        self.parser: httptools.HttpResponseParser | None = None

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name, value))

    def on_headers_complete(self) -> None:
        self.headers_done = True
        self.keep_alive = self.parser.should_keep_alive()  # only meaningful before the message completes

    def on_body(self, body: bytes) -> None:
        self.body.append(body)

    def on_message_complete(self) -> None:
        self.complete = True


class _Connection:
    """One socket. Plain-TCP sockets stay in blocking mode with kernel timeouts (SO_RCVTIMEO/SO_SNDTIMEO), so
    each send/recv is one system call instead of poll()+call; TLS sockets use Python socket timeouts."""

    __slots__ = ("idle_since", "is_tls", "read_timeout", "sock", "write_timeout")

    def __init__(self, sock: socket.socket, is_tls: bool) -> None:
        self.sock = sock
        self.is_tls = is_tls
        self.idle_since = 0.0
        self.read_timeout: float | None = -1.0
        self.write_timeout: float | None = -1.0

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()

    def set_timeouts(self, read: float | None, write: float | None) -> None:
        if read == self.read_timeout and write == self.write_timeout:
            return
        if self.is_tls:
            self.sock.settimeout(read if write is None else write if read is None else max(read, write))
        else:
            self.sock.settimeout(None)
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, _timeval(read))
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, _timeval(write))
        self.read_timeout, self.write_timeout = read, write

    def is_stale(self, now: float, keepalive_expiry: float, probe_after: float) -> bool:
        """An idle connection the server may have closed: too old, or readable (EOF or junk pending).

        The readability probe is a system call, and under 32 threads every system call is a GIL hand-off
        (measured: ~0.1 ms of CPU per request). Servers close idle keep-alive connections after seconds, so a
        connection idle for less than `probe_after` is reused without the probe; the rare connection closed
        in between fails like any dropped connection (a GET is retried, a POST is reported ambiguous)."""
        idle = now - self.idle_since
        if idle > keepalive_expiry:
            return True
        if idle < probe_after:
            return False
        try:
            if not self.is_tls:
                self.sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT)
                return True  # EOF (b"") or unexpected bytes
            poller = select.poll()
            poller.register(self.sock.fileno(), select.POLLIN)
            return bool(poller.poll(0))
        except BlockingIOError:
            return False
        except (OSError, ValueError):
            return True


def _timeval(seconds: float | None) -> bytes:
    """A struct timeval for SO_RCVTIMEO/SO_SNDTIMEO; all zero means "no timeout"."""
    if seconds is None:
        return struct.pack("ll", 0, 0)
    seconds = max(seconds, 0.000001)
    whole = int(seconds)
    return struct.pack("ll", whole, int(round((seconds - whole) * 1_000_000)))


def _timeout(timeouts: dict, key: str) -> float | None:
    value = timeouts.get(key)
    return None if value is None else float(value)


class LeanHTTPTransport(httpx.BaseTransport):
    """HTTP/1.1 connection pool: at most `max_connections` sockets, LIFO reuse of idle keep-alive ones."""

    def __init__(
        self,
        *,
        max_connections: int = 32,
        keepalive_expiry: float = 4.0,
        probe_idle_after: float = 0.5,
        ssl_context: ssl.SSLContext | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if httptools is None:  # pragma: no cover
            raise RuntimeError("httptools is not installed; use httpx.HTTPTransport instead")
        if ssl_context is not None and (
            ssl_context.verify_mode != ssl.CERT_REQUIRED or not ssl_context.check_hostname
        ):
            raise ValueError(
                "TLS verification cannot be turned off: the SSL context must verify certificate and host"
            )
        self._slots = threading.BoundedSemaphore(max_connections)
        self._idle: dict[tuple[bytes, bytes, int], list[_Connection]] = {}
        self._lock = threading.Lock()
        self._keepalive_expiry = keepalive_expiry
        self._probe_idle_after = probe_idle_after
        self._ssl_context = ssl_context
        self._clock = clock
        self._closed = False

    # --- pool ---------------------------------------------------------------------------------------------
    def _take_idle(self, origin: tuple[bytes, bytes, int]) -> _Connection | None:
        now = self._clock()
        while True:
            with self._lock:
                idle = self._idle.get(origin)
                if not idle:
                    return None
                conn = idle.pop()
            if not conn.is_stale(now, self._keepalive_expiry, self._probe_idle_after):
                return conn
            conn.close()

    def _put_idle(self, origin: tuple[bytes, bytes, int], conn: _Connection) -> None:
        conn.idle_since = self._clock()
        with self._lock:
            if self._closed:
                conn.close()
                return
            self._idle.setdefault(origin, []).append(conn)

    def _connect(self, origin: tuple[bytes, bytes, int], timeout: float | None) -> _Connection:
        scheme, host, port = origin
        hostname = host.decode("ascii")
        try:
            sock = socket.create_connection((hostname, port), timeout=timeout)
        except TimeoutError as exc:
            raise httpx.ConnectTimeout(str(exc) or "connect timed out") from exc
        except OSError as exc:
            raise httpx.ConnectError(str(exc)) from exc
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if scheme == b"https":
                if self._ssl_context is None:
                    self._ssl_context = make_ssl_context()
                sock = self._ssl_context.wrap_socket(sock, server_hostname=hostname)
        except TimeoutError as exc:
            sock.close()
            raise httpx.ConnectTimeout(str(exc) or "TLS handshake timed out") from exc
        except (OSError, ssl.SSLError) as exc:
            sock.close()
            raise httpx.ConnectError(str(exc)) from exc
        return _Connection(sock, scheme == b"https")

    # --- one exchange -------------------------------------------------------------------------------------
    def handle_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        scheme = url.raw_scheme
        if scheme not in _DEFAULT_PORTS:
            raise httpx.UnsupportedProtocol(f"unsupported URL scheme {scheme!r}")
        origin = (scheme, url.raw_host, url.port or _DEFAULT_PORTS[scheme])
        timeouts = request.extensions.get("timeout") or {}

        pool_timeout = _timeout(timeouts, "pool")
        if not self._slots.acquire(timeout=-1 if pool_timeout is None else pool_timeout):
            raise httpx.PoolTimeout("no free connection in the pool")
        try:
            return self._exchange(request, origin, timeouts)
        finally:
            self._slots.release()

    def _exchange(
        self, request: httpx.Request, origin: tuple[bytes, bytes, int], timeouts: dict
    ) -> httpx.Response:
        conn = self._take_idle(origin)
        if conn is None:
            conn = self._connect(origin, _timeout(timeouts, "connect"))
        try:
            response, keep_alive = self._send_and_receive(conn, request, timeouts)
        except BaseException:
            conn.close()
            raise
        if keep_alive:
            self._put_idle(origin, conn)
        else:
            conn.close()
        return response

    @staticmethod
    def _serialize(request: httpx.Request) -> bytes:
        try:
            content = request.content
        except httpx.RequestNotRead:
            content = b"".join(request.stream)  # type: ignore[arg-type]
        parts = [request.method.encode("ascii"), b" ", request.url.raw_path, b" HTTP/1.1\r\n"]
        has_length = False
        for name, value in request.headers.raw:
            if b"\r" in value or b"\n" in value or b"\r" in name or b"\n" in name:
                raise httpx.LocalProtocolError("illegal character in a header")
            lowered = name.lower()
            if lowered == b"content-length":
                has_length = True
            elif lowered == b"transfer-encoding":
                continue
            parts += (name, b": ", value, b"\r\n")
        if not has_length and (content or request.method in ("POST", "PUT", "PATCH")):
            parts += (b"Content-Length: ", str(len(content)).encode(), b"\r\n")
        parts += (b"\r\n", content)
        return b"".join(parts)

    def _send_and_receive(
        self, conn: _Connection, request: httpx.Request, timeouts: dict
    ) -> tuple[httpx.Response, bool]:
        payload = self._serialize(request)
        sock = conn.sock
        conn.set_timeouts(_timeout(timeouts, "read"), _timeout(timeouts, "write"))
        try:
            sock.sendall(payload)
        except (TimeoutError, BlockingIOError, ssl.SSLWantWriteError) as exc:
            raise httpx.WriteTimeout(str(exc) or "write timed out") from exc
        except OSError as exc:
            raise httpx.WriteError(str(exc)) from exc

        state = _ResponseState()
        parser = state.parser = httptools.HttpResponseParser(state)
        try:
            while not state.complete:
                data = sock.recv(65536)
                if not data:
                    if state.headers_done and not _has_framing(state.headers):
                        state.complete = True  # body delimited by connection close
                        break
                    raise httpx.RemoteProtocolError(
                        "Server disconnected without sending a complete response."
                    )
                parser.feed_data(data)
        except (TimeoutError, BlockingIOError, ssl.SSLWantReadError) as exc:
            raise httpx.ReadTimeout(str(exc) or "read timed out") from exc
        except httptools.HttpParserUpgrade as exc:  # pragma: no cover
            raise httpx.RemoteProtocolError("unexpected protocol upgrade") from exc
        except httptools.HttpParserError as exc:
            raise httpx.RemoteProtocolError(f"malformed response: {exc}") from exc
        except OSError as exc:
            raise httpx.ReadError(str(exc)) from exc

        status = parser.get_status_code()
        keep_alive = state.keep_alive and (status in (204, 304) or _has_framing(state.headers))
        response = httpx.Response(
            status,
            headers=state.headers,
            content=b"".join(state.body),
            request=request,
            extensions={"http_version": b"HTTP/1.1"},
        )
        return response, keep_alive

    def close(self) -> None:
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, {}
        for conns in idle.values():
            for conn in conns:
                conn.close()


def _has_framing(headers: list[tuple[bytes, bytes]]) -> bool:
    for name, _ in headers:
        lowered = name.lower()
        if lowered == b"content-length" or lowered == b"transfer-encoding":
            return True
    return False


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


def make_transport(max_connections: int, *, lean: bool = False) -> httpx.BaseTransport:
    """httpx's HTTPTransport (sharded into small pools, see `ShardedHTTPTransport`) with as many
    connections as the concurrency; with `lean=True` (opt-in, benchmarks) the lean transport when
    httptools is importable."""
    if lean and httptools is not None:
        return LeanHTTPTransport(max_connections=max_connections)
    return ShardedHTTPTransport(max_connections)
