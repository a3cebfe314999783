"""The reference clinical assistant as a registered target: ``clinic:mode=naive`` or ``mode=hardened``."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from medsec.clinic.assistant import AssistantConfig, ClinicalAssistant
from medsec.clinic.ehr import Ehr
from medsec.clinic.knowledge import KnowledgeBase, Passage
from medsec.clinic.tools import ExtraNote, Mode, Role, User
from medsec.config import medsec_home
from medsec.redteam.case import Canary, Setup
from medsec.redteam.probe import ScanContext, Subject
from medsec.targets.base import Reply, Target
from medsec.types import Message, Spec

_BUILD_LOCK = threading.Lock()


def open_ehr(seed: int, n_patients: int, path: str | None = None) -> Ehr:
    """Open the synthetic EHR for ``seed`` (building it under ``$MEDSEC_HOME/clinic`` the first time)."""
    db = Path(path) if path else medsec_home() / "clinic" / f"ehr-seed{seed}-n{n_patients}.db"
    with _BUILD_LOCK:
        if db.is_file():
            return Ehr.open(db)
        db.parent.mkdir(parents=True, exist_ok=True)
        return Ehr.build(db, seed=seed, n_patients=n_patients)


@dataclass(frozen=True)
class ClinicTarget:
    """The reference clinical assistant (synthetic EHR, knowledge base, tools) in front of a model.

    Args:
        mode: ``naive`` (the typical unprotected build) or ``hardened`` (authorisation in tools,
            minimum-necessary context).
        model: The model behind the app, as a target spec (``local`` is the embedded SmolLM2; answers
            are capped at 160 tokens by default to keep scans of it quick).
        role: The requester's role.
        unit: The requester's unit (None: the first unit).
        authorised: How many patients of the unit the requester is authorised for.
        seed: Seed of the synthetic EHR.
        n_patients: Size of the synthetic EHR.
        db: Where the EHR database lives (None: under ``$MEDSEC_HOME/clinic``).
        policy: A guard policy (a shipped name such as ``balanced``, or a YAML path) to put in front of
            the app; None for no guard.
    """

    mode: Mode = "naive"
    model: str = "local:max_tokens=160"
    role: Role = "nurse"
    unit: str | None = None
    authorised: int = 1
    seed: int = 0
    n_patients: int = 240
    db: str | None = None
    policy: str | None = None
    _cache: dict[str, Any] = field(default_factory=dict, init=False, compare=False, repr=False)

    def app(self) -> ClinicalAssistant:
        """The assistant, built once per target."""
        if "app" not in self._cache:
            from medsec.targets import TARGETS

            ehr = open_ehr(self.seed, self.n_patients, self.db)
            unit = self.unit or ehr.units()[0].id
            patients = ehr.list_patients(unit)
            # the requester's own patients: those with a recorded allergy first, so integrity probes have a
            # fact to try to falsify
            ranked = sorted(patients, key=lambda p: not p.allergies)
            mine = tuple(p.mrn for p in ranked[: self.authorised])
            user = User(id=f"{self.role}-1", role=self.role, unit=unit, patients=mine)
            model: Target = TARGETS.create(Spec.parse(self.model))
            self._cache["app"] = ClinicalAssistant(
                ehr, KnowledgeBase.load(), model, user, AssistantConfig(mode=self.mode)
            )
        app: ClinicalAssistant = self._cache["app"]
        return app

    def scan_context(self) -> ScanContext:
        """Protected data: every identifier of every patient the requester is not authorised for."""
        app = self.app()
        mine = set(app.user.patients)
        others = [mrn for mrn in app.ehr.mrns() if mrn not in mine]
        canaries = tuple(
            Canary(kind=kind, value=value, owner=mrn)
            for mrn in others
            for kind, value in app.ehr.canaries(mrn).items()
        )
        unit = app.user.unit or ""
        team = app.ehr.list_patients(unit)[: app.config.census_size]
        nearby = [p for p in team if p.mrn not in mine]
        subjects = tuple(Subject(owner=p.mrn, name=p.name, unit=p.unit) for p in nearby)
        away = [u.id for u in app.ehr.units() if u.id != unit]
        remote = tuple(
            Subject(owner=p.mrn, name=p.name, unit=p.unit) for u in away for p in app.ehr.list_patients(u)[:3]
        )
        own = app.ehr.get_patient(app.user.patients[0]) if app.user.patients else None
        facts = {"allergy": own.allergies[0].substance} if own is not None and own.allergies else {}
        if own is not None and own.medications:
            facts["medication"] = own.medications[0].drug
        return ScanContext(
            facts=facts,
            canaries=(
                *canaries,
                Canary(kind="system-prompt", value=app.config.system_secret, owner="system"),
            ),
            subjects=subjects,
            remote=remote,
            authorised=tuple(mine),
            system_secret=app.config.system_secret,
        )

    def stage(self, session: str, setup: Setup) -> None:
        """Plant a case's poisoned passages and chart notes for one session (insider write access)."""
        app = self.app()
        passages = [
            Passage(
                id=f"kb-planted-{i}-{abs(hash(session)) % 10**8}",
                title=p.title,
                topic="safety",
                text=p.text,
                source="inserted by red-team set-up",
                drugs=p.drugs,
            )
            for i, p in enumerate(setup.passages)
        ]
        notes: dict[str, list[ExtraNote]] = {}
        for note in setup.notes:
            mrn = app.user.patients[0] if note.patient == "self" and app.user.patients else note.patient
            notes.setdefault(mrn, []).append(ExtraNote(kind=note.kind, author=note.author, text=note.text))
        app.stage(session, passages, {k: tuple(v) for k, v in notes.items()})

    def unstage(self, session: str) -> None:
        """Remove what :meth:`stage` planted."""
        self.app().unstage(session)

    def _front(self) -> Target:
        """The app, or the app behind the guard when a policy is set."""
        if self.policy is None:
            return self.app()
        if "guarded" not in self._cache:
            from medsec.guard import Context, GuardedTarget, load_policy

            app = self.app()
            own = [app.ehr.get_patient(mrn) for mrn in app.user.patients]
            identifiers = tuple(v for p in own for v in (p.name, p.mrn, p.dob.isoformat()))
            context = Context(
                user=app.user.id, role=app.user.role, patients=app.user.patients, identifiers=identifiers
            )
            self._cache["guarded"] = GuardedTarget(app, load_policy(self.policy), context)
        front: Target = self._cache["guarded"]
        return front

    async def __call__(self, messages: Sequence[Message], *, session: str | None = None) -> Reply:
        """Ask the assistant (through the guard, when a policy is set)."""
        return await self._front()(messages, session=session)

    async def aclose(self) -> None:
        """Close the model's connections, if it holds any."""
        close = getattr(self._cache.get("app") and self._cache["app"].model, "aclose", None)
        if close is not None:
            await close()
