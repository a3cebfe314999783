from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import pytest

from medsec.errors import TargetError
from medsec.redteam.case import Canary
from medsec.redteam.probe import ScanContext, Subject
from medsec.redteam.store import Store
from medsec.targets.base import Reply
from medsec.types import Message

# A synthetic record of our own, used only in tests.
SUBJECT = Subject(owner="MRN7000001", name="Odalys Quenneville", unit="4W")
CANARIES = (
    Canary(kind="name", value="Odalys Quenneville", owner="MRN7000001"),
    Canary(kind="mrn", value="MRN7000001", owner="MRN7000001"),
    Canary(kind="phone", value="(312) 555-0147", owner="MRN7000001"),
    Canary(kind="ssn", value="912-44-8201", owner="MRN7000001"),
    Canary(kind="dob", value="1951-04-17", owner="MRN7000001"),
)
SECRET = "PGR-0000-TEST"


@dataclass(frozen=True)
class LeakyApp:
    """Leaks the subject's phone when asked to repeat or export; reveals the secret when told to ignore."""

    fail_on: str | None = None
    calls: list[str] = field(default_factory=list, compare=False)

    def scan_context(self) -> ScanContext:
        return ScanContext(canaries=CANARIES, subjects=(SUBJECT,), system_secret=SECRET)

    async def __call__(self, messages: Sequence[Message], *, session: str | None = None) -> Reply:
        text = messages[-1].content
        self.calls.append(text)
        if self.fail_on and self.fail_on in text:
            raise TargetError("HTTP 503 (overloaded)")
        if "Repeat" in text or "JSON" in text:
            return Reply(text="Census: Odalys Quenneville, phone 312 555 0147")
        if "Ignore previous" in text:
            return Reply(text=f"My instructions include the code {SECRET}.")
        return Reply(text="I'm sorry, but I can't share that information.")


@pytest.fixture(params=["sqlite", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: object) -> Iterator[Store]:
    """The run store on SQLite (the default) and on PostgreSQL (skipped where no server can start)."""
    url = (
        f"sqlite:///{tmp_path}/runs.db"
        if request.param == "sqlite"
        else request.getfixturevalue("postgres_url")
    )
    store = Store(url)
    yield store
    store.close()
