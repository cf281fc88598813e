"""The retraining pipeline's ``Preprocess`` step: raw CSV rows into train, validation and test.

Run by the ``Preprocess`` processing step (``python3 preprocess.py``) on the processing
image, network-isolated; uploaded with the other step scripts by the release workflow
(``mlstack pipeline upload-scripts``), standard library only.

Reads every ``*.csv`` file under ``--input-dir`` (default ``/opt/ml/processing/input``, the
model's ``inputPrefix``), label in the first column, and writes ``train/data.csv``,
``validation/data.csv`` and ``test/data.csv`` under ``--output-dir`` (default
``/opt/ml/processing``) without a header, the layout SageMaker's training containers read.

A row's split is decided by the SHA-256 of its text, not by a random draw: a row stays in
the same split in every run, so as the raw data grows no test row of an earlier run ever
trains a later candidate, and a rerun on the same data gives the same files. Duplicate rows
land in the same split. Defaults: 70 % train, 15 % validation, the rest test.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path

INPUT_DIR = Path("/opt/ml/processing/input")
OUTPUT_DIR = Path("/opt/ml/processing")
SPLITS = ("train", "validation", "test")
BUCKETS = 10_000
"""Resolution of the split fractions (0.01 %)."""


def split_of(row: str, train_fraction: float, validation_fraction: float) -> str:
    """The split ``row`` (one CSV line, without its newline) belongs to."""
    digest = hashlib.sha256(row.encode("utf-8")).digest()
    position = int.from_bytes(digest[:8], "big") % BUCKETS
    if position < round(train_fraction * BUCKETS):
        return "train"
    if position < round((train_fraction + validation_fraction) * BUCKETS):
        return "validation"
    return "test"


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="preprocess.py", description=__doc__.split("\n")[0])
    parser.add_argument("--input-dir", type=Path, default=INPUT_DIR)
    parser.add_argument("--output-dir", type=Path, default=OUTPUT_DIR)
    parser.add_argument("--train-fraction", type=float, default=0.70)
    parser.add_argument("--validation-fraction", type=float, default=0.15)
    parser.add_argument(
        "--header", action="store_true", help="each input file starts with a header row"
    )
    args = parser.parse_args(argv)
    problems = []
    for name in ("train_fraction", "validation_fraction"):
        if not 0 < getattr(args, name) < 1:
            problems.append(f"--{name.replace('_', '-')} = {getattr(args, name)}: give 0-1")
    if args.train_fraction + args.validation_fraction >= 1:
        problems.append("--train-fraction plus --validation-fraction leave no test rows")
    if problems:
        parser.error("; ".join(problems))
    return args


def main(argv: list[str] | None = None) -> dict[str, int]:
    """Split the input; returns the row count of each split. Exit 2 on bad arguments or
    when there is no input to split."""
    args = _arguments(argv)
    files = sorted(p for p in args.input_dir.rglob("*.csv") if p.is_file())
    if not files:
        sys.exit(f"preprocess.py: no *.csv file under {args.input_dir}: check inputPrefix")
    counts = dict.fromkeys(SPLITS, 0)
    outputs = {}
    for split in SPLITS:
        (args.output_dir / split).mkdir(parents=True, exist_ok=True)
        outputs[split] = (args.output_dir / split / "data.csv").open("w", encoding="utf-8")
    try:
        for path in files:
            with path.open(encoding="utf-8") as rows:
                if args.header:
                    next(rows, None)
                for line in rows:
                    row = line.rstrip("\r\n")
                    if not row.strip():
                        continue
                    split = split_of(row, args.train_fraction, args.validation_fraction)
                    outputs[split].write(row + "\n")
                    counts[split] += 1
    finally:
        for handle in outputs.values():
            handle.close()
    empty = [split for split, count in counts.items() if count == 0]
    if empty:
        sys.exit(
            f"preprocess.py: {sum(counts.values())} rows left {', '.join(empty)} empty: "
            "more raw data is needed"
        )
    print(" ".join(f"{split}={count}" for split, count in counts.items()))
    return counts


if __name__ == "__main__":
    main()
