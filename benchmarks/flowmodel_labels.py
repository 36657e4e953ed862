"""Write the labels file the shipped flow model is trained from: the recorded encrypted sessions'
labels (benchmarks/record_encrypted.py) plus captures whose every TCP flow is benign (real-traffic
benchmark captures, the corpus' BENIGN captures), one session per capture.

    python benchmarks/flowmodel_labels.py labels.csv --recorded tests/fixtures/encrypted/labels.csv \\
        --benign-train /tmp/real1.pcap /tmp/real2.pcap --benign-test /tmp/real3.pcap

Benign captures go to the split they are given (train or test), so that a whole capture is held out.
Captures are named by file name in the labels: give `minerwatch model train` the same files.
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

FIELDS = ["capture", "session", "split", "label", "src_ip", "src_port", "dest_ip", "dest_port"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path)
    parser.add_argument(
        "--recorded", type=Path, nargs="*", default=[], help="labels.csv of recorded sessions"
    )
    parser.add_argument("--benign-train", type=Path, nargs="*", default=[])
    parser.add_argument("--benign-test", type=Path, nargs="*", default=[])
    args = parser.parse_args()
    rows = []
    for labels in args.recorded:
        with labels.open(newline="") as f:
            rows.extend({k: row[k] for k in FIELDS} for row in csv.DictReader(f))
    for split, captures in (("train", args.benign_train), ("test", args.benign_test)):
        for capture in captures:
            rows.append({"capture": capture.name, "session": capture.stem, "split": split, "label": "benign"})
    names = [r["capture"] for r in rows]
    with args.out.open("w", newline="") as f:
        writer = csv.DictWriter(f, FIELDS)
        writer.writeheader()
        writer.writerows(rows)
    print(f"{args.out}: {len(rows)} rows, {len(set(names))} captures")


if __name__ == "__main__":
    main()
