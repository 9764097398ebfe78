"""The push side, free of Dagster: validate -> map -> send -> record, exactly once.

`onboarding.onboard_clients` creates Confirma clients for new creditors; `invoices.push_invoices`
submits invoices of onboarded clients. Both take plain collaborators (a DSN, an API client, a
token vault, a logger), so the Dagster assets, the CLI (`push --dry-run`, `backfill client`) and
the tests all drive the same code.
"""
