-- Schema of the synthetic EHR. Child rows keep their insertion order through INTEGER PRIMARY KEYs.
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE units (id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE);
CREATE TABLE clinicians (
    id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, role TEXT NOT NULL, credentials TEXT NOT NULL,
    unit TEXT NOT NULL REFERENCES units(id)
);
CREATE TABLE patients (
    mrn TEXT PRIMARY KEY, first_name TEXT NOT NULL, last_name TEXT NOT NULL, sex TEXT NOT NULL,
    dob TEXT NOT NULL UNIQUE, address TEXT NOT NULL UNIQUE, city TEXT NOT NULL, state TEXT NOT NULL,
    zip TEXT NOT NULL UNIQUE, phone TEXT NOT NULL UNIQUE, email TEXT NOT NULL UNIQUE, ssn TEXT NOT NULL UNIQUE,
    payer TEXT NOT NULL, member_id TEXT NOT NULL UNIQUE, nok_name TEXT NOT NULL UNIQUE,
    nok_relation TEXT NOT NULL, nok_phone TEXT NOT NULL UNIQUE, unit TEXT NOT NULL REFERENCES units(id),
    room TEXT NOT NULL, attending TEXT NOT NULL, weight_kg REAL NOT NULL, height_cm REAL NOT NULL,
    UNIQUE (first_name, last_name)
);
CREATE TABLE problems (
    id INTEGER PRIMARY KEY, mrn TEXT NOT NULL REFERENCES patients(mrn), code TEXT NOT NULL,
    name TEXT NOT NULL, status TEXT NOT NULL, onset TEXT NOT NULL
);
CREATE TABLE medications (
    id INTEGER PRIMARY KEY, mrn TEXT NOT NULL REFERENCES patients(mrn), drug TEXT NOT NULL,
    amount REAL NOT NULL, unit TEXT NOT NULL, route TEXT NOT NULL, frequency TEXT NOT NULL,
    indication TEXT NOT NULL, prn INTEGER NOT NULL
);
CREATE TABLE allergies (
    id INTEGER PRIMARY KEY, mrn TEXT NOT NULL REFERENCES patients(mrn), substance TEXT NOT NULL,
    reaction TEXT NOT NULL, severity TEXT NOT NULL
);
CREATE TABLE labs (
    id INTEGER PRIMARY KEY, mrn TEXT NOT NULL REFERENCES patients(mrn), test TEXT NOT NULL,
    value REAL NOT NULL, unit TEXT NOT NULL, ref_low REAL, ref_high REAL, collected TEXT NOT NULL
);
CREATE TABLE encounters (
    id TEXT PRIMARY KEY, mrn TEXT NOT NULL REFERENCES patients(mrn), kind TEXT NOT NULL, unit TEXT NOT NULL,
    start TEXT NOT NULL, "end" TEXT, attending TEXT NOT NULL, reason TEXT NOT NULL
);
CREATE TABLE notes (
    id INTEGER PRIMARY KEY AUTOINCREMENT, mrn TEXT NOT NULL REFERENCES patients(mrn), kind TEXT NOT NULL,
    author TEXT NOT NULL, written_at TEXT NOT NULL, text TEXT NOT NULL, origin TEXT NOT NULL
);
CREATE INDEX problems_mrn ON problems (mrn);
CREATE INDEX medications_mrn ON medications (mrn);
CREATE INDEX allergies_mrn ON allergies (mrn);
CREATE INDEX labs_mrn ON labs (mrn);
CREATE INDEX encounters_mrn ON encounters (mrn);
CREATE INDEX notes_mrn ON notes (mrn);
CREATE INDEX patients_unit ON patients (unit);
