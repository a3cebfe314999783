"""Rows in and out of the EHR's SQLite file. Values always travel as SQL parameters.

Table and column names in the statements come from this module's constants and the record models'
field names, never from callers.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterator, Sequence
from importlib import resources
from typing import Any

from pydantic import BaseModel

from medsec.clinic.records import Allergy, Clinician, Encounter, Lab, Medication, Note, Patient, Problem, Unit
from medsec.clinic.synth import Chart

SCHEMA_VERSION = "1"
CHILDREN: dict[str, type[BaseModel]] = {
    "problems": Problem,
    "medications": Medication,
    "allergies": Allergy,
    "labs": Lab,
    "encounters": Encounter,
}
"""Child tables of a patient and the record each row holds (the table name is the Patient field)."""

TABLES = ("meta", "units", "clinicians", "patients", *CHILDREN, "notes")
PATIENT_COLUMNS = tuple(name for name in Patient.model_fields if name not in CHILDREN)


def schema() -> str:
    """The DDL of the EHR database."""
    return (resources.files("medsec.clinic") / "data" / "ehr_schema.sql").read_text(encoding="utf-8")


def insert(conn: sqlite3.Connection, table: str, rows: Sequence[dict[str, Any]]) -> None:
    """Insert ``rows`` (all with the same keys) into ``table``."""
    if not rows:
        return
    columns = list(rows[0])
    names = ", ".join(f'"{c}"' for c in columns)
    marks = ", ".join("?" for _ in columns)
    conn.executemany(
        f"INSERT INTO {table} ({names}) VALUES ({marks})", [[r[c] for c in columns] for r in rows]
    )


def _row(model: BaseModel, **extra: Any) -> dict[str, Any]:
    data = model.model_dump(mode="json")
    return {**extra, **{k: int(v) if isinstance(v, bool) else v for k, v in data.items()}}


def write_chart(conn: sqlite3.Connection, chart: Chart) -> None:
    """Create the schema and store a generated chart in ``conn`` (one transaction, the caller commits)."""
    conn.executescript(schema())
    meta = {"schema_version": SCHEMA_VERSION, "seed": str(chart.seed), "as_of": chart.as_of.isoformat()}
    meta["n_patients"] = str(len(chart.patients))
    insert(conn, "meta", [{"key": k, "value": v} for k, v in meta.items()])
    insert(conn, "units", [_row(u) for u in chart.units])
    insert(conn, "clinicians", [_row(c) for c in chart.clinicians])
    insert(conn, "patients", [{c: _row(p)[c] for c in PATIENT_COLUMNS} for p in chart.patients])
    for table in CHILDREN:
        rows = [_row(child, mrn=p.mrn) for p in chart.patients for child in getattr(p, table)]
        insert(conn, table, rows)
    insert(conn, "notes", [{k: v for k, v in _row(n).items() if k != "id"} for n in chart.notes])


def read_meta(conn: sqlite3.Connection) -> dict[str, str]:
    """The ``meta`` table as a dict."""
    return {key: value for key, value in conn.execute("SELECT key, value FROM meta")}


def _dicts(cursor: sqlite3.Cursor) -> Iterator[dict[str, Any]]:
    names = [d[0] for d in cursor.description]
    for values in cursor:
        yield dict(zip(names, values, strict=True))


def read_patient(conn: sqlite3.Connection, mrn: str) -> Patient | None:
    """The patient with ``mrn`` and all their child records, or None."""
    cols = ", ".join(f'"{c}"' for c in PATIENT_COLUMNS)
    row = next(_dicts(conn.execute(f"SELECT {cols} FROM patients WHERE mrn = ?", (mrn,))), None)
    if row is None:
        return None
    for table, model in CHILDREN.items():
        rows = _dicts(conn.execute(f"SELECT * FROM {table} WHERE mrn = ? ORDER BY rowid", (mrn,)))
        row[table] = [{k: v for k, v in r.items() if k in model.model_fields} for r in rows]
    return Patient.model_validate(row)


def read_mrns(conn: sqlite3.Connection, unit: str | None = None) -> list[str]:
    """MRNs in bed order, of one unit or of all."""
    if unit is None:
        return [r[0] for r in conn.execute("SELECT mrn FROM patients ORDER BY rowid")]
    return [r[0] for r in conn.execute("SELECT mrn FROM patients WHERE unit = ? ORDER BY rowid", (unit,))]


def read_units(conn: sqlite3.Connection) -> list[Unit]:
    """All units."""
    return [Unit.model_validate(r) for r in _dicts(conn.execute("SELECT id, name FROM units ORDER BY rowid"))]


def read_clinicians(conn: sqlite3.Connection) -> list[Clinician]:
    """All clinicians."""
    return [Clinician.model_validate(r) for r in _dicts(conn.execute("SELECT * FROM clinicians ORDER BY id"))]


def read_notes(conn: sqlite3.Connection, mrn: str) -> list[Note]:
    """A patient's notes, oldest first."""
    query = "SELECT * FROM notes WHERE mrn = ? ORDER BY written_at, id"
    return [Note.model_validate(r) for r in _dicts(conn.execute(query, (mrn,)))]


def digest(conn: sqlite3.Connection) -> str:
    """SHA-256 of the logical content: every row of every table, in key order, as JSON."""
    sha = hashlib.sha256()
    for table in TABLES:
        for row in conn.execute(f"SELECT * FROM {table} ORDER BY 1"):
            sha.update(json.dumps([table, *row], ensure_ascii=False).encode())
            sha.update(b"\n")
    return sha.hexdigest()
