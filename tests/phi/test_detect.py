"""Detection on clinical sentences written by the medsec developers (no public-dataset text)."""

from __future__ import annotations

import pytest

from medsec.phi import PhiType, detect


def found(text: str) -> dict[str, PhiType]:
    return {text[s.start : s.end]: s.type for s in detect(text)}


@pytest.mark.parametrize(
    ("text", "value", "kind"),
    [
        ("Pt JOHN SMITH seen today.", "JOHN SMITH", PhiType.NAME),
        ("Seen by Dr. Mary O'Brien-Jones for follow up.", "Dr. Mary O'Brien-Jones", PhiType.NAME),
        ("Note by Kevin Nguyen, PA-C.", "Kevin Nguyen", PhiType.NAME),
        ("pt john smith ambulating", "john", PhiType.NAME),
        ("Spoke with daughter Rose at bedside.", "Rose", PhiType.NAME),
        ("Reviewed with Anna K. today.", "Anna K.", PhiType.NAME),
        ("DOB 04/17/1951.", "04/17/1951", PhiType.DATE),
        ("Admitted 17-Apr-1951 from home.", "17-Apr-1951", PhiType.DATE),
        ("Seen on April 17 and again Feb 7.", "April 17", PhiType.DATE),
        ("Seen on April 17 and again Feb 7.", "Feb 7", PhiType.DATE),
        ("Labs drawn 2024-11-21.", "2024-11-21", PhiType.DATE),
        ("Clinic Tue 08/20/2024 at 9am.", "Tue 08/20/2024", PhiType.DATE),
        ("Next visit 04/2025.", "04/2025", PhiType.DATE),
        ("Returned 1/8 with fever.", "1/8", PhiType.DATE),
        ("A 93-year-old woman.", "93", PhiType.AGE),
        ("Call 410-555-0199 ext. 22 after 5.", "410-555-0199 ext. 22", PhiType.PHONE),
        ("Fax: (410) 555-0100.", "(410) 555-0100", PhiType.FAX),
        ("Email jdoe@example.org please.", "jdoe@example.org", PhiType.EMAIL),
        ("SSN 219-09-9999 on file.", "219-09-9999", PhiType.SSN),
        ("Last 4 of SSN 4321 verified.", "4321", PhiType.SSN),
        ("MRN: 00482913 confirmed.", "00482913", PhiType.MRN),
        ("Member ID QX-448812 active.", "QX-448812", PhiType.HEALTH_PLAN),
        ("Acct # 7731-2290 billed.", "7731-2290", PhiType.ACCOUNT),
        ("Plate number 7ABC123 noted.", "7ABC123", PhiType.VEHICLE),
        ("Pacemaker serial # PJN4401923.", "PJN4401923", PhiType.DEVICE),
        ("See https://portal.example.org/x today.", "https://portal.example.org/x", PhiType.URL),
        ("Login from 10.12.0.44 flagged.", "10.12.0.44", PhiType.IP),
        ("Accession # S24-18833 pending.", "S24-18833", PhiType.ID),
        ("Lives at 42 Oak Street, Apt 3.", "42 Oak Street, Apt 3", PhiType.ADDRESS),
        ("Moved from Fresno, CA 93721 last year.", "93721", PhiType.ZIP),
        ("Transferred from Lakeside Regional Hospital.", "Lakeside Regional Hospital", PhiType.FACILITY),
        ("She works at Acme Widgets Inc. as a clerk.", "Acme Widgets Inc.", PhiType.EMPLOYER),
        ("Resident of Kent County since 2001.", "Kent County", PhiType.LOCATION),
        ("Seen at Brigham & Women’s today.", "Brigham & Women’s", PhiType.FACILITY),
        ("Transferred to Cedars Sinai overnight.", "Cedars Sinai", PhiType.FACILITY),
        ("Follow up at Lakeside General Hosp. next week.", "Lakeside General Hosp", PhiType.FACILITY),
        ("Referred to PeaceHealth for PT.", "PeaceHealth", PhiType.FACILITY),
        ("Admitted to BIDMC overnight.", "BIDMC", PhiType.FACILITY),
        ("Seen at the Elmbrook downtown clinic.", "Elmbrook downtown clinic", PhiType.FACILITY),
    ],
)
def test_finds(text: str, value: str, kind: PhiType) -> None:
    assert found(text).get(value) == kind, found(text)


@pytest.mark.parametrize(
    "text",
    [
        "Hx of Parkinson's disease and Bell's palsy; Crohn's flare.",
        "Graves disease on methimazole. Whipple procedure in the past.",
        "Foley catheter placed. Glasgow Coma Scale 14. Apgar 8 and 9.",
        "Cockcroft-Gault CrCl 45 mL/min. PHQ-9 of 12. CHA2DS2-VASc 3.",
        "Lasix 40 mg PO daily, metoprolol 25 mg BID, heparin 5000 units SC.",
        "BP 120/80, HR 72, T 37.2, SpO2 98% on RA. Na 138, K 4.1, Cr 1.2.",
        "85 yo F with HTN since 2019. Room 412, bed 2.",
        "Will continue current plan. Hope to discharge tomorrow. Mark the site.",
        "Take 1/2 tab at night. Strength 5/5 bilaterally. Pain 7/10.",
        "Right 1st CMC joint arthritis. Healthcare proxy present.",
        "What do you think? When do I take it? How do I reset my password?",
        "Where do I go after the scan, and why do I feel dizzy?",
        "How Do I Reset My Password? Well, do you think so? So, do I take it?",
    ],
)
def test_precision_traps(text: str) -> None:
    assert found(text) == {}


@pytest.mark.parametrize(
    "text",
    [
        "Which questions does the Columbia Suicide Severity Rating Scale ask?",
        "The Richmond Agitation-Sedation Scale target is -1; the Boston Naming Test was normal.",
        "MoCA: Montreal Cognitive Assessment 24/30.",
        "Beck Depression Inventory and the Patient Health Questionnaire.",
        "Duke criteria for endocarditis; the San Francisco Syncope Rule; Mayo Clinic criteria.",
    ],
)
def test_instrument_names_are_not_places(text: str) -> None:
    """A place, facility or surname that opens a scale's, score's or rule's name is not PHI."""
    assert found(text) == {}


@pytest.mark.parametrize(
    ("text", "value", "kind"),
    [
        ("He moved to Columbia last year.", "Columbia", PhiType.LOCATION),
        (
            "Seen at Boston Medical Center today. Test results pending.",
            "Boston Medical Center",
            PhiType.FACILITY,
        ),
        ("Transferred from Richmond. Score 3 on the PHQ-2.", "Richmond", PhiType.LOCATION),
        ("Patient John Smith Score: 4", "John Smith Score", PhiType.NAME),
        ("Mr. Harold Finch Test dummy", "Mr. Harold Finch Test", PhiType.NAME),
        ("Referred John Smith for assessment of chest pain.", "Referred John Smith", PhiType.NAME),
        ("John Smith tests positive for influenza A.", "John Smith", PhiType.NAME),
        ("Maria Garcia screening colonoscopy due 2025.", "Maria Garcia", PhiType.NAME),
        ("Patient Ann Lee score 3 on PHQ-9.", "Ann Lee", PhiType.NAME),
        ("Mother Jane Doe in assessment room 4.", "Jane Doe", PhiType.NAME),
        ("Moved from Denver for screening.", "Denver", PhiType.LOCATION),
        ("Seen at Mercy Hospital for assessment.", "Mercy Hospital", PhiType.FACILITY),
    ],
)
def test_instrument_rule_keeps_real_identifiers(text: str, value: str, kind: PhiType) -> None:
    """The instrument rule needs the noun on the same line, not a form label, and no title before."""
    assert found(text).get(value) == kind, found(text)


@pytest.mark.parametrize(
    "text",
    ["Zorblat Quince, md, saw her.", "Zorblat Quince MD saw her.", "Signed: Zorblat Quince DO"],
)
def test_a_credential_marks_a_name_no_lexicon_knows(text: str) -> None:
    assert "Zorblat Quince" in found(text), found(text)


def test_without_a_credential_an_unknown_name_is_not_found() -> None:
    assert found("Zorblat Quince saw her.") == {}  # so the test above pins the credential


def test_spans_are_sorted_and_disjoint() -> None:
    spans = detect("John Smith, MRN 12345678, DOB 01/02/1950, phone 410-555-0100.")
    assert all(a.end <= b.start for a, b in zip(spans, spans[1:], strict=False))


def test_span_repr_has_no_text() -> None:
    text = "Patient Jane Roe"
    assert "Jane" not in repr(detect(text))


def test_iter_spans_matches_detect_across_windows() -> None:
    from medsec.phi import iter_spans

    text = "Seen by Dr. Jane Roe on 04/17/2024, MRN 00482913. " * 40
    assert list(iter_spans(text, window=300, overlap=80)) == detect(text)
