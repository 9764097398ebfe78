"""`confirma-pipeline sandbox ...` and `python -m confirma_pipeline.sandbox ...`: serve the local sandbox."""

from __future__ import annotations

import argparse
import os
from datetime import date
from pathlib import Path

from confirma_pipeline.api.client import is_loopback_host
from confirma_pipeline.errors import OperatorError
from confirma_pipeline.sandbox.control_client import PROVISIONING_TOKEN_ENV


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--host", default="127.0.0.1", help="interface to bind (loopback unless --allow-remote)"
    )
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument(
        "--provisioning-token",
        default=None,
        help=f"the Partner Provisioning Token the sandbox accepts (default: ${PROVISIONING_TOKEN_ENV})",
    )
    parser.add_argument(
        "--state-file", type=Path, default=None, help="JSON file keeping state across restarts"
    )
    parser.add_argument("--latency-ms", type=int, default=0, help="latency added to every partner call")
    parser.add_argument(
        "--rate-limit-per-s", type=float, default=0.0, help="answer 429 above this many partner requests/s"
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the simulation and fault randomness")
    parser.add_argument(
        "--start-date", type=date.fromisoformat, default=None, help="simulated today (YYYY-MM-DD)"
    )
    parser.add_argument(
        "--strict-identifiers", action="store_true", help="check business id/IBAN/reference sums"
    )
    parser.add_argument(
        "--variant",
        action="append",
        default=[],
        help="answer as the real API might where the contract is only chosen (repeatable): "
        "records_key, no_total_count, cut_30_days, accepts_duplicates, unknown_field (see sandbox/variants.py)",
    )
    parser.add_argument("--allow-remote", action="store_true", help="allow binding a non-loopback interface")


def run(args: argparse.Namespace) -> int:
    if not is_loopback_host(args.host) and not args.allow_remote:
        raise OperatorError(
            f"refusing to bind {args.host}: the sandbox is loopback-only unless --allow-remote"
        )
    token = args.provisioning_token or os.environ.get(PROVISIONING_TOKEN_ENV)
    if not token:
        raise OperatorError(
            f"a provisioning token is required (--provisioning-token or ${PROVISIONING_TOKEN_ENV})"
        )
    if args.latency_ms < 0:
        raise OperatorError("--latency-ms must not be negative")
    if args.rate_limit_per_s < 0:
        raise OperatorError("--rate-limit-per-s must not be negative")

    import uvicorn

    from confirma_pipeline.sandbox.app import create_app
    from confirma_pipeline.sandbox.variants import parse_variants

    try:
        variants = parse_variants(args.variant)
    except ValueError as exc:
        raise OperatorError(f"--variant: {exc}") from None
    from confirma_pipeline.sandbox.server import uvicorn_config

    app = create_app(
        token,
        state_file=args.state_file,
        latency_ms=args.latency_ms,
        seed=args.seed,
        start_date=args.start_date,
        strict_identifiers=args.strict_identifiers,
        rate_limit_per_s=args.rate_limit_per_s,
    )
    app.state.sandbox.state.variants = variants
    print(f"confirma sandbox listening on http://{args.host}:{args.port}", flush=True)
    uvicorn.Server(uvicorn_config(app, args.host, args.port)).run()
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "sandbox",
        help="run the local Confirma Partner API sandbox",
        description="Serve a stateful local stand-in for the Confirma Partner API (see /_sandbox/openapi.json).",
    )
    add_arguments(parser)
    parser.set_defaults(func=run)
