"""Targets: where attacks are sent and guarded calls go. Every target is a ``Target``.

``TARGETS`` is the registry: ``TARGETS.create("openai:base_url=http://127.0.0.1:8000/v1,model=m")``.
"""

from __future__ import annotations

from medsec.registry import Registry
from medsec.targets.base import ChatSession, Reply, Target, ToolResult, Trace, Usage
from medsec.targets.fake import FakeTarget
from medsec.targets.local_gguf import LocalModel, default_model_path
from medsec.targets.openai import OpenAITarget
from medsec.targets.python import PythonTarget

TARGETS: Registry[Target] = Registry(
    "target",
    {
        "openai": OpenAITarget,
        "local": LocalModel,
        "fake": FakeTarget,
        "python": PythonTarget,
        "clinic": "medsec.clinic.target:ClinicTarget",  # imports the clinic, which imports targets
    },
)

__all__ = [
    "TARGETS",
    "ChatSession",
    "FakeTarget",
    "LocalModel",
    "OpenAITarget",
    "PythonTarget",
    "Reply",
    "Target",
    "ToolResult",
    "Trace",
    "Usage",
    "default_model_path",
]
