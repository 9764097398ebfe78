"""Each identifier check on known-good and known-bad values."""

from __future__ import annotations

import numpy as np
import pandas as pd

from confirma_pipeline.validation import identifiers as ids


def _check(fn, good, bad):
    values = pd.Series(list(good) + list(bad) + [None], dtype="str")
    result = fn(values)
    assert result.dtype == bool
    assert result.index.equals(values.index)
    expected = [True] * len(good) + [False] * len(bad) + [False]
    assert result.tolist() == expected, list(zip(values.tolist(), result.tolist(), strict=True))


def test_business_id():
    _check(
        ids.is_business_id,
        good=["0646115-8", "1572860-0", "0000000-0", "2617416-4"],
        bad=["123456-7", "1234567-8", "0646115-9", "06461158", "0646115 8", "", "x646115-8", " 0646115-8"],
    )


def test_business_id_remainder_one_is_never_valid():
    # 0000010-? : weighted sum 4*... -> find a base with remainder 1 and check all ten check digits fail
    weights = np.array([7, 9, 10, 5, 8, 4, 2])
    base = next(b for b in range(1000, 2000) if (np.array(list(f"{b:07d}"), int) @ weights) % 11 == 1)
    assert not ids.is_business_id(pd.Series([f"{base:07d}-{d}" for d in range(10)])).any()


def test_iban():
    _check(
        ids.is_iban,
        good=[
            "FI2112345600000785",
            "FI21 1234 5600 0007 85",
            "fi2112345600000785",
            "SE4550000000058398257466",
            "NO9386011117947",
            "DK5000400440116243",
            "DE89370400440532013000",
            "EE382200221020145685",
            "GB29NWBK60161331926819",
        ],
        bad=[
            "FI12345678912345678",  # the docs' seller IBAN: 19 characters and a bad checksum
            "FI2112345600000786",  # checksum
            "FI21123456000007",  # FI length
            "NO93860111179470",  # NO length
            "SE4550000000058398257467",
            "XX57123456789012345",  # mod 97 holds, but XX is no IBAN country
            "GB11123456123456789012",  # mod 97 holds, but a GB BBAN starts with 4 bank letters
            "NL7112345678901234",  # mod 97 holds, but an NL BBAN starts with 4 bank letters
            "XX00",
            "",
        ],
    )


def test_finnish_reference():
    _check(
        ids.is_finnish_reference,
        good=["2516000013", "1337109", "8090801781763", "1232", "12 3453", "00000000000000000000"[:19] + "0"],
        bad=["2516000017", "123", "123456789012345678901", "12a4", "", "1233"],
    )


def test_rf_reference():
    _check(
        ids.is_rf_reference,
        good=["RF18539007547034", "RF18 5390 0754 7034", "rf18539007547034", "RF712348231"],
        bad=[
            "RF71234567890123456789",
            "RF71999999999999999999",
            "RF19539007547034",
            "RF18",
            "2516000013",
            "",
        ],
    )


def test_payment_reference_accepts_either_kind():
    values = pd.Series(["2516000013", "RF18539007547034", "2516000017", "RF19539007547034"])
    assert ids.is_payment_reference(values).tolist() == [True, True, False, False]


def test_postal_code_by_country():
    codes = pd.Series(
        ["00100", "0010", "123 45", "12345", "1234", "0150", "2100", "SW1A 1AA", "", None, "22100"]
    )
    countries = pd.Series(["FI", "FI", "SE", "SE", "NO", "DK", "DK", "GB", "GB", "FI", "AX"])
    assert ids.postal_code_matches_country(codes, countries).tolist() == [
        True, False, True, True, True, True, True, True, False, False, True,
    ]  # fmt: skip
    assert ids.postal_code_matches_country(pd.Series(["12345"]), pd.Series(["NO"])).tolist() == [False]


def test_code_lists():
    _check(
        ids.is_currency,
        good=["EUR", "SEK", "NOK", "DKK", "USD"],
        bad=["eur", "XXX", "XTS", "EURO", "ABC", ""],
    )
    _check(ids.is_country, good=["FI", "SE", "NO", "DK", "AX", "GB"], bad=["fi", "UK", "EU", "FIN", ""])
    # current codes only (pycountry): withdrawn currencies and retired language codes are refused
    _check(ids.is_currency, good=["XCG", "ZWG", "SLE", "VED"], bad=["HRK", "BGN", "ANG", "CUC", "SLL", "ZWL"])
    _check(ids.is_language, good=["da", "sv"], bad=["bh", "DK", "dk"])


def test_language_is_case_insensitive():
    _check(ids.is_language, good=["FI", "fi", "SV", "NO", "EN", "da"], bad=["XX", "FIN", "", "QQ", "DK"])


def test_email_and_url():
    _check(
        ids.is_email,
        good=["email@testcustomer.fi", "matti.meikalainen@buyer.fi", "a+b@sub.example.com"],
        bad=["not-an-email", "a@", "@b.fi", "a b@c.fi", "a@b_c.fi", ""],
    )
    _check(
        ids.is_url,
        good=["https://www.example.fi", "http://example.com/path?q=1#x", "www.firma.fi", "example.fi:8080/x"],
        bad=["not a url", "http://", "https://localhost", "ftp//x", ""],
    )


def test_bic():
    _check(
        ids.is_bic, good=["DABAFIHH", "NDEAFIHHXXX", "OKOYFIHH"], bad=["DABAFIH", "dabafihh", "DABA FIHH", ""]
    )


def test_amount_decimals_and_money_equality():
    values = pd.Series([100.25, 0.1 + 0.2, 1e12 + 0.01, 1.005, 12.345, np.nan, np.inf])
    assert ids.has_max_decimals(values, 2).tolist() == [True, True, True, False, False, False, False]
    assert ids.has_max_decimals(pd.Series([2.125, 2.1255]), 3).tolist() == [True, False]
    assert ids.money_equal([10.0, 10.0, 10.0, np.nan], [10.004, 10.005, 10.006, np.nan]).tolist() == [
        True, True, False, False,
    ]  # fmt: skip
