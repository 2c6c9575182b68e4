#!/usr/bin/env python3
"""skypilot_expect.py - where Stratus must place each file of tests/data/skypilot/.

An independent check of `stratus plan` for the sixteen SkyPilot-format files at
the top of tests/data/skypilot/ (not serve/).  It does not use Stratus's spec
parser: FILES below states, by hand, what each file asks for (read off the
YAML as SkyPilot defines the keys), and the placement is computed here from
the catalog's CSV files, read at run time so that a new catalog needs no edit.

The rule mirrored (README "Planning", src/plan/plan.h), with no org policy:
  - a candidate is an offer x mode: on-demand at price_hour, spot at
    spot_price_hour (an empty price: not sold that way), committed capacity
    from commitments.csv when the catalog has one;
  - it must have the alternative's accelerator (case-insensitive) and exactly
    its count per node, be in its cloud/region/zone and instance type, have
    at least (or, for "N" without "+", exactly) the vCPUs and memory asked
    (0 in the catalog = unknown, not checked), be of the mode use_spot asks
    (unset: either), take the gang (max_cluster_nodes) and fit quotas.csv;
  - its run time is one hour (no stratus.duration) on the first alternative,
    and hours = 1 / speed on the others, speed = a node's throughput over a
    node of the first (count x the per-chip ratio in throughput.csv, `infer`
    for a file with a `service:` section, `train` otherwise; a TPU family row
    covers its slices, chips = size / cores_per_chip; 1 when either is
    unknown or there is no throughput.csv);
  - its expected cost is
        compute    = price x nodes x hours
        preemption = spot only: (e^(L r) (e^(L hours) - 1) / L - hours)
                     x price x nodes, L = nodes x rate, rate from
                     preemption.csv (most specific glob row), no
                     checkpoints (restore r = 0)
        egress     = 0 (no file states a data size)
    and committed capacity costs nothing more;
  - the best candidate has the lowest expected cost, the `ordered`
    position (ordered: list or a list of accelerators) first; ties go to
    cloud, region, zone, instance type, then on-demand before spot before
    committed, then the earlier catalog row.

Usage: skypilot_expect.py --catalog DIR [FILE...]
  prints {"<base name>": {"cloud", "region", "zone", "instance_type",
  "mode", "price_hour", "expected_cost", "alternative", "feasible"}}; with no
  FILE, every file of the table.  A FILE that is not in the table is an error.
  skypilot_expect.py --list prints the table's file names.
"""
import argparse
import csv
import fnmatch
import json
import math
import os
import sys
import time

# ---- what each file asks for (hand-written from the YAML) ----


def alt(acc, count, cloud=None, region=None, zone=None, instance_type=None,
        spot=None, cpus=0, cpus_exact=False, mem=0, mem_exact=False):
    """One alternative set of constraints; None/0 = any."""
    return dict(acc=acc, count=count, cloud=cloud, region=region, zone=zone,
                instance_type=instance_type, spot=spot, cpus=cpus,
                cpus_exact=cpus_exact, mem=mem, mem_exact=mem_exact)


def crossed(accs, **kw):
    """A SkyPilot accelerator set/list: one alternative per NAME:COUNT."""
    return [alt(a, c, **kw) for a, c in accs]


FILES = {
    # accelerators: ['L4:1', 'H100:1', 'A100:1'] -- a list is an order of preference
    "accel_list_ordered.yaml": dict(
        nodes=1, ordered=True,
        alts=crossed([("L4", 1), ("H100", 1), ("A100", 1)])),
    # cpus 8+, memory 32+ merged into each any_of entry; cheapest of the two
    "anyof_infra.yaml": dict(
        nodes=1, ordered=False,
        alts=[alt("A10G", 1, cloud="aws", region="us-west-2", cpus=8, mem=32),
              alt("L4", 1, cloud="gcp", region="us-central1", cpus=8, mem=32)]),
    # bare accelerator name = count 1; cpus 4+; two nodes
    "ddp_torchrun.yaml": dict(
        nodes=2, ordered=False, alts=[alt("L4", 1, cpus=4)]),
    "deepspeed_hostfile.yaml": dict(
        nodes=2, ordered=False, alts=[alt("A100", 1)]),
    # legacy cloud: aws
    "hello_minimal.yaml": dict(
        nodes=1, ordered=False, alts=[alt("A100", 8, cloud="aws")]),
    # ordered: [infra: k8s/onprem-context, infra: gcp]; no Kubernetes is
    # configured here, so the gcp entry is the only one left
    "k8s_then_cloud.yaml": dict(
        nodes=1, ordered=True, alts=[alt("H100", 1, cloud="gcp")]),
    "legacy_cloud_region.yaml": dict(
        nodes=1, ordered=False,
        alts=[alt("A100", 1, cloud="gcp", region="us-central1", spot=True)]),
    "lora_spot_mounts.yaml": dict(
        nodes=1, ordered=False, alts=[alt("A100", 8, spot=True)]),
    "managed_job_recovery.yaml": dict(
        nodes=1, ordered=False, alts=[alt("A100", 8, spot=True)]),
    "ordered_regions.yaml": dict(
        nodes=1, ordered=True,
        alts=[alt("A100", 8, cloud="aws", region="us-east-1"),
              alt("A100", 8, cloud="gcp", region="us-central1"),
              alt("A100", 4, cloud="aws", region="us-west-2"),
              alt("A100", 4, cloud="gcp", region="europe-west4")]),
    # infra: nebius/eu-north1, accelerators {H100:1, H200:1}; disk_size selects nothing
    "set_disk_nebius.yaml": dict(
        infer=True, nodes=1, ordered=False,
        alts=crossed([("H100", 1), ("H200", 1)], cloud="nebius", region="eu-north1")),
    # a set crossed with any_of [use_spot: true, use_spot: false]; two nodes
    "sglang_anyof_spot.yaml": dict(
        infer=True, nodes=2, ordered=False,
        alts=[a for spot in (True, False)
              for a in crossed([("H200", 8), ("H100", 8), ("A100-80GB", 8)], spot=spot)]),
    "tpu_pod.yaml": dict(
        nodes=2, ordered=False, alts=[alt("tpu-v2-8", 1)]),
    "tpu_v6e_secrets.yaml": dict(
        nodes=1, ordered=False, alts=[alt("tpu-v6e-8", 1)]),
    # network_tier: best selects no offer (SkyPilot applies it where it can)
    "vllm_multinode_service.yaml": dict(
        infer=True, nodes=2, ordered=False, alts=[alt("H100", 8, cpus=100, mem=1000)]),
    "vllm_service_set.yaml": dict(
        infer=True, nodes=1, ordered=False,
        alts=crossed([("L4", 1), ("A10G", 1), ("A10", 1), ("A100", 1), ("A100-80GB", 1)])),
}

HOURS = 1.0          # no stratus.duration: costs are for one hour
RESTORE_S = 0.0      # no stratus.checkpoint
DEFAULT_RATE = 0.05  # preemptions per node-hour when no preemption.csv row matches

MODES = ("on-demand", "spot", "committed")  # also the tie-break order

# ---- the catalog ----


def read_csv(path, required=True):
    if not os.path.exists(path):
        if required:
            sys.exit(f"skypilot_expect.py: {path}: no such file")
        return []
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def num(text, empty):
    text = (text or "").strip()
    return empty if text == "" else float(text)


def load_catalog(d):
    offers = []
    for i, r in enumerate(read_csv(os.path.join(d, "offers.csv"))):
        offers.append(dict(
            row=i, cloud=r["cloud"], region=r["region"], zone=r["zone"],
            instance_type=r["instance_type"], acc=r["accelerator"],
            count=num(r["accelerators_per_node"], 0),  # may be fractional
            vcpus=num(r["vcpus"], 0), mem=num(r["memory_gib"], 0),
            max_nodes=int(num(r["max_cluster_nodes"], 0)),
            price=num(r["price_hour"], -1), spot=num(r["spot_price_hour"], -1)))
    rates = []
    for r in read_csv(os.path.join(d, "preemption.csv")):
        pats = [(r[k] or "*").strip() or "*" for k in ("cloud", "region", "accelerator")]
        spec = (pats[0] != "*") * 4 + (pats[1] != "*") * 2 + (pats[2] != "*")
        rates.append((pats, spec, float(r["rate_per_hour"])))
    quotas = [dict(cloud=r["cloud"], region=r["region"], acc=r["accelerator"],
                   limit=int(r["limit"]))
              for r in read_csv(os.path.join(d, "quotas.csv"), required=False)]
    commits = read_csv(os.path.join(d, "commitments.csv"), required=False)
    thr = read_csv(os.path.join(d, "throughput.csv"), required=False)
    return offers, rates, quotas, commits, thr


def unit_thr(thr, acc, infer):
    """Throughput of one accelerator as offers count it (a TPU slice: its
    chips); 0 when unknown."""
    col = "infer" if infer else "train"
    for r in thr:
        if r["accelerator"].lower() == acc.lower() and not r["cores_per_chip"]:
            return num(r[col], 0)
    for r in thr:
        fam = r["accelerator"].lower()
        rest = acc.lower()[len(fam) + 1:]
        if (r["cores_per_chip"] and acc.lower().startswith(fam + "-") and rest.isdigit()):
            return max(1, int(rest) // int(r["cores_per_chip"])) * num(r[col], 0)
    return 0.0


def speed(thr, entry, a):
    """Work per hour of a node of alternative a over one of the first."""
    infer = entry.get("infer", False)
    first = entry["alts"][0]
    ref = unit_thr(thr, first["acc"], infer) * first["count"]
    mine = unit_thr(thr, a["acc"], infer) * a["count"]
    return mine / ref if ref > 0 and mine > 0 else 1.0


def rate_of(rates, o):
    best = None
    for pats, spec, rate in rates:
        if all(p == "*" or fnmatch.fnmatchcase(v, p)
               for p, v in zip(pats, (o["cloud"], o["region"], o["acc"]))):
            if best is None or spec > best[0]:
                best = (spec, rate)
    return best[1] if best else DEFAULT_RATE


def quota_ok(quotas, o, nodes):
    own = [q for q in quotas if q["cloud"] == o["cloud"] and q["acc"] == o["acc"]
           and q["region"] == o["region"]]
    wide = [q for q in quotas if q["cloud"] == o["cloud"] and q["acc"] == o["acc"]
            and q["region"] == "*"]
    q = own[0] if own else (wide[-1] if wide else None)
    return q is None or nodes * o["count"] <= q["limit"]


def day(text):
    text = (text or "").strip()
    if not text:
        return 0.0
    fmt = "%Y-%m-%dT%H:%M:%SZ" if "T" in text else "%Y-%m-%d"
    return float(time.mktime(time.strptime(text, fmt)) - time.timezone)


# ---- the placement ----


def fits(a, o, nodes):
    """1 when offer o meets alternative a (mode aside)."""
    if o["acc"].lower() != a["acc"].lower() or o["count"] != a["count"]:
        return False
    for k in ("cloud", "region", "zone", "instance_type"):
        if a[k] is not None and o[k] != a[k]:
            return False
    for want, exact, have in ((a["cpus"], a["cpus_exact"], o["vcpus"]),
                              (a["mem"], a["mem_exact"], o["mem"])):
        if want > 0 and have > 0 and (have != want if exact else have < want):
            return False
    return not (nodes > 1 and o["max_nodes"] > 0 and nodes > o["max_nodes"])


def expected(price, mode, nodes, rate, hours):
    """(hourly cost, expected cost) of a candidate, as README's cost model."""
    n, d = float(nodes), hours
    hourly = 0.0 if mode == "committed" else price * n
    cost = hourly * d
    if mode == "spot" and rate > 0:
        # no checkpoints: each try runs from the start, after the restore,
        # until one outlasts the run; expected hours of all tries
        lam, r = n * rate, RESTORE_S / 3600.0
        tries_h = math.exp(lam * r) * math.expm1(lam * d) / lam
        cost += (tries_h - d) * price * n
    return hourly, cost


def candidates(a, o, nodes, commits, now):
    """(mode, price) pairs this offer is sold as, under a's use_spot."""
    out = []
    if a["spot"] is not True and o["price"] >= 0:
        out.append(("on-demand", o["price"]))
    if a["spot"] is not False and o["spot"] >= 0:
        out.append(("spot", o["spot"]))
    for c in commits:
        if (c["cloud"], c["region"], c["instance_type"]) != (o["cloud"], o["region"],
                                                             o["instance_type"]):
            continue
        if c["zone"] and c["zone"] != o["zone"]:
            continue
        start, end = day(c["start"]), day(c["end"])
        if (start and now < start) or (end and now >= end) or int(c["count"]) < nodes:
            continue
        if a["spot"] is not True:
            out.append(("committed", float(c["price_hour"])))
    return out


def place(entry, cat, now):
    offers, rates, quotas, commits, thr = cat
    nodes, best, feasible = entry["nodes"], None, 0
    for i, a in enumerate(entry["alts"]):
        hours = HOURS / speed(thr, entry, a)
        for o in offers:
            if not fits(a, o, nodes) or not quota_ok(quotas, o, nodes):
                continue
            for mode, price in candidates(a, o, nodes, commits, now):
                hourly, cost = expected(price, mode, nodes, rate_of(rates, o), hours)
                feasible += 1
                key = (i if entry["ordered"] else 0, cost, o["cloud"], o["region"],
                       o["zone"], o["instance_type"], MODES.index(mode), o["row"])
                if best is None or key < best[0]:
                    best = (key, dict(cloud=o["cloud"], region=o["region"], zone=o["zone"],
                                      instance_type=o["instance_type"], mode=mode,
                                      price_hour=price, hourly_cost=hourly,
                                      expected_cost=cost, alternative=i))
    if best is None:
        return None
    best[1]["feasible"] = feasible
    return best[1]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--catalog", help="the catalog directory (offers.csv, ...)")
    ap.add_argument("--list", action="store_true", help="print the table's files")
    ap.add_argument("files", nargs="*")
    args = ap.parse_args()
    if args.list:
        print("\n".join(sorted(FILES)))
        return 0
    if not args.catalog:
        ap.error("--catalog DIR is required")
    names = [os.path.basename(f) for f in args.files] or sorted(FILES)
    unknown = [n for n in names if n not in FILES]
    if unknown:
        sys.exit("skypilot_expect.py: not in the table: " + ", ".join(unknown))
    cat = load_catalog(args.catalog)
    now = time.time()
    json.dump({n: place(FILES[n], cat, now) for n in names}, sys.stdout, indent=2,
              sort_keys=True)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
