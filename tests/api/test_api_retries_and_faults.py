"""Retry behaviour against the sandbox's fault injection (real HTTP), counted with a transport counter."""

from __future__ import annotations

import threading

import httpx
import pytest

from confirma_pipeline.api import (
    AmbiguousOutcomeError,
    ConfirmaClient,
    ForbiddenError,
    RejectedError,
    RetryableError,
    UnauthorizedError,
)
from confirma_pipeline.api.transport import make_transport
from confirma_pipeline.sandbox import SandboxServer
from confirma_pipeline.sandbox.examples import client_body, sample_invoice

PROVISIONING_TOKEN = "test-provisioning-token-3f9c"  # as in conftest.py


class CountingTransport(httpx.BaseTransport):
    """Counts the requests that really went to the wire."""

    def __init__(self) -> None:
        self.inner = make_transport(4)
        self.count = 0
        self._lock = threading.Lock()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        with self._lock:
            self.count += 1
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()


def _client(sandbox: SandboxServer, transport: httpx.BaseTransport, retries: int = 4) -> ConfirmaClient:
    return ConfirmaClient(
        sandbox.url, PROVISIONING_TOKEN, transport=transport, max_retries=retries, backoff_base_s=0.005,
        backoff_max_s=0.02, connect_timeout_s=2, timeout_s=5,
    )  # fmt: skip


@pytest.fixture
def counter() -> CountingTransport:
    return CountingTransport()


def test_401_403_400_are_not_retried(
    sandbox: SandboxServer, client_token: str, counter: CountingTransport
) -> None:
    with _client(sandbox, counter) as api:
        with pytest.raises(UnauthorizedError) as unauthorized:
            api.validate_token("0f1e2d3c-0000-4000-8000-000000000000")
        assert counter.count == 1 and unauthorized.value.status == 401
        with pytest.raises(ForbiddenError):
            api.get_payments(PROVISIONING_TOKEN, "2025-12-01", "2025-12-31")
        assert counter.count == 2
        bad = sample_invoice(11)
        bad["invoice"]["header"]["languageCode"] = "XX"
        with pytest.raises(RejectedError) as rejected:
            api.create_invoice(client_token, bad)
        assert counter.count == 3 and rejected.value.status == 400
        assert [f.field for f in rejected.value.field_errors] == ["invoice.header.languageCode"]
        assert api.calls_made == 3


def test_gets_retry_5xx_429_and_drops_and_succeed_within_budget(
    sandbox: SandboxServer, client_token: str, counter: CountingTransport
) -> None:
    sandbox.control.set_faults(error_rate=0.25, error_statuses=[500, 502, 503, 504], rate_limit_rate=0.15,
                               drop_rate=0.15, retry_after_s=0)  # fmt: skip
    with _client(sandbox, counter, retries=20) as api:
        for _ in range(25):
            assert api.validate_token(client_token).is_valid is True
    assert counter.count > 25  # faults happened and were retried


def test_gets_give_up_cleanly_beyond_the_budget(
    sandbox: SandboxServer, client_token: str, counter: CountingTransport
) -> None:
    sandbox.control.set_faults(error_rate=1.0, error_statuses=[502])
    with _client(sandbox, counter, retries=3) as api, pytest.raises(RetryableError) as excinfo:
        api.get_settlements(client_token, unfetched_only=True)
    assert not isinstance(excinfo.value, AmbiguousOutcomeError)
    assert counter.count == 4 and "4 attempts" in str(excinfo.value)
    sandbox.control.set_faults(drop_rate=1.0)
    with _client(sandbox, counter, retries=2) as api, pytest.raises(RetryableError):
        api.get_payments(client_token, "2025-12-01", "2025-12-31")
    assert counter.count == 4 + 3


@pytest.mark.parametrize("fault", [{"error_rate": 1.0, "error_statuses": [503]}, {"rate_limit_rate": 1.0}])
def test_create_is_retried_after_a_preprocessing_503_or_429(
    sandbox: SandboxServer, client_token: str, counter: CountingTransport, fault: dict
) -> None:
    sandbox.control.set_faults(retry_after_s=0, **fault)
    outcome: dict = {}

    def heal() -> None:  # the fault clears while the client is backing off
        outcome["cleared"] = sandbox.control.clear_faults()

    with _client(sandbox, counter, retries=400) as api:
        timer = threading.Timer(0.1, heal)
        timer.start()
        try:
            assert api.create_invoice(client_token, sample_invoice(21)).invoice_number == 21
        finally:
            timer.cancel()
    assert counter.count > 1
    assert [e["invoiceNumber"] for e in sandbox.control.journal("invoice")] == [21]


def test_create_client_give_up_on_503_is_retryable_not_ambiguous(
    sandbox: SandboxServer, counter: CountingTransport
) -> None:
    sandbox.control.set_faults(error_rate=1.0, error_statuses=[503], retry_after_s=0)
    with _client(sandbox, counter, retries=2) as api, pytest.raises(RetryableError) as excinfo:
        api.create_client(client_body(3))
    assert not isinstance(excinfo.value, AmbiguousOutcomeError)
    assert counter.count == 3 and sandbox.control.journal() == []


def test_drop_after_commit_is_ambiguous_and_the_create_happened_exactly_once(
    sandbox: SandboxServer, client_token: str, counter: CountingTransport
) -> None:
    sandbox.control.set_faults(drop_after_commit_rate=1.0)
    with _client(sandbox, counter) as api:
        with pytest.raises(AmbiguousOutcomeError):
            api.create_invoice(client_token, sample_invoice(31))
        assert counter.count == 1  # never resent by the client
        sandbox.control.clear_faults()
        # the push side's look-up finds the interrupted submission by invoice number
        found = api.get_distribution(client_token, invoice_number=31).distributions
        assert [(r.invoice_number, r.distribution_status) for r in found] == [(31, "RECEIVED")]
    assert [e["invoiceNumber"] for e in sandbox.control.journal("invoice")] == [31]


@pytest.mark.parametrize("status", [500, 502, 504])
def test_post_5xx_is_ambiguous_and_not_retried(
    sandbox: SandboxServer, client_token: str, counter: CountingTransport, status: int
) -> None:
    sandbox.control.set_faults(error_rate=1.0, error_statuses=[status])
    with _client(sandbox, counter) as api, pytest.raises(AmbiguousOutcomeError) as excinfo:
        api.create_invoice(client_token, sample_invoice(41))
    assert counter.count == 1 and excinfo.value.status == status
    assert sandbox.control.journal("invoice") == []  # the fault came before processing


def test_a_drop_before_processing_on_post_is_ambiguous(
    sandbox: SandboxServer, client_token: str, counter: CountingTransport
) -> None:
    sandbox.control.set_faults(drop_rate=1.0)
    with _client(sandbox, counter) as api, pytest.raises(AmbiguousOutcomeError):
        api.invoice_actions(client_token, {"actions": [{"code": "COMMENT", "data": {"invoiceNumber": 1}}]})
    assert counter.count == 1


def test_connection_refused_is_retried_for_posts_then_gives_up() -> None:
    port_holder = SandboxServer(PROVISIONING_TOKEN).start()
    url = port_holder.url
    port_holder.stop()  # nothing listens there now
    sleeps: list[float] = []
    api = ConfirmaClient(url, PROVISIONING_TOKEN, max_retries=3, backoff_base_s=0.01, sleep=sleeps.append)
    with api, pytest.raises(RetryableError) as excinfo:
        api.create_client(client_body(1))
    assert not isinstance(excinfo.value, AmbiguousOutcomeError)
    assert len(sleeps) == 3 and api.calls_made == 4
