#!/usr/bin/env python3
"""Copy the hand-kept relative-throughput table into the catalog.

    tools/build_throughput.py [--src catalog/src] [--catalog catalog]

Reads src/throughput.csv (one row per accelerator, each with its source; see
docs/throughput.md), checks every row and writes catalog/throughput.csv with
the same rows in the same order and numbers normalised (at most 4 decimals,
trailing zeros removed), so running it twice changes nothing.  A row must
name an accelerator of src/accelerators.csv, or a TPU family ("tpu-v5p",
with cores_per_chip) that some TPU slice there belongs to; train and infer
are empty (unknown) or positive; the source is not empty.  Any bad row stops
the build with file:line and nothing is written.
"""
import argparse
import csv
import os
import re
import sys

COLUMNS = ["accelerator", "train", "infer", "cores_per_chip", "source", "note"]


def fail(msg):
    print("build_throughput: " + msg, file=sys.stderr)
    sys.exit(1)


def ratio(where, name, text):
    if text == "":
        return ""
    try:
        v = float(text)
    except ValueError:
        fail("%s: %s is not a number: %r" % (where, name, text))
    if not 0 < v <= 1000:
        fail("%s: %s must be in (0, 1000], not %s" % (where, name, text))
    return ("%.4f" % v).rstrip("0").rstrip(".")


def check_row(where, row, accs):
    acc = row["accelerator"]
    fam = row.get("cores_per_chip", "")
    if fam:
        if not re.fullmatch(r"tpu-[a-z0-9]+", acc) or fam not in ("1", "2"):
            fail("%s: cores_per_chip %r is for a TPU family such as tpu-v5p" % (where, fam))
        if not any(a.startswith(acc + "-") and a[len(acc) + 1:].isdigit() for a in accs):
            fail("%s: no TPU slice of family %r in accelerators.csv" % (where, acc))
    elif acc not in accs:
        fail("%s: accelerator %r is not in accelerators.csv" % (where, acc))
    if not row.get("source"):
        fail("%s: the row has no source" % where)
    train = ratio(where, "train", row["train"])
    infer = ratio(where, "infer", row["infer"])
    if train == "" and infer == "":
        fail("%s: neither train nor infer is known" % where)
    return [acc, train, infer, fam, row["source"], row.get("note", "")]


def main():
    ap = argparse.ArgumentParser()
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap.add_argument("--src", default=os.path.join(root, "catalog", "src"))
    ap.add_argument("--catalog", default=os.path.join(root, "catalog"))
    a = ap.parse_args()
    with open(os.path.join(a.src, "accelerators.csv"), newline="") as f:
        accs = {r["accelerator"] for r in csv.DictReader(f)}
    path = os.path.join(a.src, "throughput.csv")
    rows, seen = [], {}
    with open(path, newline="") as f:
        rd = csv.DictReader(f)
        if rd.fieldnames != COLUMNS:
            fail("%s:1: the header must be %s" % (path, ",".join(COLUMNS)))
        for row in rd:
            where = "%s:%d" % (path, rd.line_num)
            if row["accelerator"] in seen:
                fail("%s: %s is already on line %d" % (where, row["accelerator"],
                                                      seen[row["accelerator"]]))
            seen[row["accelerator"]] = rd.line_num
            rows.append(check_row(where, row, accs))
    out = os.path.join(a.catalog, "throughput.csv")
    with open(out + ".tmp", "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(COLUMNS)
        w.writerows(rows)
    os.replace(out + ".tmp", out)
    print("throughput.csv: %d rows" % len(rows))


if __name__ == "__main__":
    main()
