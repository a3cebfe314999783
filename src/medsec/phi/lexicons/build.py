"""Rebuild the name lexicons of this folder from their public-domain sources (a maintainer's tool).

Run ``python -m medsec.phi.lexicons.build CENSUS_DIR WORDS_FILE``, where ``CENSUS_DIR`` holds the US
Census Bureau's 1990 name frequency files (``dist.male.first``, ``dist.female.first``,
``dist.all.last``; public domain, shipped for instance in the ``names`` 0.3.0 sdist) and ``WORDS_FILE``
is an English word list (Debian's ``wamerican``, from SCOWL). Only the derived lists are shipped:
the names, and which names are also everyday English words. Nothing here runs at detection time.
"""

from __future__ import annotations

import sys
from pathlib import Path

SURNAME_RANKS = 50_000
"""Keep the surnames of rank up to this (about 87% of the 1990 population)."""

_HEADER = "# Derived from the US Census Bureau 1990 name frequency files (public domain). {what}\n"


def _names(path: Path, max_rank: int | None = None) -> set[str]:
    out = set()
    for line in path.read_text(encoding="ascii").splitlines():
        parts = line.split()
        if parts and (max_rank is None or int(parts[3]) <= max_rank):
            out.add(parts[0].lower())
    return out


def _write(path: Path, words: set[str], what: str) -> None:
    path.write_text(_HEADER.format(what=what) + "\n".join(sorted(words)) + "\n", encoding="utf-8")


def main(census: Path, words_file: Path) -> None:
    """Write ``first_names.txt``, ``surnames.txt`` and ``name_words.txt`` beside this file.

    Args:
        census: Folder of the census ``dist.*`` files.
        words_file: A word list, one word per line; lowercase entries are taken as everyday words.
    """
    here = Path(__file__).parent
    first = _names(census / "dist.male.first") | _names(census / "dist.female.first")
    last = _names(census / "dist.all.last", SURNAME_RANKS)
    words = {w for w in words_file.read_text(encoding="utf-8").splitlines() if w.isascii() and w.islower()}
    _write(here / "first_names.txt", first, "First names, male and female.")
    _write(here / "surnames.txt", last, f"Surnames of rank <= {SURNAME_RANKS}.")
    _write(
        here / "name_words.txt",
        (first | last) & words,
        "Names that are also everyday English words (per SCOWL's word list); they need context.",
    )


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
