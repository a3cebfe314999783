"""Opening databases by URL: clear errors that never show a password."""

from __future__ import annotations

import pytest

from medsec.errors import MedsecError
from medsec.sql import open_engine, shown_url


def test_shown_url_hides_the_password() -> None:
    assert shown_url("postgresql+psycopg://app:hunter2@db.internal:5432/audit") == (
        "postgresql+psycopg://app:***@db.internal:5432/audit"
    )
    assert shown_url("sqlite:///runs.db") == "sqlite:///runs.db"
    assert "hunter2" not in shown_url("::not a url hunter2")


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("not-a-url://app:hunter2@x/y", "not a database URL"),
        ("just text with hunter2", "not a database URL"),
        ("mysql+nosuchdriver://app:hunter2@x/y", "cannot open run store"),
    ],
)
def test_bad_urls_are_clear_errors_without_the_password(url: str, message: str) -> None:
    with pytest.raises(MedsecError, match=message) as caught:
        open_engine(url, "run store")
    assert "hunter2" not in str(caught.value)
