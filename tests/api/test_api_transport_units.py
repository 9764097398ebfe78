"""Unit tests of single transport behaviours (httpx.MockTransport), secrets hygiene, rate limit, run_bounded."""

from __future__ import annotations

import logging
import threading
import time
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import httpx
import pytest

from confirma_pipeline.api import (
    AdaptiveLimiter,
    AmbiguousOutcomeError,
    ConfirmaApiError,
    ConfirmaClient,
    RejectedError,
    RetryableError,
    UnauthorizedError,
    parse_retry_after,
    redact_headers,
    run_bounded,
)
from confirma_pipeline.sandbox.examples import client_body, sample_invoice

TOKEN = "c0ffee00-1111-4222-8333-444455556666"
PROVISIONING = "prov-SECRET-7a7a7a"
VALID = {"isValid": True, "message": "Token is valid"}


def _mock_client(handler, *, sleeps: list[float], retries: int = 5, base: float = 0.2) -> ConfirmaClient:
    return ConfirmaClient(
        "https://staging-integrations.confirmafinance.com", PROVISIONING, transport=httpx.MockTransport(handler),
        max_retries=retries, backoff_base_s=base, backoff_max_s=5.0, sleep=sleeps.append,
    )  # fmt: skip


def test_retry_after_zero_still_waits_the_base_backoff() -> None:
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        if len(calls) <= 3:
            return httpx.Response(429, headers={"Retry-After": "0"}, json={"message": "slow down"})
        return httpx.Response(200, json=VALID)

    sleeps: list[float] = []
    with _mock_client(handler, sleeps=sleeps) as api:
        assert api.validate_token(TOKEN).is_valid is True
    assert len(calls) == 4 and len(sleeps) == 3
    assert all(0.2 <= s <= 0.4 for s in sleeps)  # never zero: Retry-After 0 cannot burn the budget at once


def test_retry_after_seconds_and_http_date_are_honoured() -> None:
    later = datetime.now(timezone.utc) + timedelta(seconds=30)
    answers = iter([
        httpx.Response(503, headers={"Retry-After": "7"}),
        httpx.Response(503, headers={"Retry-After": format_datetime(later, usegmt=True)}),
        httpx.Response(200, json=VALID),
    ])  # fmt: skip
    sleeps: list[float] = []
    with _mock_client(lambda request: next(answers), sleeps=sleeps) as api:
        api.validate_token(TOKEN)
    assert 7 <= sleeps[0] <= 7.2
    assert 27 <= sleeps[1] <= 30.2
    assert parse_retry_after("garbage") is None and parse_retry_after(None) is None
    assert parse_retry_after("-3") == 0.0


def test_backoff_without_retry_after_is_full_jitter_and_capped() -> None:
    sleeps: list[float] = []
    api = _mock_client(lambda r: httpx.Response(502), sleeps=sleeps, retries=8, base=0.5)
    with api, pytest.raises(RetryableError) as excinfo:
        api.get_payments(TOKEN, "2025-01-01", "2025-01-31")
    assert "9 attempts" in str(excinfo.value)
    assert len(sleeps) == 8
    assert all(0 <= s <= min(5.0, 0.5 * 2**i) for i, s in enumerate(sleeps))


def test_too_long_retry_after_gives_up_instead_of_sleeping() -> None:
    sleeps: list[float] = []
    api = _mock_client(lambda r: httpx.Response(429, headers={"Retry-After": "3600"}), sleeps=sleeps)
    with api, pytest.raises(RetryableError, match="3600"):
        api.validate_token(TOKEN)
    assert sleeps == []


def test_post_read_timeout_is_ambiguous_but_connect_error_is_retried() -> None:
    def read_timeout(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    sleeps: list[float] = []
    with _mock_client(read_timeout, sleeps=sleeps) as api:
        with pytest.raises(AmbiguousOutcomeError):
            api.create_invoice(TOKEN, sample_invoice(1))
        assert api.calls_made == 1
        with pytest.raises(RetryableError):
            api.get_payments(TOKEN, "2025-01-01", "2025-01-31")  # a GET retries the same timeout
        assert api.calls_made == 1 + 6

    attempts = []

    def refuse_then_accept(request: httpx.Request) -> httpx.Response:
        attempts.append(1)
        if len(attempts) < 3:
            raise httpx.ConnectError("refused", request=request)
        return httpx.Response(
            201, json={"message": "Invoice received", "invoiceNumber": 1, "status": "RECEIVED"}
        )

    with _mock_client(refuse_then_accept, sleeps=sleeps) as api:
        assert api.create_invoice(TOKEN, sample_invoice(1)).invoice_number == 1
    assert len(attempts) == 3


def test_renew_is_not_retried_after_sending() -> None:
    sleeps: list[float] = []
    with (
        _mock_client(lambda r: httpx.Response(504), sleeps=sleeps) as api,
        pytest.raises(AmbiguousOutcomeError),
    ):
        api.renew_token(TOKEN)
    assert sleeps == []


def test_tokens_never_reach_logs_repr_or_exception_text(caplog: pytest.LogCaptureFixture) -> None:
    seen_headers = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen_headers.append(request.headers.get("X-Api-Key"))
        if request.url.path.endswith("/validate"):
            return httpx.Response(503, headers={"Retry-After": "0"}, json={"message": f"bad key {TOKEN}"})
        return httpx.Response(401, json={"message": f"Invalid API key {TOKEN}"})

    sleeps: list[float] = []
    caplog.set_level(logging.DEBUG)
    errors: list[BaseException] = []
    with _mock_client(handler, sleeps=sleeps, retries=2) as api:
        for call in (lambda: api.validate_token(TOKEN), lambda: api.create_invoice(TOKEN, {"x": TOKEN}),
                     lambda: api.create_client(client_body(1))):  # fmt: skip
            with pytest.raises(ConfirmaApiError) as excinfo:
                call()
            errors.append(excinfo.value)
        text_of_client = repr(api) + str(api)
    assert seen_headers[0] == TOKEN  # the key was really sent...
    assert isinstance(errors[1], UnauthorizedError)
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "X-Api-Key" in logged and "***" in logged  # ...and its header was logged, redacted
    for secret in (TOKEN, PROVISIONING):
        assert secret not in logged
        assert secret not in text_of_client
        for error in errors:
            assert secret not in str(error) and secret not in repr(error)
            assert all(secret not in f.message for f in getattr(error, "field_errors", []))
    assert "POST /api/v1/partner/invoice -> 401" in str(errors[1])


def test_redact_headers_masks_api_keys_in_any_form() -> None:
    headers = httpx.Headers({"X-Api-Key": TOKEN, "Accept": "application/json", "authorization": "Bearer x"})
    assert redact_headers(headers) == {
        "x-api-key": "***",
        "accept": "application/json",
        "authorization": "***",
    }
    assert redact_headers({"x-api-key": TOKEN}) == {"x-api-key": "***"}
    assert redact_headers([(b"X-API-KEY", TOKEN.encode())]) == {"X-API-KEY": "***"}


def test_client_refuses_plain_http_to_remote_hosts_and_cannot_be_pickled() -> None:
    with pytest.raises(ValueError):
        ConfirmaClient("http://integrations.confirmafinance.com", PROVISIONING)
    with pytest.raises(ValueError):
        ConfirmaClient.for_environment("sandbox")
    prod = ConfirmaClient.for_environment("production")
    assert prod.base_url == "https://integrations.confirmafinance.com"
    import pickle

    with pytest.raises(TypeError):
        pickle.dumps(prod)
    prod.close()


def test_rejected_error_carries_reason_and_fields() -> None:
    body = {"message": "Validation failed", "errors": [{"field": "invoice.header.dueDate", "message": "bad"}]}
    sleeps: list[float] = []
    api = _mock_client(lambda r: httpx.Response(400, json=body), sleeps=sleeps)
    with api, pytest.raises(RejectedError) as excinfo:
        api.create_invoice(TOKEN, sample_invoice(2))
    assert excinfo.value.reason == "Validation failed" and excinfo.value.status == 400
    assert excinfo.value.field_errors[0].field == "invoice.header.dueDate"
    assert sleeps == []


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(round(seconds, 4))
        self.now += seconds

    def answer(self, limiter: AdaptiveLimiter, status: int = 200, latency_s: float = 0.05) -> None:
        with limiter.slot("/invoices") as slot:
            self.now += latency_s
            slot.status = status


def test_no_fixed_cap_by_default_and_a_configured_ceiling_spaces_requests_evenly() -> None:
    t = FakeTime()
    free = AdaptiveLimiter(32, clock=t.clock, sleep=t.sleep)
    for _ in range(50):
        t.answer(free, latency_s=0.0)
    assert t.slept == [] and free.rate is None and free.limit == 32

    capped = AdaptiveLimiter(32, 10.0, clock=t.clock, sleep=t.sleep)
    for _ in range(4):
        t.answer(capped, latency_s=0.0)
    assert t.slept == [0.1, 0.1, 0.1]  # 10 requests/s, no burst
    assert capped.rate == 10.0  # healthy answers never raise the rate above its ceiling


def test_429_cuts_the_rate_to_what_the_server_accepted_and_healthy_answers_grow_it_back() -> None:
    t = FakeTime()
    limiter = AdaptiveLimiter(32, clock=t.clock, sleep=t.sleep)
    for _ in range(100):  # 100 requests sent (and accepted) in the second before the refused one
        t.answer(limiter, latency_s=0.01)
    t.answer(limiter, status=429, latency_s=0.0)
    assert limiter.rate == pytest.approx(90.0, abs=1.0)  # 0.9 x the 100 accepted in that second
    cut = limiter.rate
    t.answer(
        limiter, status=429, latency_s=0.0
    )  # the same episode: cut from what was accepted, not again x 0.9
    assert cut - 2 < limiter.rate <= cut and limiter.throttled == 2
    for _ in range(300):  # about three seconds at the lower rate: most of the gap is closed quickly
        t.answer(limiter, latency_s=0.0)
    assert 96 < limiter.rate < 100
    for _ in range(600):  # then it probes past the accepted rate slowly (+1 %/s)
        t.answer(limiter, latency_s=0.0)
    assert 100 < limiter.rate < 105
    assert t.slept and max(t.slept[2:]) <= 1 / 88  # paced evenly while limited (after a short drain)


def test_the_cut_counts_sends_not_answers_so_a_burst_lands_near_the_server_limit() -> None:
    """At the first 429 of an unpaced burst most accepted requests are still in flight: their answers
    lag by a round trip. The cut must still land near what the server took, not at the answers seen."""
    t = FakeTime()
    limiter = AdaptiveLimiter(64, clock=t.clock, sleep=t.sleep)
    slots = [limiter.slot("/invoices") for _ in range(32)]
    for slot in slots:  # 32 sent at once, all accepted, none answered yet
        slot.__enter__()
    t.now += 0.001
    t.answer(limiter, status=429, latency_s=0.0)  # the 33rd is refused at once
    assert limiter.rate == pytest.approx(0.9 * 32)
    for slot in slots:
        slot.status = 200
        slot.__exit__(None, None, None)


def test_rising_latency_or_errors_shrink_concurrency_and_health_restores_it() -> None:
    t = FakeTime()
    limiter = AdaptiveLimiter(16, clock=t.clock, sleep=t.sleep)
    for _ in range(20):
        t.answer(limiter, latency_s=0.02)
    assert limiter.limit == 16
    for _ in range(40):
        t.answer(limiter, latency_s=0.06)  # the client's own queueing on a busy machine: not the server's
    assert limiter.limit == 16
    for _ in range(40):
        t.answer(limiter, latency_s=0.2)  # ten times slower: the server is queueing
    assert 4 <= limiter.limit < 8  # latency alone: not below a quarter of the ceiling
    t.answer(limiter, status=503, latency_s=0.2)
    shrunk = limiter.limit
    for _ in range(3000):
        t.answer(limiter, latency_s=0.02)
    assert shrunk < limiter.limit == 16


def test_the_client_slows_down_after_429() -> None:
    statuses = iter([429, 200, 200])
    sleeps: list[float] = []
    api = _mock_client(
        lambda r: httpx.Response(next(statuses), headers={"Retry-After": "0"}, json=VALID), sleeps=sleeps
    )
    assert api.limiter.rate is None
    api.validate_token(TOKEN)
    assert api.limiter.throttled == 1 and api.limiter.rate is not None
    api.close()


def test_run_bounded_streams_with_at_most_n_in_flight_and_returns_exceptions() -> None:
    active = 0
    peak = 0
    lock = threading.Lock()
    consumed_before_end = []

    def work(n: int) -> int:
        nonlocal active, peak
        with lock:
            active += 1
            peak = max(peak, active)
        time.sleep(0.002)
        with lock:
            active -= 1
        if n % 10 == 0:
            raise ValueError(f"bad {n}")
        return n * 2

    pulled = []

    def items():
        for i in range(200):
            pulled.append(i)
            yield i

    results = {}
    for item, outcome in run_bounded(work, items(), 4):
        consumed_before_end.append(len(pulled))
        results[item] = outcome
    assert peak <= 4
    assert len(results) == 200
    assert isinstance(results[10], ValueError) and results[11] == 22
    assert consumed_before_end[0] < 50  # the input is consumed lazily, not all up front


def test_run_bounded_early_close_stops_new_work() -> None:
    started = []
    lock = threading.Lock()

    def work(n: int) -> int:
        with lock:
            started.append(n)
        time.sleep(0.001)
        return n

    gen = run_bounded(work, range(10_000), 3)
    for _ in range(5):
        next(gen)
    gen.close()
    assert len(started) <= 5 + 2 * 3 + 3


def test_tls_certificates_are_always_verified(tmp_path) -> None:
    """A self-signed HTTPS server is refused by the client's own transport; trusting its CA works."""
    import shutil
    import socket
    import ssl
    import subprocess

    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
         "-days", "1", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost"],
        check=True, capture_output=True,
    )  # fmt: skip
    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_ctx.load_cert_chain(cert, key)
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def serve(count: int) -> None:
        for _ in range(count):
            raw, _ = listener.accept()
            try:
                with server_ctx.wrap_socket(raw, server_side=True) as conn:
                    conn.recv(65536)
                    body = b'{"isValid": true, "message": "Token is valid"}'
                    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n"
                                 b"Content-Length: %d\r\n\r\n%s" % (len(body), body))  # fmt: skip
            except (ssl.SSLError, OSError):
                pass

    thread = threading.Thread(target=serve, args=(2,), daemon=True)
    thread.start()
    sleeps: list[float] = []
    api = ConfirmaClient(f"https://localhost:{port}", max_retries=0, sleep=sleeps.append)
    with api, pytest.raises(RetryableError, match="ConnectError"):
        api.validate_token(TOKEN)
    trusting = ssl.create_default_context(cafile=str(cert))
    transport = httpx.HTTPTransport(verify=trusting, retries=0)
    with ConfirmaClient(f"https://localhost:{port}", transport=transport, max_retries=0) as api:
        assert api.validate_token(TOKEN).is_valid is True
    thread.join(5)
    listener.close()
