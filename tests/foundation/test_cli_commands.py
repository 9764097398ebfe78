"""Every command group is registered by a static import: a renamed or broken module fails loudly."""

from __future__ import annotations

from confirma_pipeline.cli import build_parser


def test_every_command_group_is_registered():
    parser = build_parser()
    (subparsers,) = (a for a in parser._actions if a.dest == "command")
    assert set(subparsers.choices) == {
        "warehouse", "sandbox", "tokens", "clients", "push", "actions", "backfill", "contract",
        "accounting", "demo", "ui", "status",
    }  # fmt: skip
