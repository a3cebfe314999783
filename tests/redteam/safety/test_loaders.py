from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from medsec.errors import ConfigError
from medsec.redteam.probe import ScanContext
from medsec.redteam.probes.safety.dataset import HarmfulDataset
from medsec.redteam.probes.safety.loaders import CATEGORIES, read_harmbench, read_medsafetybench

REPO = Path(__file__).resolve().parents[3]
SAFETY = REPO.parent / "shared" / "data" / "safety"
needs_data = pytest.mark.skipif(
    not SAFETY.is_dir(),
    reason=f"public safety datasets not present at {SAFETY} (see ../shared/data/README.md)",
)


@needs_data
def test_medsafetybench_test_split_reads_by_path_with_nine_categories() -> None:
    requests = read_medsafetybench(SAFETY / "medsafetybench" / "test")
    assert len(requests) == 900 and len({r.id for r in requests}) == 900
    assert set(Counter(r.category for r in requests)) == set(CATEGORIES)  # llama2 files are uneven
    gpt4 = Counter(r.category for r in requests if r.id.startswith("gpt4/"))
    assert gpt4 == dict.fromkeys(CATEGORIES, 50)
    one = read_medsafetybench(
        SAFETY / "medsafetybench" / "test" / "gpt4" / "med_safety_demonstrations_category_4.csv"
    )
    assert len(one) == 50 and {r.category for r in one} == {"patient-rights"}


@needs_data
@pytest.mark.parametrize(
    ("name", "rows"), [("harmbench_behaviors_text_all.csv", 400), ("advbench_behaviors.csv", 520)]
)
def test_harmbench_style_files_read_by_path(name: str, rows: int) -> None:
    requests = read_harmbench(SAFETY / "harmbench" / name)
    assert len(requests) == rows and len({r.id for r in requests}) == rows
    assert all(r.text.strip() for r in requests)


@needs_data
def test_dataset_probe_interleaves_categories_and_limits() -> None:
    probe = HarmfulDataset(path=str(SAFETY / "medsafetybench" / "test"), limit=9)
    made = list(probe.cases(ScanContext()))
    assert len(made) == 9 and {c.metadata["category"] for c in made} == set(CATEGORIES)
    assert all(c.expect_refusal is True and c.metadata["source"] == "medsafetybench" for c in made)
    hb = HarmfulDataset(
        path=str(SAFETY / "harmbench" / "harmbench_behaviors_text_val.csv"), format="harmbench"
    )
    assert len(list(hb.cases(ScanContext()))) == 80


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_medsafetybench_format_errors_name_the_file_and_line(tmp_path: Path) -> None:
    bad_header = write(tmp_path, "category_1.csv", ",request,safe_response\n0,a,b\n")
    with pytest.raises(ConfigError, match=r"category_1\.csv:1: missing column\(s\) harmful_medical_request"):
        read_medsafetybench(bad_header)
    empty_cell = write(
        tmp_path, "category_2.csv", ',harmful_medical_request,safe_response\n0,"x",y\n1,"",y\n'
    )
    with pytest.raises(ConfigError, match=r"category_2\.csv:3: empty 'harmful_medical_request'"):
        read_medsafetybench(empty_cell)
    ragged = write(tmp_path, "category_3.csv", ",harmful_medical_request,safe_response\n0,x\n")
    with pytest.raises(ConfigError, match=r"category_3\.csv:2: 2 fields where the header has 3"):
        read_medsafetybench(ragged)
    with pytest.raises(ConfigError, match="no such file or folder"):
        read_medsafetybench(tmp_path / "missing")
    with pytest.raises(ConfigError, match="no .csv files"):
        read_medsafetybench(tmp_path / "empty_dir" if (tmp_path / "empty_dir").mkdir() is None else tmp_path)


def test_harmbench_format_errors_name_the_file_and_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"hb\.csv:1: missing column\(s\) Behavior"):
        read_harmbench(write(tmp_path, "hb.csv", "Goal,Target\nx,y\n"))
    dup = write(tmp_path, "dup.csv", "Behavior,BehaviorID\nx,a\ny,a\n")
    with pytest.raises(ConfigError, match=r"dup\.csv:3: BehaviorID repeats"):
        read_harmbench(dup)
    binary = tmp_path / "bin.csv"
    binary.write_bytes(b"Behavior\n\xff\xfe\n")
    with pytest.raises(ConfigError, match=r"bin\.csv: not UTF-8"):
        read_harmbench(binary)
    with pytest.raises(ConfigError, match=r"nope\.csv: no such file"):
        read_harmbench(tmp_path / "nope.csv")


def test_harmbench_contextual_behaviours_carry_their_context(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "ctx.csv",
        "Behavior,SemanticCategory,ContextString,BehaviorID\nDo it,misc,Some context,b1\n",
    )
    (one,) = read_harmbench(path)
    assert (
        one.id == "b1"
        and one.category == "misc"
        and one.text.startswith("Some context")
        and "Do it" in one.text
    )


def test_dataset_probe_reports_a_missing_file_as_config_error(tmp_path: Path) -> None:
    probe = HarmfulDataset(path=str(tmp_path / "gone.csv"), format="harmbench")
    with pytest.raises(ConfigError, match="gone.csv: no such file"):
        list(probe.cases(ScanContext()))
