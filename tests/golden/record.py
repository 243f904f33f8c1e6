"""Record what the CLI prints and writes on the sample, normalised, to compare before and after a change.

``python tests/golden/record.py`` prints the record; ``--write`` stores it in
``tests/golden/sample.json``, which ``tests/test_golden.py`` compares with a fresh record. Run
``--write`` only when a change is meant to change results, and say so in the commit.

Normalised: the data file's path, the time of creation and solver seconds (they vary by machine
and run). Exports are recorded by the SHA-256 of their normalised content (every cell of every
sheet, every layer's rows with geometry as WKT), so the record stays small; the JSON outputs are
recorded whole, so a difference shows what changed.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from geo.i18n import LANGS, column_label, label

REPO = Path(__file__).resolve().parents[2]
RECORD = Path(__file__).resolve().parent / "sample.json"
VOLATILE_KEYS = {"data", "out", "data_file", "created_utc", "solve_seconds"}
VOLATILE_SUFFIXES = (".solve_seconds",)
# Exports label their parameter rows in the reader's language (生成时间（UTC）, 市本级 · 求解用时（秒）…).
VOLATILE_KEYS |= {label("parameter", "created_utc", lang) for lang in LANGS}
VOLATILE_SUFFIXES += tuple(f" · {column_label('solve_seconds', lang)}" for lang in LANGS)


def cli(*args: str) -> str:
    """stdout of ``python -m geo ARGS`` run in the repository, on the bundled sample and config."""
    done = subprocess.run(
        [sys.executable, "-m", "geo", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        encoding="utf-8",
        env={**os.environ, "PYTHONHASHSEED": "0"},
        timeout=600,
    )
    if done.returncode != 0:
        raise RuntimeError(f"geo {' '.join(args)} failed: {done.stderr.strip()}")
    return done.stdout


def without_volatile(value):
    if isinstance(value, dict):
        return {k: ("<varies>" if k in VOLATILE_KEYS else without_volatile(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [without_volatile(v) for v in value]
    return value


def _volatile_row(first) -> bool:
    return isinstance(first, str) and (first in VOLATILE_KEYS or first.endswith(VOLATILE_SUFFIXES))


def file_digest(path: Path) -> str:
    """SHA-256 of the file's normalised content."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        text = path.read_bytes().decode("utf-8")
        lines = [line for line in text.splitlines() if not _volatile_row(line.split(",", 1)[0])]
        content = "\n".join(lines)
    elif suffix == ".xlsx":
        import openpyxl

        book = openpyxl.load_workbook(path)
        rows = []
        for sheet in book.worksheets:
            rows.append(["#sheet", sheet.title])
            for row in sheet.iter_rows(values_only=True):
                rows.append(["<varies>"] if row and _volatile_row(row[0]) else [repr(cell) for cell in row])
        content = json.dumps(rows, ensure_ascii=False)
    elif suffix in (".gpkg", ".geojson"):
        import pyogrio
        import shapely

        parts = []
        for name, _ in pyogrio.list_layers(path):
            frame = pyogrio.read_dataframe(path, layer=name) if suffix == ".gpkg" else pyogrio.read_dataframe(path)
            if "geometry" in frame:
                wkt = shapely.to_wkt(frame.geometry.values, rounding_precision=9)
                frame = frame.drop(columns="geometry").assign(geometry_wkt=wkt)
            frame = frame.drop(columns=[c for c in frame.columns if c in VOLATILE_KEYS])
            keep = ~frame.iloc[:, 0].map(_volatile_row) if len(frame.columns) else None
            frame = frame[keep] if keep is not None else frame
            parts.append(f"#layer {name}\n" + frame.to_csv(index=False))
        content = "\n".join(parts)
    else:
        content = path.read_bytes().hex()
    return hashlib.sha256(content.encode("utf-8")).hexdigest()


def record() -> dict:
    result = {}
    for lang in ("zh", "en"):
        result[f"coverage --json --lang {lang}"] = without_volatile(
            json.loads(cli("coverage", "--json", "--lang", lang))
        )
    result["coverage --radius 800 --json"] = without_volatile(json.loads(cli("coverage", "--radius", "800", "--json")))
    for mode in ("rank", "optimal"):
        result[f"plan --mode {mode} --json"] = without_volatile(json.loads(cli("plan", "--mode", mode, "--json")))
    result["plan --program region,city --budget city=800000 --json"] = without_volatile(
        json.loads(cli("plan", "--program", "region,city", "--budget", "city=800000", "--json"))
    )
    files = {}
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder)
        commands = {
            "plan-rank.csv": ["plan", "--out", str(out / "plan-rank.csv")],
            "plan-rank-en.csv": ["plan", "--lang", "en", "--out", str(out / "plan-rank-en.csv")],
            "plan-rank.xlsx": ["plan", "--out", str(out / "plan-rank.xlsx")],
            "plan-optimal.xlsx": ["plan", "--mode", "optimal", "--out", str(out / "plan-optimal.xlsx")],
            "plan-rank.geojson": ["plan", "--out", str(out / "plan-rank.geojson")],
            "plan-rank.gpkg": ["plan", "--out", str(out / "plan-rank.gpkg")],
            "eligibility.csv": ["eligibility", "--out", str(out / "eligibility.csv")],
            "eligibility-en.xlsx": ["eligibility", "--lang", "en", "--out", str(out / "eligibility-en.xlsx")],
            "eligibility-450205.geojson": [
                "eligibility",
                "--district",
                "450205",
                "--out",
                str(out / "eligibility-450205.geojson"),
            ],
            "template.xlsx": ["template", "--out", str(out / "template.xlsx")],
        }
        for name, args in commands.items():
            cli(*args)
            files[name] = file_digest(out / name)
        corpus = REPO / "tests" / "intake_corpus"
        for case in ("csv_name_too_long.csv", "paths_bad_condition.csv"):
            layer = "fitness_paths" if case.startswith("paths") else "communities"
            accepted, rejects = out / f"{case}.gpkg", out / f"{case}.rejects.csv"
            printed = json.loads(
                cli(
                    "import",
                    str(corpus / case),
                    "--layer",
                    layer,
                    "--out",
                    str(accepted),
                    "--rejects",
                    str(rejects),
                    "--json",
                )
            )
            result[f"import {case} --json"] = without_volatile(printed)
            files[f"{case} accepted"] = file_digest(accepted) if accepted.exists() else None
            files[f"{case} rejects"] = file_digest(rejects) if rejects.exists() else None
    result["files"] = files
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help=f"store the record in {RECORD.relative_to(REPO)}")
    args = parser.parse_args()
    text = json.dumps(record(), ensure_ascii=False, indent=1, sort_keys=True) + "\n"
    if args.write:
        RECORD.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)


if __name__ == "__main__":
    main()
