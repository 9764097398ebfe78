"""The hand-written baseline for pulling payments and settlements: requests + pandas.json_normalize +
DataFrame.to_sql, one client after the other. What an engineer writes in an afternoon; it appends (a rerun
duplicates every row), keeps nothing between fetch and write, and validates nothing.

    pull_all(url, tokens, from_date, to_date, engine)   (tokens: {creditor_id: token})
"""

from __future__ import annotations

import pandas as pd
import requests


def pull_all(url: str, tokens: dict[str, str], from_date: str, to_date: str, engine) -> dict[str, int]:
    session = requests.Session()
    counts = {"payments": 0, "settlements": 0, "allocations": 0}
    params = {"fromDate": from_date, "toDate": to_date}
    for creditor_id, token in tokens.items():
        headers = {"X-Api-Key": token}
        payments = session.get(f"{url}/api/v1/partner/payments", params=params, headers=headers).json()
        if payments:
            frame = pd.json_normalize(payments).assign(creditor_id=creditor_id)
            frame.to_sql(
                "payments", engine, schema="script", if_exists="append", index=False, chunksize=10_000
            )
            counts["payments"] += len(frame)
        answer = session.get(f"{url}/api/v1/partner/settlements", params=params, headers=headers).json()
        settlements = answer.get("settlements") or []
        if settlements:
            heads = (
                pd.json_normalize(settlements).drop(columns=["allocations"]).assign(creditor_id=creditor_id)
            )
            heads.to_sql("settlements", engine, schema="script", if_exists="append", index=False)
            allocations = pd.json_normalize(settlements, record_path="allocations", meta=["settlementId"])
            allocations = allocations.drop(columns=["breakdown"])
            allocations.to_sql("allocations", engine, schema="script", if_exists="append", index=False)
            counts["settlements"] += len(heads)
            counts["allocations"] += len(allocations)
    return counts
