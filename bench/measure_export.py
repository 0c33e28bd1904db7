#!/usr/bin/env python3
"""bench/measure_export.py - time `pim export` against sqlite3 -csv.

usage: measure_export.py --pim PIM --runner RUNNER --sqlite3 SQLITE3
                         --schema FILE --mapping FILE [--runs N]
                         [--workdir DIR] [--results FILE] CSV...

Builds, once and untimed, a catalog from the largest CSV file (pim init
--schema FILE, then pim import -q -m MAPPING CSV; the helpers of
bench/measure_list.py). Then runs side by side and interleaved, N times each
(default 3):
  pim        pim --db CAT --role sales export --format csv -o OUT
  reference  sqlite3 -csv -header -cmd '.output REF' CAT
                 "SELECT <the sales view's columns> FROM product
                  WHERE _archived = 0 ORDER BY sku"
Both write a file of the same columns and rows. Every timed run goes through
RUNNER (bench/runner.c: wall time, the program's own peak RSS, CPU time).
Wall time is the best of the N runs, peak RSS the largest, CPU time the
least. PIM_* variables are removed from the environment of the runs.

Checked once, outside the timing: both files have the same number of rows
(SQL's count), and the same values when read as CSV, except that pim puts an
apostrophe before a value a spreadsheet would run as a formula.

Targets: pim/sqlite3 wall time <= 1.0; peak RSS < 64 MiB.

Prints the table, checks and verdicts, and appends the same text to
--results. Exit status: 0 when the benchmark ran (whether or not the targets
were met), 3 when a program failed or a correctness check failed.
"""

import argparse
import csv
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True   # no __pycache__ in bench/
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from measure import BenchError, count_rows, cpu_model, run_cpu  # noqa: E402
from measure_import import Checks, clean_env  # noqa: E402
from measure_list import build, header, sql_ident, sql_value  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PEAK_TARGET_MIB = 64.0
RATIO_TARGET = 1.0


def compare(pim_out, ref_out):
    """(rows compared, differing rows, first difference or None). pim's
    neutralised formulas ('=...) count as equal to the raw value."""
    n = bad = 0
    first = None
    with open(pim_out, newline="", encoding="utf-8") as fp, \
            open(ref_out, newline="", encoding="utf-8") as fr:
        rp, rr = csv.reader(fp), csv.reader(fr)
        while True:
            x, y = next(rp, None), next(rr, None)
            if x is None and y is None:
                break
            n += 1
            if x is None or y is None or len(x) != len(y):
                same = False
            else:
                same = all(p == r or (p == "'" + r and r[:1] in "=+-@\t\r")
                           for p, r in zip(x, y))
            if not same:
                bad += 1
                if first is None:
                    first = "row %d: pim %r, sqlite3 %r" % (n, x, y)
    return n - 1, bad, first   # rows after the header


def main(argv):
    ap = argparse.ArgumentParser(prog="measure_export.py")
    ap.add_argument("--pim", required=True)
    ap.add_argument("--runner", required=True,
                    help="the compiled bench/runner.c")
    ap.add_argument("--sqlite3", required=True, help="the sqlite3 shell")
    ap.add_argument("--schema", required=True)
    ap.add_argument("--mapping", required=True)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--workdir", help="where the catalog is made (default: "
                    "next to --results, else the current directory)")
    ap.add_argument("--results", help="append the report to this file")
    ap.add_argument("files", nargs="+")
    a = ap.parse_args(argv)
    if a.runs < 1:
        ap.error("--runs must be at least 1")
    a.pim = os.path.abspath(a.pim)
    a.runner = os.path.abspath(a.runner)
    a.schema = os.path.abspath(a.schema)
    a.mapping = os.path.abspath(a.mapping)
    found = shutil.which(a.sqlite3)
    if not found:
        raise BenchError("%s: not found" % a.sqlite3)
    a.sqlite3 = found
    env = clean_env()

    ver = subprocess.run([a.pim, "--version"], stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, env=env)
    pim_version = (ver.stdout.decode(errors="replace").strip().splitlines()
                   or ["pim (version unknown)"])[0]
    ver = subprocess.run([a.sqlite3, "--version"], stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, env=env)
    sqlite_version = (ver.stdout.decode(errors="replace").split() or ["?"])[0]

    big_path = max((count_rows(f), os.path.abspath(f)) for f in a.files)[1]
    parent = a.workdir or (os.path.dirname(os.path.abspath(a.results))
                           if a.results else os.getcwd())
    work = tempfile.mkdtemp(prefix="export-", dir=parent)
    checks = Checks()
    t0 = time.monotonic()
    try:
        r = bench(a, env, work, checks, big_path)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    r["wall"] = time.monotonic() - t0

    text = report(a, r, pim_version, sqlite_version, checks)
    sys.stdout.write(text)
    if a.results:
        with open(a.results, "a", encoding="utf-8") as f:
            f.write(text)
    return 3 if checks.failed else 0


def bench(a, env, work, checks, big_path):
    cat = build(a, big_path, os.path.join(work, "big.db"), env)
    db = cat["db"]
    cols = header(a, db, env, "sales")
    pim_out = os.path.join(work, "pim.csv")
    ref_out = os.path.join(work, "ref.csv")
    sql = ("SELECT %s FROM product WHERE _archived = 0 ORDER BY sku"
           % ", ".join(sql_ident(c) for c in cols))
    cmds = {
        "pim": [a.pim, "--db", db, "--role", "sales", "export", "--format",
                "csv", "-q", "-o", pim_out],
        "ref": [a.sqlite3, "-csv", "-header", "-cmd", ".output %s" % ref_out,
                db, sql],
    }
    # once, untimed: the outputs compared (and the page cache warmed)
    for who in ("ref", "pim"):
        p = subprocess.run(cmds[who], stdin=subprocess.DEVNULL,
                           stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE, env=env)
        if p.returncode != 0:
            raise BenchError("%s failed (exit %d): %s" % (
                who, p.returncode, p.stderr.decode(errors="replace")))
    count = int(sql_value(a, db, env, "SELECT count(*) FROM product WHERE "
                          "_archived = 0;"))
    n, bad, first = compare(pim_out, ref_out)
    checks.expect("rows = SQL count", n == count, "sales",
                  "pim/sqlite3 files hold %d rows, SQL counts %d" % (n, count))
    checks.expect("pim CSV = sqlite3 CSV, read as CSV", bad == 0, "sales",
                  "%d of %d rows differ; first %s" % (bad, n, first))
    sizes = (os.path.getsize(pim_out), os.path.getsize(ref_out))

    t = {"pim": [], "ref": []}
    peak = {"pim": [], "ref": []}
    cpu = {"pim": [], "ref": []}
    for _ in range(a.runs):
        for who in ("ref", "pim"):
            for f in (pim_out, ref_out):
                if os.path.exists(f):
                    os.unlink(f)
            secs, kib, _, c = run_cpu(a.runner, cmds[who], (0,),
                                      "pim export" if who == "pim"
                                      else "sqlite3", env=env)
            t[who].append(secs)
            peak[who].append(kib)
            cpu[who].append(c)
    return {"cat": cat, "cols": cols, "rows": n, "sizes": sizes, "t": t,
            "peak": peak, "cpu": cpu}


def report(a, r, pim_version, sqlite_version, checks):
    cat = r["cat"]
    tp, tr = min(r["t"]["pim"]), min(r["t"]["ref"])
    pp, pr = max(r["peak"]["pim"]) / 1024.0, max(r["peak"]["ref"]) / 1024.0
    cp, cr = min(r["cpu"]["pim"]), min(r["cpu"]["ref"])
    ratio = tp / tr if tr > 0 else float("inf")
    L = [""]
    L.append("pim export vs sqlite3 -csv, %s"
             % time.strftime("%Y-%m-%d %H:%M:%S"))
    L.append("%s; sqlite3 CLI %s; %s, %d CPUs; best of %d interleaved runs "
             "(%.0f s in all)" % (pim_version, sqlite_version, cpu_model(),
                                  os.cpu_count() or 0, a.runs, r["wall"]))
    L.append("catalog: %s (%d rows) by pim init + pim import -q -m %s: %d "
             "products (built in %.1f s, untimed)"
             % (cat["file"], cat["rows"], os.path.relpath(a.mapping, ROOT),
                cat["products"], cat["build_s"]))
    L.append("columns (sales view): %s" % ",".join(r["cols"]))
    L.append("pim:       pim --db CAT --role sales export --format csv -o OUT")
    L.append("reference: sqlite3 -csv -header -cmd '.output REF' CAT "
             "'SELECT <columns> FROM product WHERE _archived = 0 ORDER BY sku'")
    L.append("")
    L.append("%-10s %10s %10s %12s %10s" % ("", "wall s", "CPU s",
                                             "peak MiB", "MiB out"))
    L.append("%-10s %10.2f %10.2f %12.1f %10.1f" % ("sqlite3", tr, cr, pr,
                                                     r["sizes"][1] / 2**20))
    L.append("%-10s %10.2f %10.2f %12.1f %10.1f" % ("pim", tp, cp, pp,
                                                     r["sizes"][0] / 2**20))
    L.append("")
    L.append("rows: %d; pim/sqlite3 wall %.2f (target <= %.1f): %s"
             % (r["rows"], ratio, RATIO_TARGET,
                "met" if ratio <= RATIO_TARGET else "NOT met"))
    L.append("pim peak RSS %.1f MiB (target < %.0f MiB): %s"
             % (pp, PEAK_TARGET_MIB, "met" if pp < PEAK_TARGET_MIB
                else "NOT met"))
    for name, labels in sorted(checks.passed.items()):
        L.append("check passed: %s" % name)
    for name, msg in checks.failed:
        L.append("CHECK FAILED: %s: %s" % (name, msg))
    L.append("")
    return "\n".join(L)


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except BenchError as e:
        sys.stderr.write("measure_export.py: %s\n" % e)
        sys.exit(3)
