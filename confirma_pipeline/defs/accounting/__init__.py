"""Accounting: ledger vouchers and accounting payments sent to the creditor's accounting system through
Confirma's Accounting integrations add-on, and their sync status read back (see README.md)."""
