"""`confirma-pipeline actions list [--state S]` and `actions resolve --action-id ID --sent|--not-sent`.

An invoice action whose answer was lost stays `in_flight` and is never resent by the pipeline (a DIRECTPAYMENT
sent twice would record the payment twice). Where its effect does not show in the case details, an operator
checks with the agency and settles it here."""

from __future__ import annotations

import argparse

from confirma_pipeline.errors import OperatorError
from confirma_pipeline.warehouse.action_ledger import STATES


def _list(args: argparse.Namespace) -> int:
    from confirma_pipeline.warehouse.action_ledger import list_actions
    from confirma_pipeline.warehouse.connection import connect

    with connect() as conn:
        rows = list_actions(conn, args.state)
    for action_id, code, creditor_id, number, case_id, state, attempts, settled_by, note in rows:
        print(
            f"{action_id}\t{code}\t{state}\tcreditor={creditor_id or '-'}\tinvoice={number or '-'}\t"
            f"case={case_id or '-'}\tattempts={attempts}\tsettled_by={settled_by or '-'}\t{note or ''}"
        )
    return 0


def _resolve(args: argparse.Namespace) -> int:
    from confirma_pipeline.warehouse.action_ledger import resolve
    from confirma_pipeline.warehouse.connection import connect

    with connect() as conn:
        try:
            message = resolve(conn, args.action_id, sent=args.sent)
        except LookupError as exc:
            raise OperatorError(str(exc)) from None
    print(f"action {args.action_id}: {message}")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    actions = subparsers.add_parser("actions", help="inspect and settle invoice actions")
    commands = actions.add_subparsers(dest="actions_command", metavar="ACTION", required=True)
    listing = commands.add_parser("list", help="list invoice actions and their states")
    listing.add_argument("--state", choices=STATES, default=None, help="only actions in this state")
    listing.set_defaults(func=_list)
    resolve = commands.add_parser("resolve", help="settle an action whose outcome is unknown (in_flight)")
    resolve.add_argument("--action-id", required=True)
    outcome = resolve.add_mutually_exclusive_group(required=True)
    outcome.add_argument("--sent", action="store_true", help="the agency has it: never send it again")
    outcome.add_argument("--not-sent", action="store_true", help="the agency does not have it: send it again")
    resolve.set_defaults(func=_resolve)
