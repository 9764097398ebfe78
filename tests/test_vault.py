"""Client tokens encrypted at rest: keys, rotation, leaks, the database helpers and `tokens` commands."""

from __future__ import annotations

import io
import os
import pickle
import stat

import psycopg
import pytest
from cryptography.fernet import Fernet

from confirma_pipeline import cli
from confirma_pipeline.errors import ConfigError, OperatorError
from confirma_pipeline.vault import (
    KEY_ENV,
    KEY_FILE_ENV,
    ClientToken,
    TokenDecryptError,
    TokenVault,
    ensure_local_key_file,
    fingerprint,
    key_id,
)
from confirma_pipeline.warehouse.client_tokens import load_token, rotate_key, store_token

TOKEN = "8848372d-8457-4ca4-9da9-673f1cdd6684"
K1, K2, K3 = (Fernet.generate_key().decode() for _ in range(3))


def test_encrypt_decrypt_and_key_id():
    vault = TokenVault([K1])
    ciphertext, kid = vault.encrypt(TOKEN)
    assert kid == key_id(K1) == vault.key_id and len(kid) == 8
    assert TOKEN.encode() not in ciphertext
    assert vault.decrypt(ciphertext) == TOKEN
    assert vault.decrypt_token(ciphertext) == ClientToken(TOKEN)
    assert vault.encrypt(TOKEN)[0] != ciphertext  # random IV: no equality leak
    with pytest.raises(ValueError):
        vault.encrypt("")


def test_rotation_old_ciphertext_decrypts_with_the_new_key_list():
    old = TokenVault([K1])
    ciphertext, _ = old.encrypt(TOKEN)
    new = TokenVault([K2, K1])
    assert new.key_id == key_id(K2) and new.key_ids == [key_id(K2), key_id(K1)]
    assert new.decrypt(ciphertext) == TOKEN
    rotated = new.rotate(ciphertext)
    assert TokenVault([K2]).decrypt(rotated) == TOKEN


def test_wrong_key_gives_a_clear_error_without_key_material():
    ciphertext, _ = TokenVault([K1]).encrypt(TOKEN)
    with pytest.raises(TokenDecryptError) as err:
        TokenVault([K3]).decrypt(ciphertext)
    message = str(err.value)
    assert isinstance(err.value, ConfigError)
    assert KEY_ENV in message and key_id(K3) in message
    for secret in (K1, K3, TOKEN):
        assert secret not in message


def test_repr_and_client_token_never_show_secrets():
    vault = TokenVault([K1, K2])
    for text in (repr(vault), str(vault)):
        assert K1 not in text and K2 not in text and key_id(K1) in text
    token = ClientToken(TOKEN)
    percent = "%s" % (token,)  # noqa: UP031
    for text in (
        repr(token),
        str(token),
        f"{token}",
        f"{token!r}",
        percent,
        "{}".format(token),  # noqa: UP032
        repr([token]),
    ):
        assert TOKEN not in text
    assert str(token) == "***" and token.reveal() == TOKEN
    assert fingerprint(TOKEN) == token.fingerprint and len(token.fingerprint) == 8
    assert token.fingerprint in repr(token)
    with pytest.raises(TypeError):
        pickle.dumps(token)
    with pytest.raises(TypeError):
        pickle.dumps(vault)
    with pytest.raises(AttributeError):
        token._value = "x"


def test_from_env_missing_malformed_list_and_file(tmp_path):
    with pytest.raises(ConfigError, match=KEY_ENV):
        TokenVault.from_env({})
    with pytest.raises(ConfigError, match=KEY_ENV) as err:
        TokenVault.from_env({KEY_ENV: "not-a-fernet-key-at-all"})
    assert "not-a-fernet-key-at-all" not in str(err.value)
    with pytest.raises(ConfigError, match="key #2") as err:
        TokenVault.from_env({KEY_ENV: f"{K1}, {K2[:-4]}"})
    assert K1 not in str(err.value) and K2[:-4] not in str(err.value)
    assert TokenVault.from_env({KEY_ENV: f" {K2} ,{K1} "}).key_ids == [key_id(K2), key_id(K1)]

    path, created = ensure_local_key_file(tmp_path / "keys" / "token.key")
    assert created and stat.S_IMODE(os.stat(path).st_mode) == 0o600
    first = path.read_text()
    assert ensure_local_key_file(path) == (path, False) and path.read_text() == first
    vault = TokenVault.from_env({KEY_FILE_ENV: str(path)})
    assert vault.key_id == key_id(first.strip())
    assert TokenVault.from_env({KEY_ENV: K1, KEY_FILE_ENV: str(path)}).key_id == key_id(K1)  # env wins
    with pytest.raises(ConfigError, match=KEY_FILE_ENV):
        TokenVault.from_env({KEY_FILE_ENV: str(tmp_path / "missing.key")})


@pytest.fixture
def conn(warehouse_dsn):
    with psycopg.connect(warehouse_dsn) as c:
        yield c


def _client(conn, creditor_id: str) -> None:
    conn.execute("INSERT INTO confirma.clients (creditor_id, state) VALUES (%s, 'created')", (creditor_id,))


def test_store_load_rotate_in_the_warehouse(conn):
    old = TokenVault([K1])
    with pytest.raises(OperatorError, match="confirma.clients"):
        store_token(conn, old, "C-unknown", TOKEN)
    conn.rollback()
    _client(conn, "C1")
    _client(conn, "C2")
    assert store_token(conn, old, "C1", TOKEN) == fingerprint(TOKEN)
    store_token(conn, old, "C2", "other-token", status="valid")
    assert load_token(conn, old, "C1") == ClientToken(TOKEN)
    assert load_token(conn, old, "C-none") is None

    # the token is nowhere in the table's raw text (nor in the analysts' view)
    raw = " ".join(r[0] for r in conn.execute("SELECT t::text FROM confirma.client_tokens t"))
    raw += " ".join(r[0] for r in conn.execute("SELECT v::text FROM confirma.client_credentials v"))
    assert TOKEN not in raw and TOKEN.replace("-", "") not in raw and "other-token" not in raw
    assert fingerprint(TOKEN) in raw

    new = TokenVault([K2, K1])
    assert rotate_key(conn, new) == 2
    rows = dict(conn.execute("SELECT creditor_id, key_id FROM confirma.client_tokens").fetchall())
    assert rows == {"C1": key_id(K2), "C2": key_id(K2)}
    assert load_token(conn, TokenVault([K2]), "C1").reveal() == TOKEN  # the old key can now be dropped
    assert rotate_key(conn, new) == 0
    with pytest.raises(TokenDecryptError, match="C1"):
        load_token(conn, TokenVault([K3]), "C1")


def test_storing_the_same_token_keeps_validation_a_new_one_resets_it(conn):
    vault = TokenVault([K1])
    _client(conn, "C1")
    store_token(conn, vault, "C1", TOKEN)
    conn.execute("UPDATE confirma.client_tokens SET last_validated_at = now(), status_message = 'ok'")
    store_token(conn, vault, "C1", TOKEN, status="valid")
    assert conn.execute("SELECT last_validated_at IS NOT NULL, status FROM confirma.client_tokens").fetchone() == (
        True, "valid",
    )  # fmt: skip
    store_token(conn, vault, "C1", "renewed-token")
    assert conn.execute("SELECT last_validated_at, status_message FROM confirma.client_tokens").fetchone() == (
        None, None,
    )  # fmt: skip


def test_tokens_import_and_rotate_key_commands(warehouse_dsn, monkeypatch, capsys):
    monkeypatch.setenv(KEY_ENV, K1)
    monkeypatch.delenv(KEY_FILE_ENV, raising=False)
    monkeypatch.setattr("sys.stdin", io.StringIO(TOKEN + "\n"))
    assert cli.main(["tokens", "import", "--creditor-id", "C-PDF", "--client-identifier", "4242"]) == 0
    out = capsys.readouterr()
    assert TOKEN not in out.out + out.err
    assert fingerprint(TOKEN) in out.out

    with psycopg.connect(warehouse_dsn) as conn:
        assert conn.execute(
            "SELECT state, client_identifier FROM confirma.clients WHERE creditor_id = 'C-PDF'"
        ).fetchone() == ("imported", 4242)
        assert load_token(conn, TokenVault([K1]), "C-PDF") == ClientToken(TOKEN)

    monkeypatch.setattr("sys.stdin", io.StringIO("   \n"))
    assert cli.main(["tokens", "import", "--creditor-id", "C-EMPTY"]) == 2  # ExitCode.USAGE
    assert "empty token" in capsys.readouterr().err
    with psycopg.connect(warehouse_dsn) as conn:
        assert conn.execute(
            "SELECT count(*) FROM confirma.clients WHERE creditor_id = 'C-EMPTY'"
        ).fetchone() == (0,)

    monkeypatch.setenv(KEY_ENV, f"{K2},{K1}")
    assert cli.main(["tokens", "rotate-key"]) == 0
    assert "re-encrypted 1 token(s)" in capsys.readouterr().out
    with psycopg.connect(warehouse_dsn) as conn:
        assert load_token(conn, TokenVault([K2]), "C-PDF").reveal() == TOKEN

    assert cli.main(["tokens", "list"]) == 0
    listing = capsys.readouterr().out
    assert "C-PDF" in listing and fingerprint(TOKEN) in listing and TOKEN not in listing

    monkeypatch.delenv(KEY_ENV)
    monkeypatch.setattr("sys.stdin", io.StringIO(TOKEN))
    assert cli.main(["tokens", "import", "--creditor-id", "C-X"]) == 5  # ExitCode.CONFIG
    err = capsys.readouterr().err
    assert KEY_ENV in err and TOKEN not in err


def test_import_token_function_used_by_the_demo(warehouse_dsn, monkeypatch):
    from confirma_pipeline.cli.vault import import_token

    monkeypatch.setenv(KEY_ENV, K1)
    with psycopg.connect(warehouse_dsn) as conn:
        _client(conn, "C-AUTO")  # onboarded by the pipeline: state 'created' is kept
    assert import_token("C-AUTO", ClientToken(TOKEN), client_identifier=7) == (fingerprint(TOKEN), "created")
    assert import_token("C-NEW", "  tok-2  ") == (fingerprint("tok-2"), "imported")
    with pytest.raises(OperatorError, match="whitespace"):
        import_token("C-NEW", "two tokens")
    with psycopg.connect(warehouse_dsn) as conn:
        assert load_token(conn, TokenVault([K1]), "C-NEW").reveal() == "tok-2"
        assert conn.execute(
            "SELECT client_identifier FROM confirma.clients WHERE creditor_id = 'C-AUTO'"
        ).fetchone() == (7,)
