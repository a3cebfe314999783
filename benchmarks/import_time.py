"""How long `import medsec` and `medsec --help` take, in fresh interpreters (median of 7 runs).

Writes benchmarks/results/import_time.json. Run: .venv/bin/python benchmarks/import_time.py
"""

from __future__ import annotations

import json
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

RESULTS = Path(__file__).parent / "results" / "import_time.json"


def wall(args: list[str], runs: int = 7) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(args, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    baseline = wall([sys.executable, "-c", "pass"])
    cli = [sys.executable, "-m", "medsec"]
    results = {
        "python_startup_s": round(baseline, 4),
        "import_medsec_s": round(wall([sys.executable, "-c", "import medsec"]) - baseline, 4),
        "cli_help_s": round(wall([*cli, "--help"]) - baseline, 4),
        "taxonomy_json_s": round(wall([*cli, "taxonomy", "-f", "json"]) - baseline, 4),
        "machine": f"{platform.machine()} {platform.python_implementation()} {platform.python_version()}",
        "date": time.strftime("%Y-%m-%d"),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    for key, value in results.items():
        print(f"{key:20} {value}")


if __name__ == "__main__":
    main()
