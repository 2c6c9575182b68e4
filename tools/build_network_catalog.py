#!/usr/bin/env python3
"""Build the region and network files of Stratus' bundled catalog.

Development-time tool (Python 3 standard library only).  It reads the public
reference data in shared/data (see each folder's SOURCE.md) and the hand-kept
inputs in catalog/src/, and writes into catalog/:

  regions.csv        cloud,region,latitude,longitude,continent
  latency.csv        src_cloud,src_region,dst_cloud,dst_region,rtt_ms
  latency_model.csv  intercept_ms,ms_per_km,fit_pairs,r2,median_abs_error_ms
  egress.csv         kind,src_cloud,src_region,dst_cloud,dst_region,price_per_gb,note
  preemption.csv     cloud,region,accelerator,rate_per_hour,source
  storage.csv        cloud,price_per_gb_month,note (object storage, per cloud)

Output is deterministic (sorted rows, fixed number formats).  The tool fails
when catalog/offers.csv names a region that regions.csv would not have, so the
importer's output and this tool's cannot drift apart.  Run it through
tools/regenerate-catalog.sh; catalog/SOURCE.md explains every step.
"""

import argparse
import csv
import glob
import json
import math
import os
import statistics
import sys

CLOUDS = ("aws", "azure", "gcp", "lambda", "nebius", "oci")
EARTH_KM = 6371.0  # the same mean radius as geo_km() in src/catalog/catalog_net.c

# Country code (as in the coordinate sources, so "uk" rather than "gb") to the
# continent names of catalog.h.  Countries of the Arabian peninsula, the Gulf
# and Israel are "middle-east".
CONTINENT = {
    "za": "africa", "ma": "africa", "eg": "africa", "ng": "africa", "ke": "africa",
    "hk": "asia", "jp": "asia", "kr": "asia", "in": "asia", "sg": "asia",
    "id": "asia", "tw": "asia", "my": "asia", "cn": "asia", "th": "asia",
    "de": "europe", "ch": "europe", "se": "europe", "it": "europe", "es": "europe",
    "ie": "europe", "uk": "europe", "gb": "europe", "fr": "europe", "nl": "europe",
    "be": "europe", "fi": "europe", "pl": "europe", "no": "europe", "at": "europe",
    "dk": "europe",
    "il": "middle-east", "ae": "middle-east", "bh": "middle-east", "qa": "middle-east",
    "sa": "middle-east",
    "us": "north-america", "ca": "north-america", "mx": "north-america",
    "au": "oceania", "nz": "oceania",
    "br": "south-america", "cl": "south-america", "co": "south-america",
}


def fail(msg):
    sys.exit("build_network_catalog: " + msg)


def num(x, places=4):
    """A number as the shortest decimal with at most `places` places."""
    s = ("%." + str(places) + "f") % x
    s = s.rstrip("0").rstrip(".") if "." in s else s
    return "0" if s in ("-0", "") else s


def read_csv(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def write_csv(path, header, rows):
    tmp = path + ".tmp"
    with open(tmp, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)
    os.replace(tmp, path)


def km(a, b):
    """Great-circle distance in km between two (lat, lon) points (haversine)."""
    rad = math.pi / 180.0
    dlat, dlon = (b[0] - a[0]) * rad, (b[1] - a[1]) * rad
    h = (math.sin(dlat / 2) ** 2 +
         math.cos(a[0] * rad) * math.cos(b[0] * rad) * math.sin(dlon / 2) ** 2)
    return 2 * EARTH_KM * math.asin(min(1.0, math.sqrt(h)))


# ---- regions ----

def excluded(cloud, region):
    """Regions outside the public commercial partitions: AWS China and GovCloud,
    Azure's EUAP canary regions (not open to customers)."""
    return ((cloud == "aws" and (region.startswith("cn-") or region.startswith("us-gov-")))
            or (cloud == "azure" and region.endswith("euap")))


def build_regions(net, src, report):
    """(cloud, region) -> dict(lat, lon, country, origin)."""
    regions = {}
    for r in read_csv(os.path.join(net, "cloud_region_coordinates.csv")):
        cloud = "oci" if r["provider"] == "oracle" else r["provider"]
        if cloud not in CLOUDS or excluded(cloud, r["region"]) or not r["lat"]:
            continue  # (aws/eu-south-2 has no coordinates there: regions_extra.csv)
        regions[(cloud, r["region"])] = {
            "lat": float(r["lat"]), "lon": float(r["lon"]),
            "country": r["country_tld"], "origin": "dgl"}
    with open(os.path.join(net, "azure_region_coordinates_azscout.json"), encoding="utf-8") as f:
        az = json.load(f)
    for name, v in az.items():  # newer than dgl/cloud-regions: takes precedence
        old = regions.get(("azure", name), {})
        regions[("azure", name)] = {"lat": float(v["lat"]), "lon": float(v["lon"]),
                                    "country": old.get("country", ""), "origin": "azscout"}
    for r in read_csv(os.path.join(src, "regions_extra.csv")):
        key = (r["cloud"], r["region"])
        if r["latitude"]:
            if key in regions:
                fail("regions_extra.csv: %s/%s already has coordinates" % key)
            regions[key] = {"lat": float(r["latitude"]), "lon": float(r["longitude"]),
                            "country": r["country"], "origin": "extra"}
        elif key in regions:
            regions[key]["country"] = r["country"]
        else:
            fail("regions_extra.csv: %s/%s has no coordinates anywhere" % key)
    for key, v in regions.items():
        if v["country"] not in CONTINENT:
            fail("region %s/%s: no continent for country '%s' (add it to regions_extra.csv)"
                 % (key[0], key[1], v["country"]))
        v["continent"] = CONTINENT[v["country"]]
    report["regions"] = regions
    return regions


def check_offer_regions(catalog, regions):
    path = os.path.join(catalog, "offers.csv")
    missing = sorted({(r["cloud"], r["region"]) for r in read_csv(path)} - set(regions))
    if missing:
        fail("offers.csv regions without coordinates: %s; add them to catalog/src/"
             "regions_extra.csv with a source" % ", ".join("/".join(m) for m in missing))


# ---- latency ----

def gcp_latency(net, regions, dropped):
    rows = []
    for r in read_csv(os.path.join(net, "gcp_inter_region_rtt_ms.csv")):
        a, b = ("gcp", r["src_region"]), ("gcp", r["dst_region"])
        if a not in regions or b not in regions:
            dropped.add(("gcp", r["src_region"] if a not in regions else r["dst_region"]))
            continue
        rows.append((a, b, float(r["median_rtt_ms"])))
    return rows


def azure_latency(net, regions, dropped):
    with open(os.path.join(net, "azure_region_coordinates_azscout.json"), encoding="utf-8") as f:
        by_display = {v["displayName"]: k for k, v in json.load(f).items()}
    rows = []
    with open(os.path.join(net, "azure_latency_matrix_azscout.csv"), newline="",
              encoding="utf-8") as f:
        table = list(csv.reader(f))
    header = table[0][1:]
    for line in table[1:]:
        src = by_display.get(line[0])
        for dst_name, cell in zip(header, line[1:]):
            dst = by_display.get(dst_name)
            if src is None or dst is None:
                dropped.add(("azure", line[0] if src is None else dst_name))
                continue
            if cell.strip() == "":
                continue  # no data for this pair
            a, b = ("azure", src), ("azure", dst)
            if a not in regions or b not in regions:
                dropped.add(("azure", src if a not in regions else dst))
                continue
            rows.append((a, b, float(cell)))
    return rows, by_display


def cosmos_crosscheck(net, az_rows, by_display):
    """Median |azscout - Cosmos SDK| over the pairs both tables have."""
    cosmos = {}
    for r in read_csv(os.path.join(net, "azure_inter_region_rtt_ms_cosmos_sdk.csv")):
        a, b = by_display.get(r["src_region"]), by_display.get(r["dst_region"])
        if a and b:
            cosmos[(a, b)] = float(r["rtt_ms"])
    diffs = [abs(v - cosmos[(a[1], b[1])]) for a, b, v in az_rows if (a[1], b[1]) in cosmos]
    return len(diffs), (statistics.median(diffs) if diffs else float("nan"))


def fit_latency(rows, regions):
    """Least squares rtt = intercept + ms_per_km * km on off-diagonal pairs."""
    pts = [(km((regions[a]["lat"], regions[a]["lon"]), (regions[b]["lat"], regions[b]["lon"])), v)
           for a, b, v in rows if a != b]
    n = len(pts)
    mx = sum(p[0] for p in pts) / n
    my = sum(p[1] for p in pts) / n
    sxx = sum((p[0] - mx) ** 2 for p in pts)
    sxy = sum((p[0] - mx) * (p[1] - my) for p in pts)
    slope = sxy / sxx
    icpt = my - slope * mx
    ss_res = sum((p[1] - icpt - slope * p[0]) ** 2 for p in pts)
    ss_tot = sum((p[1] - my) ** 2 for p in pts)
    mae = statistics.median(abs(p[1] - icpt - slope * p[0]) for p in pts)
    return {"intercept": icpt, "slope": slope, "n": n, "r2": 1 - ss_res / ss_tot, "mae": mae}


# ---- egress ----

def build_egress(src, regions):
    rows = []
    for r in read_csv(os.path.join(src, "egress_prices.csv")):
        for c, reg in ((r["src_cloud"], r["src_region"]), (r["dst_cloud"], r["dst_region"])):
            if reg and "*" not in reg and (c, reg) not in regions:
                fail("egress_prices.csv: unknown region %s/%s" % (c, reg))
        rows.append([r["kind"], r["src_cloud"], r["src_region"], r["dst_cloud"],
                     r["dst_region"], r["price_per_gb"], r["note"]])
    note = ("Oracle Interconnect for Microsoft Azure between paired regions: Oracle charges "
            "nothing for the interconnect ports or the data over it; the Azure side needs an "
            "ExpressRoute circuit, which on a Local or Unlimited plan has a fixed fee and no "
            "per-GB charge (a Metered plan would add one); pair list: %s")
    for r in read_csv(os.path.join(src, "azure_oci_interconnect.csv")):
        a, o = ("azure", r["azure_region"]), ("oci", r["oci_region"])
        for key in (a, o):
            if key not in regions:
                fail("azure_oci_interconnect.csv: unknown region %s/%s" % key)
        rows.append(["inter_cloud", "azure", a[1], "oci", o[1], "0", note % r["source"]])
        rows.append(["inter_cloud", "oci", o[1], "azure", a[1], "0", note % r["source"]])
    return rows


# ---- storage ----

def build_storage(src):
    rows = []
    for r in read_csv(os.path.join(src, "storage_prices.csv")):
        if float(r["price_per_gb_month"]) < 0:
            fail("storage_prices.csv: negative price for %s" % r["cloud"])
        rows.append([r["cloud"], r["price_per_gb_month"], r["note"]])
    return rows


# ---- preemption ----

def trace_events(path):
    """(preemptions, held node-hours) of one SkyPilot spot trace.

    1-node traces: 1 = not available / preempted, 0 = held; a preemption is a
    0 -> 1 step.  16-node traces: the number of spot VMs held; every unit of
    decrease is one VM lost."""
    with open(path, encoding="utf-8") as f:
        d = json.load(f)
    gap_h = d["metadata"]["gap_seconds"] / 3600.0
    x = d["data"]
    if max(x) <= 1 and "16-node" not in path:
        held = sum(1 for v in x if v == 0) * gap_h
        events = sum(1 for a, b in zip(x, x[1:]) if a == 0 and b == 1)
    else:
        held = sum(x) * gap_h
        events = sum(a - b for a, b in zip(x, x[1:]) if b < a)
    return events, held


def build_preemption(spot, report):
    used = (sorted(glob.glob(os.path.join(spot, "preemption/1-node/aws-04-22-2023/*.json"))) +
            sorted(glob.glob(os.path.join(spot, "availability/16-node/aws-08-27-2023/*.json"))))
    if not used:
        fail("no spot traces under %s" % spot)
    per_file = []
    for p in used:
        ev, held = trace_events(p)
        per_file.append((os.path.relpath(p, spot), ev, held))
    events = sum(f[1] for f in per_file)
    held = sum(f[2] for f in per_file)
    rate = events / held
    report["preempt_files"] = per_file
    report["preempt_rate"] = (events, held, rate)
    derived = ("derived from SkyPilot spot-traces (github.com/skypilot-org/spot-traces @221da1a): "
               "%d preemptions over %.0f held node-hours of AWS p3.2xlarge (V100) spot in "
               "us-east-1/us-east-2/us-west-2, 2023 (1-node preemption traces of 2023-04-22 "
               "and 16-node traces of 2023-08-27); see catalog/SOURCE.md" % (events, held))
    assumed = ("no public GPU spot preemption trace for %s: assumed equal to the AWS GPU rate "
               "derived from SkyPilot's traces (conservative; see catalog/SOURCE.md)")
    gcp = ("the only GCP traces (c3-highcpu-88, CPU, 2023-04-30) held a spot VM in 0-4.6% "
           "of ticks, too little to measure preemptions; assumed equal to the AWS GPU rate")
    r = num(rate, 3)
    return [
        ["*", "*", "*", r, assumed % "this cloud"],
        ["aws", "*", "*", r, derived],
        ["azure", "*", "*", r, assumed % "Azure"],
        ["gcp", "*", "*", r, gcp],
        # Lambda sells no spot capacity (no spot price in its file): no row.
        ["nebius", "*", "*", r, assumed % "Nebius (preemptible H100/H200 VMs)"],
        ["oci", "*", "*", r, assumed % "OCI"],
    ]


# ---- main ----

def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", default=os.environ.get("SHARED_DATA",
                                                     os.path.join(root, "..", "shared", "data")),
                    help="the shared reference data (default $SHARED_DATA or ../shared/data)")
    ap.add_argument("--catalog", default=os.path.join(root, "catalog"),
                    help="the catalog to write (default: the repository's catalog/)")
    args = ap.parse_args()
    net = os.path.join(args.data, "traces", "network-latency-and-regions")
    spot = os.path.join(args.data, "traces", "spot-availability-skypilot")
    src = os.path.join(args.catalog, "src")
    report = {}

    regions = build_regions(net, src, report)
    check_offer_regions(args.catalog, regions)
    write_csv(os.path.join(args.catalog, "regions.csv"),
              ["cloud", "region", "latitude", "longitude", "continent"],
              [[c, r, num(v["lat"]), num(v["lon"]), v["continent"]]
               for (c, r), v in sorted(regions.items())])

    dropped = set()
    lat = gcp_latency(net, regions, dropped)
    az_rows, by_display = azure_latency(net, regions, dropped)
    lat += az_rows
    lat.sort()
    write_csv(os.path.join(args.catalog, "latency.csv"),
              ["src_cloud", "src_region", "dst_cloud", "dst_region", "rtt_ms"],
              [[a[0], a[1], b[0], b[1], num(v, 3)] for a, b, v in lat])
    fit = fit_latency(lat, regions)
    write_csv(os.path.join(args.catalog, "latency_model.csv"),
              ["intercept_ms", "ms_per_km", "fit_pairs", "r2", "median_abs_error_ms"],
              [[num(fit["intercept"], 3), num(fit["slope"], 6), fit["n"], num(fit["r2"], 4),
                num(fit["mae"], 2)]])

    egress = build_egress(src, regions)
    write_csv(os.path.join(args.catalog, "egress.csv"),
              ["kind", "src_cloud", "src_region", "dst_cloud", "dst_region", "price_per_gb",
               "note"], egress)

    storage = build_storage(src)
    write_csv(os.path.join(args.catalog, "storage.csv"),
              ["cloud", "price_per_gb_month", "note"], storage)

    pre = build_preemption(spot, report)
    write_csv(os.path.join(args.catalog, "preemption.csv"),
              ["cloud", "region", "accelerator", "rate_per_hour", "source"], pre)

    nx, mdiff = cosmos_crosscheck(net, az_rows, by_display)
    per_cloud = {c: sum(1 for k in regions if k[0] == c) for c in CLOUDS}
    print("regions.csv: %d regions (%s)" % (len(regions), ", ".join(
        "%s %d" % (c, per_cloud[c]) for c in CLOUDS)))
    print("latency.csv: %d measured pairs (gcp %d, azure %d); regions without coordinates, "
          "their pairs dropped: %s" % (len(lat), len(lat) - len(az_rows), len(az_rows),
                                       ", ".join("/".join(d) for d in sorted(dropped)) or "none"))
    print("latency_model.csv: rtt = %.3f ms + %.6f ms/km x km over %d off-diagonal pairs; "
          "r2 = %.4f, median |error| = %.2f ms" % (fit["intercept"], fit["slope"], fit["n"],
                                                   fit["r2"], fit["mae"]))
    print("azure cross-check: azscout vs Cosmos SDK table on %d common pairs: median |diff| "
          "= %.1f ms" % (nx, mdiff))
    print("egress.csv: %d rules" % len(egress))
    print("storage.csv: %d clouds" % len(storage))
    ev, held, rate = report["preempt_rate"]
    print("preemption.csv: %d preemptions / %.1f held node-hours = %.3f per node-hour" %
          (ev, held, rate))
    for f, e, h in report["preempt_files"]:
        print("  %-55s %5d / %7.1f h = %.3f" % (f, e, h, e / h if h else float("nan")))


if __name__ == "__main__":
    main()
