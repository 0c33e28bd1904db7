#!/usr/bin/env python3
"""bench/measure_report.py - time `pim report` against one sqlite3 aggregate.

usage: measure_report.py --pim PIM --runner RUNNER --sqlite3 SQLITE3
                         --schema FILE --mapping FILE [--runs N]
                         [--workdir DIR] [--results FILE] CSV...

Builds, once and untimed, a catalog from the largest CSV file (pim init
--schema FILE, then pim import -q -m MAPPING CSV, as measure_list.py does)
and, in a copy of it, the reference table: the product table copied into a
plain table `plain` without any index. Then runs side by side and
interleaved, N times each (default 3):
  report     pim --db CAT report --format json     (the full report, channel
                                                     readiness included)
  reference  sqlite3 REF "SELECT count(*), sum(coalesce(name, '') = ''),
                          count(DISTINCT gtin) FROM plain"
Every run goes through RUNNER (bench/runner.c) with stdout on /dev/null;
wall time is the best of N, CPU time (user + system) the least, peak RSS
the largest. Checked once: the report's product count is the catalog's.

Target: report / reference <= 1.0 (wall time). The CPU ratio is reported
too: on a loaded machine it is the steadier figure.
Exit status: 0 when the benchmark ran (met or not), 3 when a program or a
check failed.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True   # no __pycache__ in bench/
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from measure import BenchError, cpu_model, run_cpu  # noqa: E402
from measure_import import check_output, clean_env, new_catalog  # noqa: E402

TARGET = 1.0


def main(argv):
    ap = argparse.ArgumentParser()
    ap.add_argument("--pim", required=True)
    ap.add_argument("--runner", required=True)
    ap.add_argument("--sqlite3", default="sqlite3")
    ap.add_argument("--schema", required=True)
    ap.add_argument("--mapping", required=True)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--workdir", default=None)
    ap.add_argument("--results", default=None)
    ap.add_argument("files", nargs="+")
    a = ap.parse_args(argv)
    env = clean_env()
    big = max(a.files, key=os.path.getsize)
    work = tempfile.mkdtemp(prefix="report-", dir=a.workdir)
    out = []
    try:
        cat = os.path.join(work, "catalog.db")
        ref = os.path.join(work, "reference.db")
        t0 = time.time()
        new_catalog(a.pim, a.schema, cat, env)
        subprocess.run([a.pim, "-q", "--db", cat, "import", "-m", a.mapping,
                        big], env=env, stdin=subprocess.DEVNULL,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        shutil.copyfile(cat, ref)
        check_output([a.sqlite3, ref,
                      "CREATE TABLE plain AS SELECT * FROM product;"
                      " ALTER TABLE plain RENAME COLUMN \"name@nb_NO\" TO name;"
                      " VACUUM;"], env, "making the reference table")
        n = int(check_output([a.sqlite3, "-readonly", cat,
                              "SELECT count(*) FROM product"], env,
                             "counting").strip())
        setup = time.time() - t0
        rep = json.loads(check_output([a.pim, "--db", cat, "report",
                                       "--format", "json"], env, "pim report"))
        if rep["products"] != n:
            raise BenchError("pim report counted %s products, the catalog has %d"
                             % (rep["products"], n))
        sql = ("SELECT count(*), sum(coalesce(name, '') = ''), "
               "count(DISTINCT gtin) FROM plain;")
        runs = {"report": [], "reference": []}
        for _ in range(a.runs):
            runs["reference"].append(run_cpu(
                a.runner, [a.sqlite3, "-readonly", ref, sql], (0,),
                "sqlite3", env))
            runs["report"].append(run_cpu(
                a.runner, [a.pim, "--db", cat, "report", "--format", "json"],
                (0,), "pim report", env))
        best = {k: min(r[0] for r in v) for k, v in runs.items()}
        cpu = {k: min(r[3] for r in v) for k, v in runs.items()}
        rss = {k: max(r[1] for r in v) / 1024.0 for k, v in runs.items()}
        ratio = best["report"] / best["reference"]
        out.append("pim report on %d products (%s), setup %.0f s, best of %d"
                   % (n, os.path.basename(big), setup, a.runs))
        out.append("  cpu: %s" % cpu_model())
        out.append("  %-10s %8s %8s %10s" % ("", "wall s", "cpu s", "peak MiB"))
        for k in ("reference", "report"):
            out.append("  %-10s %8.2f %8.2f %10.1f" % (k, best[k], cpu[k], rss[k]))
        out.append("  report/reference: wall %.2f, cpu %.2f (target <= %.1f): %s"
                   % (ratio, cpu["report"] / cpu["reference"], TARGET,
                      "met" if ratio <= TARGET else "NOT met"))
        out.append("  score %s (%s), channel included" % (
            rep["score"]["score"], rep["score"]["grade"]))
    except BenchError as e:
        print("measure_report: %s" % e, file=sys.stderr)
        return 3
    finally:
        shutil.rmtree(work, ignore_errors=True)
    text = "\n".join(out) + "\n"
    sys.stdout.write(text)
    if a.results:
        with open(a.results, "a") as f:
            f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
