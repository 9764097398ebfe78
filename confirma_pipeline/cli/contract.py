"""`confirma-pipeline contract check [--creditor-id ID]`: a read-only conformance report of the
configured environment's answers against api/contract.py (see contract_check.py)."""

from __future__ import annotations

import argparse
import datetime as dt

from confirma_pipeline.errors import OperatorError

EXIT_CONTRADICTED = 3  # the report names a contradiction: send it to Confirma (README, First day on staging)


def _check(args: argparse.Namespace) -> int:
    from confirma_pipeline import settings
    from confirma_pipeline.api.errors import ConfirmaApiError
    from confirma_pipeline.contract_check import CONTRADICTED, run_check
    from confirma_pipeline.paths import data_dir
    from confirma_pipeline.warehouse import registry, submission_ledger
    from confirma_pipeline.warehouse.client_tokens import load_token
    from confirma_pipeline.warehouse.connection import connect
    from confirma_pipeline.warehouse.source import DEFAULT_CREDITORS, creditor_business_code

    vault = settings.token_vault()
    with connect() as conn:
        ids = [args.creditor_id] if args.creditor_id else None
        ready = registry.onboarded_with_tokens(conn, ids)
        if not ready:
            raise OperatorError(
                f"no usable client token stored{' for ' + args.creditor_id if args.creditor_id else ''}: "
                "onboard a client or import its token (tokens import), then pass --creditor-id"
            )
        creditor_id = ready[0]
        stored = load_token(conn, vault, creditor_id)
        business_id = creditor_business_code(conn, DEFAULT_CREDITORS, creditor_id)
        case_id = submission_ledger.latest_case_id(conn, creditor_id)
    today = dt.datetime.now(dt.timezone.utc).date()
    out_dir = data_dir() / "contract-check" / dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    with settings.api_client() as client:
        try:
            valid = client.validate_token(stored.reveal())
        except ConfirmaApiError as exc:
            raise OperatorError(f"the token of {creditor_id} was refused: {exc}") from None
        if not valid.is_valid:
            raise OperatorError(f"the token of {creditor_id} is not valid: {valid.message}")
        report = run_check(
            client,
            stored.reveal(),
            creditor_id,
            business_id=business_id,
            case_id=case_id,
            today=today,
            out_dir=out_dir,
        )
    for line in report.lines():
        print(line)
    return EXIT_CONTRADICTED if report.count(CONTRADICTED) else 0


def register(subparsers: argparse._SubParsersAction) -> None:
    contract = subparsers.add_parser("contract", help="check the API's answers against api/contract.py")
    actions = contract.add_subparsers(dest="contract_command", metavar="ACTION", required=True)
    check = actions.add_parser(
        "check",
        help="read-only (GETs only): validate the token, call each GET endpoint once, save the answers "
        "(masked) under the data dir, print what they confirm, contradict or leave open",
    )
    check.add_argument("--creditor-id", default=None, help="use this client's token (default: the first one)")
    check.set_defaults(func=_check)
