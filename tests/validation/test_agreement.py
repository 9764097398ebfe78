"""Local validation and the sandbox judge bodies by the same rules: over a generated corpus of several
thousand create-invoice and create-client bodies (good ones and bad ones of every kind the body shows), a row
is rejected locally exactly when the sandbox (strict identifiers, as Confirma's live checks are assumed to
be) answers it with field errors."""

from __future__ import annotations

import json
from collections import Counter
from decimal import Decimal

import numpy as np

from confirma_pipeline.api.client import encode_body
from confirma_pipeline.mapping.clients import client_bodies
from confirma_pipeline.mapping.invoices import invoice_bodies
from confirma_pipeline.sandbox.validation import validate_client, validate_invoice
from confirma_pipeline.validation import CreditorModel, validate_invoices, validate_with_reasons
from confirma_pipeline.validation.corpus import CREDITOR_KINDS, build_corpus
from confirma_pipeline.validation.samples import sample_creditors


def _as_sent(body: dict) -> dict:
    return json.loads(encode_body(body), parse_float=Decimal)


def test_invoices_local_validation_and_sandbox_agree_row_for_row():
    corpus = build_corpus(3000, 40, nullable=False, creditor_kinds=False, orphan_rows=0)
    excluded = {k for (e, k), (kind, _) in corpus.bad.items() if kind not in corpus.body_kinds}
    invoices = corpus.invoices[~corpus.invoices["invoice_id"].isin(excluded)].reset_index(drop=True)
    assert len(invoices) >= 4000
    rows = corpus.rows[corpus.rows["invoice_id"].isin(invoices["invoice_id"])]
    result = validate_invoices(invoices, rows)
    assert set(result.rejected_df["entity"]) == {"invoice"}
    rejected = set(result.rejected_df["entity_key"])
    bodies = invoice_bodies(invoices, rows, corpus.creditors)
    disagree = []
    for invoice_id, body in zip(invoices["invoice_id"], bodies, strict=True):
        errors, _ = validate_invoice(_as_sent(body), strict=True)
        if bool(errors) != (invoice_id in rejected):
            kind = corpus.bad.get(("invoice", invoice_id), ("good", ""))[0]
            disagree.append((invoice_id, kind, errors.items[:2]))
    assert disagree == [], (Counter(k for _, k, _ in disagree), disagree[:5])
    kinds = {corpus.bad[("invoice", i)][0] for i in rejected}
    assert kinds == set(corpus.body_kinds)  # every kind was exercised, and found by both


def test_clients_local_validation_and_sandbox_agree_row_for_row():
    creditors = sample_creditors(2000, seed=5)
    spoiled = np.arange(0, 2000, 2)
    for j, p in enumerate(spoiled):
        _, column, value, _ = CREDITOR_KINDS[j % len(CREDITOR_KINDS)]
        creditors.at[p, column] = value
    rejected = set(validate_with_reasons(CreditorModel, creditors, ["creditor_id"]).rejected_df["entity_key"])
    assert len(rejected) == len(spoiled)
    disagree = [
        (creditor_id, errors.items[:2])
        for creditor_id, body in zip(creditors["creditor_id"], client_bodies(creditors), strict=True)
        if bool(errors := validate_client(_as_sent(body), strict=True)) != (creditor_id in rejected)
    ]
    assert disagree == [], disagree[:10]
