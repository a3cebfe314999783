"""Train the harmful-request classifier: ``python -m medsec.guard.train.harmful [DATA] [--out FILE]``.

The same model and training as the injection classifier (:mod:`medsec.guard.train.build`), on other
labels. Positives: MedSafetyBench's GPT-4 requests (its ``train`` part, see
:func:`medsec.guard.train.corpus.medsafety`) and the harmful requests we wrote
(``harmful_examples.yaml``); negatives: the ``train`` parts of the benign clinical sets (MedQuAD,
PubMedQA, MedQA, MedMCQA, MMLU), WildGuard's benign prompts and our benign clinical questions. The
operating point comes from 5-fold out-of-fold scores on that training part under the injection model's
clinical budget (``CLINICAL_FPR``) and ``GENERAL_FPR`` and ``OURS_FPR`` here. MedSafetyBench's
Llama-2 requests and HarmBench are never read here: ``benchmarks/guard_bench.py`` reports on them.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from medsec.guard.rules import data_path
from medsec.guard.train.build import train
from medsec.guard.train.corpus import Example, medsafety, ours, public

EXAMPLES = "harmful_examples.yaml"
MODEL = "harmful_model.json"
L2 = 2e-6
"""L2 penalty: not tuned for this model (the injection model's value when this one was built)."""
GENERAL_FPR = 0.05
"""WildGuard's benign prompts: general requests, some edgy, that a clinical assistant's users rarely send."""
OURS_FPR = 0.05
"""Our benign look-alikes (a few hundred, most from templates) are written to sit next to harmful requests on
the same topic: at a 1% budget a handful of them would set the threshold."""
NEGATIVE_SOURCES = ("medquad", "pubmedqa", "medqa", "medmcqa", "mmlu", "wildguard")


def harmful_set(data: str | Path) -> list[Example]:
    """Our harmful and benign examples, MedSafetyBench's train part, benign public train parts."""
    positives = [
        Example(id=f"{category}-{i}", text=text, label=1, source="medsafety", kind="harmful", split="train")
        for i, (text, category, split) in enumerate(medsafety(data))
        if split == "train"
    ]
    negatives = [
        e for e in public(data) if e.split == "train" and e.label == 0 and e.source in NEGATIVE_SOURCES
    ]
    return [*ours(EXAMPLES, "harmful"), *positives, *negatives]


def main(argv: Sequence[str] | None = None) -> int:
    """Train, calibrate and write the model."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", nargs="?", default="../shared/data", help="the shared data folder")
    parser.add_argument("--out", default=str(data_path(MODEL)))
    args = parser.parse_args(argv)
    examples = harmful_set(args.data)
    model = train(examples, general_fpr=GENERAL_FPR, ours_fpr=OURS_FPR, l2=L2)
    Path(args.out).write_text(model.to_json() + "\n", encoding="utf-8")
    sys.stderr.write(f"trained on {len(examples)} examples, {len(model.weights)} weights -> {args.out}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
