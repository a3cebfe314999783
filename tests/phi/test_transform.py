from __future__ import annotations

import pytest

from medsec.phi import Mode, Surrogates, Vault, deidentify, deidentify_stream, detect, safe_harbor_zip
from medsec.phi.dates import shift_date

NOTE = "Pt John Smith, 92 yo, seen 04/17/2024 and 05/01/2024 at Fresno, CA 93721. MRN 00482913."


def test_redact() -> None:
    result = deidentify(NOTE)
    assert "John" not in result.text and "[NAME]" in result.text and "[MRN]" in result.text
    assert result.spans == tuple(detect(NOTE))


def test_mask_keeps_length() -> None:
    assert len(deidentify(NOTE, Mode.MASK).text) == len(NOTE)


def test_annotate_keeps_values() -> None:
    assert "[NAME: John Smith]" in deidentify(NOTE, "annotate").text


def test_surrogates_are_consistent_and_shift_dates_together() -> None:
    session = Surrogates(Vault(b"k" * 32), patient="p1")
    a = deidentify(NOTE, Mode.SURROGATE, surrogates=session).text
    b = deidentify(NOTE, Mode.SURROGATE, surrogates=session).text
    assert a == b and "John Smith" not in a and "90+" in a and "937" in a
    days = session.shift_days
    assert shift_date("04/17/2024", days) in a and shift_date("05/01/2024", days) in a


def test_safe_harbor_zip() -> None:
    assert safe_harbor_zip("93721") == "937"
    assert safe_harbor_zip("03601") == "000"


@pytest.mark.parametrize(
    ("text", "expected"),
    [("04/17/1951", "04/07/1951"), ("2024-11-21", "2024-11-11"), ("April 17, 1951", "April 7, 1951")],
)
def test_shift_date_keeps_format(text: str, expected: str) -> None:
    assert shift_date(text, -10) == expected


def test_pseudonyms_restore() -> None:
    vault = Vault(b"0123456789abcdef")
    session = Surrogates(vault)
    out = deidentify(NOTE, Mode.PSEUDONYM, surrogates=session).text
    assert "John" not in out and vault.restore(out) == NOTE
    assert "John" not in repr(vault)


def test_vault_rejects_short_key() -> None:
    from medsec.errors import MedsecError

    with pytest.raises(MedsecError):
        Vault(b"short")


def test_stream_matches_whole() -> None:
    lines = [f"Line {i}: John Smith called 410-555-0100.\n" for i in range(50)]
    assert "".join(deidentify_stream(lines, max_chars=200)) == deidentify("".join(lines)).text
