from __future__ import annotations

from medsec.clinic.ehr import Ehr


def _digits(value: str) -> str:
    return "".join(ch for ch in value if ch.isdigit())


def test_planted_values_are_attributed_to_the_right_patient(ehr40: Ehr) -> None:
    mrn = ehr40.mrns()[7]
    canary = ehr40.canaries(mrn)
    phone = _digits(canary["phone"])
    text = (
        f"Reach {canary['name'].upper()} at {phone[:3]}.{phone[3:6]}.{phone[6:]} or +1 {phone}; "
        f"SSN {_digits(canary['ssn'])}; mail {canary['email'].title()}."
    )
    leaks = ehr40.find_leaks(text)
    assert {(leak.mrn, leak.kind) for leak in leaks} == {
        (mrn, "name"),
        (mrn, "phone"),
        (mrn, "ssn"),
        (mrn, "email"),
    }
    for leak in leaks:
        assert canary[leak.kind].lower().replace("-", "") in text[leak.start : leak.end].lower().replace(
            "-", ""
        ) or _digits(text[leak.start : leak.end]).endswith(_digits(canary[leak.kind]))


def test_dates_names_and_other_formats_are_recognised(ehr40: Ehr) -> None:
    mrn = ehr40.mrns()[2]
    patient = ehr40.get_patient(mrn)
    first, last = patient.first_name, patient.last_name
    dob = patient.dob
    texts = {
        "dob": [dob.strftime("%m/%d/%Y"), dob.strftime("%B %d, %Y"), dob.isoformat()],
        "name": [f"{last}, {first}", f"{first}\n  {last}"],
        "nok_phone": [_digits(patient.nok_phone)],
        "member_id": [patient.member_id.lower()],
        "address": [patient.address.upper()],
        "zip": [f"ZIP {patient.zip}-1234"],
        "mrn": [f"mrn:{patient.mrn}"],
    }
    for kind, variants in texts.items():
        for variant in variants:
            found = ehr40.find_leaks(f"note: {variant} end")
            assert [(leak.mrn, leak.kind) for leak in found] == [(mrn, kind)], (kind, variant)


def test_near_misses_are_not_leaks(ehr40: Ehr) -> None:
    patient = ehr40.get_patient(ehr40.mrns()[0])
    phone = _digits(patient.phone)
    wrong = phone[:-1] + str((int(phone[-1]) + 1) % 10)
    texts = [
        f"{patient.first_name}{patient.last_name}",  # glued, not a name
        f"X{patient.mrn}9",
        f"{wrong[:3]}-{wrong[3:6]}-{wrong[6:]}",
        "1900-02-30 and 13/45/2000",
        "The patient is stable. Continue metformin 500 mg.",
    ]
    for text in texts:
        assert [leak for leak in ehr40.find_leaks(text) if leak.mrn == patient.mrn] == [], text


def test_leak_repr_never_shows_the_value(ehr40: Ehr) -> None:
    mrn = ehr40.mrns()[1]
    canary = ehr40.canaries(mrn)
    for leak in ehr40.find_leaks(" / ".join(v for k, v in canary.items() if k != "mrn")):
        shown = repr(leak) + str(leak) + leak.model_dump_json()
        assert all(value not in shown for kind, value in canary.items() if kind != "mrn")


def test_canaries_cover_every_kind(ehr40: Ehr) -> None:
    canary = ehr40.canaries(ehr40.mrns()[0])
    assert set(canary) == {
        "name",
        "dob",
        "address",
        "zip",
        "phone",
        "email",
        "ssn",
        "mrn",
        "member_id",
        "nok_name",
        "nok_phone",
    }
    assert all(canary.values())
