"""`confirma-pipeline tokens import | rotate-key | generate-key | list`.

`tokens import --creditor-id ID [--client-identifier N]` stores the API token of a client onboarded by hand
(its token came in a PDF). The token is read from stdin (piped, or typed without echo at a terminal), never
from the command line (it would land in the shell history and the process list), never echoed, and only its
fingerprint is printed. The `confirma.clients` row is created or marked `imported` (a row the pipeline itself
onboarded, state `created`, keeps its state).
"""

from __future__ import annotations

import argparse
import getpass
import sys

import psycopg

from confirma_pipeline.errors import OperatorError
from confirma_pipeline.vault import KEY_ENV, ClientToken, TokenVault, generate_key
from confirma_pipeline.warehouse.client_tokens import rotate_key, store_token


def register(subparsers: argparse._SubParsersAction) -> None:
    tokens = subparsers.add_parser("tokens", help="client API tokens (encrypted at rest)")
    sub = tokens.add_subparsers(dest="tokens_command", metavar="ACTION")
    tokens.set_defaults(func=lambda args: (tokens.print_help(), 2)[1])

    imp = sub.add_parser(
        "import",
        help="store the token of a client onboarded by hand (token read from stdin)",
        description="Reads the client's API token from stdin (never from arguments), encrypts it with the first "
        f"key in {KEY_ENV} and stores it; prints only its fingerprint.",
    )
    imp.add_argument("--creditor-id", required=True, help="the creditor's id in the warehouse")
    imp.add_argument("--client-identifier", type=int, help="Confirma's clientIdentifier, when known")
    imp.set_defaults(func=_import)

    rot = sub.add_parser("rotate-key", help=f"re-encrypt every stored token with the first key in {KEY_ENV}")
    rot.set_defaults(func=_rotate)

    gen = sub.add_parser("generate-key", help=f"print a new random key for {KEY_ENV}")
    gen.set_defaults(func=_generate)

    lst = sub.add_parser("list", help="list stored credentials (fingerprints and status, never tokens)")
    lst.set_defaults(func=_list)


def _read_token() -> str:
    stream = sys.stdin
    if stream is None:
        raise OperatorError(
            "no stdin to read the token from; pipe it in: ... | confirma-pipeline tokens import"
        )
    value = getpass.getpass("client API token (input hidden): ") if stream.isatty() else stream.read()
    return value.strip()


def import_token(
    creditor_id: str,
    token: str | ClientToken,
    *,
    client_identifier: int | None = None,
    vault: TokenVault | None = None,
    dsn: str | None = None,
) -> tuple[str, str]:
    """Store the token of a client onboarded by hand: create the `confirma.clients` row (state `imported`; a
    row in state `created` keeps it) and the encrypted token, in one transaction. Returns (fingerprint, state).
    Used by `tokens import` and by the demo."""
    from confirma_pipeline.warehouse.connection import connect
    from confirma_pipeline.warehouse.registry import mark_imported

    creditor_id = creditor_id.strip()
    if not creditor_id:
        raise OperatorError("--creditor-id must not be empty")
    value = token.reveal() if isinstance(token, ClientToken) else token
    if not value or not value.strip():
        raise OperatorError("no token given: refusing to store an empty token")
    if any(ch.isspace() for ch in value.strip()):
        raise OperatorError("the token contains whitespace; paste exactly one token")
    vault = vault or TokenVault.from_env()
    with connect(dsn) as conn:
        try:
            with conn.transaction():
                state = mark_imported(conn, creditor_id, client_identifier)
                fp = store_token(conn, vault, creditor_id, value.strip())
        except psycopg.errors.UniqueViolation:
            raise OperatorError(
                f"client identifier {client_identifier} already belongs to another creditor"
            ) from None
    return fp, state


def _import(args: argparse.Namespace) -> int:
    vault = TokenVault.from_env()
    token = _read_token()
    if not token:
        raise OperatorError("no token given on stdin: refusing to store an empty token")
    fp, state = import_token(args.creditor_id, token, client_identifier=args.client_identifier, vault=vault)
    print(
        f"stored the token of creditor {args.creditor_id.strip()} (fingerprint {fp}, key {vault.key_id}; "
        f"client state {state})"
    )
    return 0


def _rotate(args: argparse.Namespace) -> int:
    from confirma_pipeline.warehouse.connection import connect

    vault = TokenVault.from_env()
    with connect() as conn, conn.transaction():
        count = rotate_key(conn, vault)
    print(f"re-encrypted {count} token(s) with key {vault.key_id}")
    return 0


def _generate(args: argparse.Namespace) -> int:
    print(generate_key())
    return 0


def _list(args: argparse.Namespace) -> int:
    from confirma_pipeline.warehouse.connection import connect
    from confirma_pipeline.warehouse.registry import list_credentials

    with connect() as conn:
        rows = list_credentials(conn)
    print(f"{'creditor_id':<24} {'state':<12} {'token':<10} {'status':<9} expires_at")
    for creditor_id, state, fp, status, expires in rows:
        print(f"{creditor_id:<24} {state:<12} {fp or '-':<10} {status or '-':<9} {expires or ''}")
    return 0
