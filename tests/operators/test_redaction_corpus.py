"""No password survives redaction, whatever shape the DSN or URL is in (the strings that leak are the
ones a parser refuses), and the text around it stays readable."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from confirma_pipeline.api.redaction import redact_secrets
from confirma_pipeline.warehouse.connection import redact_dsn

PW = "Pw-S3cret-4"

CORPUS = [
    f"postgresql://confirma:{PW}@127.0.0.1:5432/wh",
    f"postgresql:/confirma:{PW}@127.0.0.1:1/wh",  # one slash (the example)
    f"postgresql:confirma:{PW}@127.0.0.1/wh",  # no slash
    f"postgresq://confirma:{PW}@db/wh",  # scheme typo
    f"postgress:///confirma:{PW}@db/wh",  # typo and three slashes
    f"mysql://confirma:{PW}@db:3306/wh",  # unknown scheme
    f"postgresql+psycopg2://confirma:{PW}@db/wh",  # driver suffix
    f"//confirma:{PW}@db/wh",  # no scheme at all
    f"postgresql://:{PW}@db/wh",  # empty user
    f"postgresql://confirma:{PW}@x@db/wh",  # '@' inside the password
    f"postgresql://confirma:{PW} with spaces@db/wh",  # spaces inside the password
    f"postgresql://confirma:{quote(PW + '@/:')}@db/wh",  # percent-encoded password
    quote(f"postgresql://confirma:{PW}@db/wh", safe=""),  # the whole DSN percent-encoded
    f"host=db user=confirma password={PW} dbname=wh",  # key=value
    f"host=db password = '{PW} it''s' dbname=wh",  # key=value, quoted, spaces around '='
    f"host=db PASSWORD='{PW}' port=notaport",  # upper-case key, malformed port
    f"host=db password={PW}",  # password last
    f"'postgresql://confirma:{PW}@db/wh'",  # quoted DSN
    f'"postgresql://confirma:{PW}@db/wh"',  # double-quoted DSN
    f"postgresql://db/wh?sslmode=require&password={PW}",  # password in the query
    f"postgresql://db/wh?password%3D{PW}",  # percent-encoded '='
    f"postgresql://confirma:{PW}@[::1]:5432/wh",  # IPv6 host
    f'{{"dsn": "host=db", "password": "{PW}"}}',  # JSON-ish
    f"https://user:{PW}@hooks.example.com/services/T0/B0",  # an https URL with credentials
]


@pytest.mark.parametrize("dsn", CORPUS)
def test_no_password_survives(dsn):
    assert len(CORPUS) >= 15
    for text in (dsn, f"invalid dsn: {dsn}: missing '=' after it", f'connection to "{dsn}" failed'):
        redacted = redact_secrets(text)
        assert PW not in redacted and "S3cret" not in redacted, redacted
        assert "***" in redacted
    assert "S3cret" not in redact_dsn(dsn)


@pytest.mark.parametrize(
    "text, expected",
    [
        (f"postgresql://app:{PW}@db:5432/w", "postgresql://app:***@db:5432/w"),
        (f"postgresql:/app:{PW}@127.0.0.1:1/wh", "postgresql:/app:***@127.0.0.1:1/wh"),
        (f"host=db password={PW} dbname=w", "host=db password=*** dbname=w"),
        (f"user:{PW}@x@db is unreachable", "user:***@db is unreachable"),
    ],
)
def test_what_is_left_is_readable(text, expected):
    assert redact_secrets(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "postgresql://postgres@/postgres?host=/tmp/x",
        'connection to server at "127.0.0.1", port 1 failed: Connection refused',
        "http://127.0.0.1:3000/runs/abc",
        "postgresql://db:5432/wh",
        "invoices: pushed 10, failed 0 at 12:30:45",
    ],
)
def test_text_without_a_password_is_left_alone(text):
    assert redact_secrets(text) == text
