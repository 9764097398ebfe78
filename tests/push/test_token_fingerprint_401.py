"""A 401 marks invalid only the token that got it (by fingerprint): a token renewed meanwhile by
client_credentials stays valid. And client_credentials is a dependency of every asset that calls the
API with client tokens, so a renewal does not race them in the first place."""

from __future__ import annotations

import psycopg

from confirma_pipeline.push.invoices import push_invoices
from confirma_pipeline.push.onboarding import onboard_clients
from confirma_pipeline.run.context import RunContext
from confirma_pipeline.vault import fingerprint
from confirma_pipeline.warehouse.client_tokens import load_token, store_token


def _token_status(dsn: str, creditor_id: str) -> tuple[str, str]:
    with psycopg.connect(dsn) as conn:
        return conn.execute(
            "SELECT status, fingerprint FROM confirma.client_tokens WHERE creditor_id = %s", (creditor_id,)
        ).fetchone()


def test_a_401_on_a_token_renewed_meanwhile_leaves_the_new_token_valid(
    seeded, sandbox, api, vault, monkeypatch
):
    onboard_clients(RunContext(seeded, api, vault, run_id="setup"))
    real_create = api.create_invoice
    renewed = {}

    def renewal_races_the_push(token, body):
        if not renewed:  # client_credentials renews this client's token while the push holds the old one
            with psycopg.connect(seeded, autocommit=True) as conn:
                creditor_id = next(
                    cid
                    for cid in ["CRED-0001", "CRED-0002", "CRED-0003", "CRED-0004", "CRED-0005"]
                    if load_token(conn, vault, cid).reveal() == token
                )
                new = api.renew_token(token).new_token
                store_token(conn, vault, creditor_id, new, status="valid")
            renewed.update(creditor_id=creditor_id, fingerprint=fingerprint(new))
        return real_create(token, body)  # the old token: 401

    monkeypatch.setattr(api, "create_invoice", renewal_races_the_push)
    push_invoices(RunContext(seeded, api, vault, run_id="raced"))
    status, stored = _token_status(seeded, renewed["creditor_id"])
    assert stored == renewed["fingerprint"]
    assert status == "valid"


def test_a_401_on_the_stored_token_marks_it_invalid(seeded, sandbox, api, vault):
    onboard_clients(RunContext(seeded, api, vault, run_id="setup"))
    with psycopg.connect(seeded, autocommit=True) as conn:
        ident = conn.execute(
            "SELECT client_identifier FROM confirma.clients WHERE creditor_id = 'CRED-0001'"
        ).fetchone()[0]
    sandbox.control.expire_token(ident, "2000-01-01T00:00:00Z")
    push_invoices(RunContext(seeded, api, vault, run_id="expired"))
    assert _token_status(seeded, "CRED-0001")[0] == "invalid"
    assert _token_status(seeded, "CRED-0002")[0] == "valid"


def test_client_credentials_runs_before_every_asset_calling_the_api_with_client_tokens():
    from confirma_pipeline.definitions import defs

    loaded = defs()
    graph = loaded.resolve_asset_graph()
    token_users = [
        key
        for key in graph.get_all_asset_keys()
        if graph.get(key).is_materializable
        and "confirma_api" in loaded.get_assets_def(key).required_resource_keys
        and key.to_user_string()
        not in ("onboarded_clients", "client_credentials")  # provisioning token; renews
    ]
    assert token_users
    for key in token_users:
        assert "client_credentials" in {p.to_user_string() for p in graph.get(key).parent_keys}, key
