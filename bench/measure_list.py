#!/usr/bin/env python3
"""bench/measure_list.py - time `pim list` against the same queries in sqlite3.

usage: measure_list.py --pim PIM --runner RUNNER --sqlite3 SQLITE3
                       --schema FILE --mapping FILE [--runs N]
                       [--workdir DIR] [--results FILE] CSV...

Builds, once and untimed, a catalog from the largest CSV file (pim init
--schema FILE, then pim import -q -m MAPPING CSV) and, when one of the files
has 100,000 rows, a second catalog from it. Then runs side by side and
interleaved, N times each (default 3), every query through pim and through
the sqlite3 shell:
  point gtin   pim --db CAT list --where 'gtin = G' -f csv
               sqlite3 CAT "SELECT * FROM product WHERE gtin = 'G'"
  point sku    the same with sku = S
  sales        pim --db CAT --role sales list -f csv  (every product)
               sqlite3 -csv CAT "SELECT <the view's columns> FROM product
                                 WHERE _archived = 0 ORDER BY sku"
  sales 100k   the same on the 100,000-row catalog (or, without one, with
               pim --limit 100000 and LIMIT 100000 on the large catalog)
  filter       pim --db CAT list --where 'color = red and cost_price >
               1000 NOK' -f csv, against the same columns WHERE _archived = 0
               AND color = 'red' AND CAST(cost_price AS REAL) > 1000
               ORDER BY sku
G and S are a GTIN and a SKU from the middle of the catalog. Every timed run
goes through RUNNER (bench/runner.c: wall time, the program's own peak RSS,
CPU time) with stdout on /dev/null. Wall time is the best of the N runs,
peak RSS the largest, CPU time the least. PIM_* variables are removed from
the environment of the runs.

Checked once, outside the timing:
  - the plans (pim list --explain): gtin = G uses the index product_u_gtin,
    sku = S uses an index, updated since B+1 (B the import's batch) uses the
    index product_updated; the plan lines are reported;
  - every query run once with its output in a file: the point queries find
    one product, pim's listing has as many lines as sqlite3's (plus its
    header) and as many rows as SQL's count(*), and pim's CSV holds the same
    values as sqlite3's when both are read as CSV.

Target: pim streams, so the peak RSS of the full listing stays below 64 MiB
and within 25 % (plus 2 MiB) of the peak RSS of the 100,000-row listing.
The time ratios are reported without a target.

Prints the tables, plans, checks and verdicts, and appends the same text to
--results. Exit status: 0 when the benchmark ran (whether or not the target
was met), 3 when a program failed or a correctness check failed.
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
from measure_import import (Checks, batches, check_output,  # noqa: E402
                            clean_env, new_catalog, remove_db)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SMALL_ROWS = 100000
PEAK_TARGET_MIB = 64.0
STREAM_SLACK = 1.25      # peak(full) <= peak(100k) * STREAM_SLACK + 2 MiB
STREAM_SLACK_MIB = 2.0
FILTER = "color = red and cost_price > 1000 NOK"
FILTER_SQL = "color = 'red' AND CAST(cost_price AS REAL) > 1000"


def sql_quote(s):
    return "'%s'" % s.replace("'", "''")


def sql_ident(s):
    return '"%s"' % s.replace('"', '""')


def sql_value(a, db, env, sql):
    out = check_output([a.sqlite3, "-readonly", db, sql], env,
                       "sqlite3 %s" % sql).strip()
    if not out:
        raise BenchError("sqlite3 %s: no value" % sql)
    return out


def newlines(path):
    """What wc -l says."""
    n = 0
    with open(path, "rb") as f:
        while True:
            b = f.read(1 << 22)
            if not b:
                return n
            n += b.count(b"\n")


def to_file(argv, env, path, ok, what):
    """Runs argv once, stdout into path; the exit status."""
    with open(path, "wb") as out, tempfile.TemporaryFile() as err:
        p = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=out,
                           stderr=err, env=env)
        if p.returncode not in ok:
            err.seek(0)
            raise BenchError("%s failed (exit %d): %s\n  %s" % (
                what, p.returncode, " ".join(argv),
                err.read().decode("utf-8", "replace").strip()))
    return p.returncode


def same_csv(pim_out, ref_out):
    """Compares pim's CSV (after its header) with sqlite3's, read as CSV.
    Returns (rows compared, differing rows, first difference or None)."""
    n = bad = 0
    first = None
    with open(pim_out, newline="", encoding="utf-8") as fp, \
            open(ref_out, newline="", encoding="utf-8") as fr:
        rp, rr = csv.reader(fp), csv.reader(fr)
        next(rp, None)
        while True:
            x, y = next(rp, None), next(rr, None)
            if x is None and y is None:
                break
            n += 1
            if x != y:
                bad += 1
                if first is None:
                    first = "row %d: pim %r, sqlite3 %r" % (n, x, y)
    return n, bad, first


def build(a, path, db, env):
    """pim init + pim import of path into db (untimed); products, batch."""
    t0 = time.monotonic()
    new_catalog(a.pim, a.schema, db, env)
    p = subprocess.run([a.pim, "--db", db, "import", "-q", "-m", a.mapping,
                        path], stdin=subprocess.DEVNULL,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       env=env)
    if p.returncode not in (0, 1):
        raise BenchError("pim import of %s failed (exit %d)"
                         % (path, p.returncode))
    secs = time.monotonic() - t0
    log = batches(a.pim, db, env)
    if len(log) != 1 or log[0]["kind"] != "import":
        raise BenchError("%s: expected one import batch, pim log shows %s"
                         % (db, log))
    products = int(sql_value(a, db, env, "SELECT count(*) FROM product "
                             "WHERE _archived = 0;"))
    batch = int(sql_value(a, db, env, "SELECT max(id) FROM batch;"))
    if batch != log[0]["batch"]:
        raise BenchError("%s: batch %d in the table, %d in pim log"
                         % (db, batch, log[0]["batch"]))
    return {"db": db, "file": os.path.basename(path), "rows":
            count_rows(path), "products": products, "batch": batch,
            "build_s": secs}


def header(a, db, env, role):
    """The CSV header of pim list (for role, or without one)."""
    argv = [a.pim, "--db", db]
    if role:
        argv += ["--role", role]
    out = check_output(argv + ["list", "-f", "csv", "-n", "1"], env,
                       "pim list -n 1")
    return next(csv.reader(out.splitlines()))


def plan(a, db, env, where, role=None):
    argv = [a.pim, "--db", db] + (["--role", role] if role else []) + ["list"]
    argv += (["--where", where] if where else []) + ["--explain"]
    out = check_output(argv, env, "pim list --explain")
    return [l for l in out.splitlines() if l.strip()]


def main(argv):
    ap = argparse.ArgumentParser(prog="measure_list.py")
    ap.add_argument("--pim", required=True)
    ap.add_argument("--runner", required=True,
                    help="the compiled bench/runner.c")
    ap.add_argument("--sqlite3", required=True, help="the sqlite3 shell")
    ap.add_argument("--schema", required=True)
    ap.add_argument("--mapping", required=True)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--workdir", help="where the catalogs are made "
                    "(default: next to --results, else the current directory)")
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

    sized = sorted((count_rows(f), os.path.abspath(f)) for f in a.files)
    big_path = sized[-1][1]
    small_path = next((f for n, f in sized if n == SMALL_ROWS
                       and f != big_path), None)

    parent = a.workdir or (os.path.dirname(os.path.abspath(a.results))
                           if a.results else os.getcwd())
    work = tempfile.mkdtemp(prefix="list-", dir=parent)
    checks = Checks()
    t0 = time.monotonic()
    try:
        r = bench(a, env, work, checks, big_path, small_path)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    r["wall"] = time.monotonic() - t0

    text = report(a, r, pim_version, sqlite_version, checks)
    if os.path.exists(os.path.expanduser("~/.sqliterc")):
        text += ("note: ~/.sqliterc exists and is read by the reference "
                 "sqlite3 runs\n")
    sys.stdout.write(text)
    if a.results:
        with open(a.results, "a", encoding="utf-8") as f:
            f.write(text)
    return 3 if checks.failed else 0


def bench(a, env, work, checks, big_path, small_path):
    big = build(a, big_path, os.path.join(work, "big.db"), env)
    small = (build(a, small_path, os.path.join(work, "small.db"), env)
             if small_path else None)
    db = big["db"]
    mid = big["products"] // 2
    gtin = sql_value(a, db, env, "SELECT gtin FROM product WHERE _archived = 0"
                     " AND gtin IS NOT NULL AND gtin <> '' ORDER BY _id "
                     "LIMIT 1 OFFSET %d;" % mid)
    sku = sql_value(a, db, env, "SELECT sku FROM product WHERE _archived = 0 "
                    "ORDER BY _id LIMIT 1 OFFSET %d;" % mid)

    # the plans
    wheres = [("gtin = %s" % gtin, "USING INDEX product_u_gtin",
               "plan: gtin = G uses product_u_gtin"),
              ("sku = %s" % sku, "USING INDEX",
               "plan: sku = S uses an index"),
              # a batch after the import: few products match, so the
              # range on product_updated beats reading in key order (when
              # most products match, pim reads in key order instead)
              ("updated since %d" % (big["batch"] + 1),
               "USING INDEX product_updated",
               "plan: updated since B+1 uses product_updated"),
              (FILTER, None, None)]
    plans = [("(no --where) --role sales", plan(a, db, env, None, "sales"))]
    for where, want, name in wheres:
        lines = plan(a, db, env, where)
        plans.append((where, lines))
        if want:
            checks.expect(name, any(want in l for l in lines), big["file"],
                          "pim list --where '%s' --explain: no line with "
                          "'%s' in %s" % (where, want, lines))

    sales_cols = header(a, db, env, "sales")
    all_cols = header(a, db, env, None)

    def sel(cols, where="", limit=None):
        return ("SELECT %s FROM product WHERE _archived = 0%s ORDER BY sku%s"
                % (", ".join(sql_ident(c) for c in cols),
                   " AND " + where if where else "",
                   " LIMIT %d" % limit if limit else ""))

    pim = [a.pim, "--db", db]
    cases = [
        {"key": "gtin", "label": "point: gtin = G",
         "pim": pim + ["list", "--where", "gtin = %s" % gtin, "-f", "csv"],
         "ref": [a.sqlite3, db, "SELECT * FROM product WHERE gtin = %s"
                 % sql_quote(gtin)],
         "expect": 1, "compare": False},
        {"key": "sku", "label": "point: sku = S",
         "pim": pim + ["list", "--where", "sku = %s" % sku, "-f", "csv"],
         "ref": [a.sqlite3, db, "SELECT * FROM product WHERE sku = %s"
                 % sql_quote(sku)],
         "expect": 1, "compare": False},
        {"key": "sales", "label": "sales view, %s-row cat."
         % short(big["rows"]),
         "pim": pim + ["--role", "sales", "list", "-f", "csv"],
         "ref": [a.sqlite3, "-csv", db, sel(sales_cols)],
         "expect": big["products"], "compare": True},
    ]
    if small:
        cases.append(
            {"key": "sales_small", "label": "sales view, %s-row cat."
             % short(small["rows"]),
             "pim": [a.pim, "--db", small["db"], "--role", "sales", "list",
                     "-f", "csv"],
             "ref": [a.sqlite3, "-csv", small["db"], sel(sales_cols)],
             "expect": small["products"], "compare": True})
    elif big["products"] > SMALL_ROWS:
        cases.append(
            {"key": "sales_small", "label": "sales view, --limit %s"
             % short(SMALL_ROWS),
             "pim": pim + ["--role", "sales", "list", "-f", "csv", "--limit",
                           str(SMALL_ROWS)],
             "ref": [a.sqlite3, "-csv", db, sel(sales_cols, limit=SMALL_ROWS)],
             "expect": SMALL_ROWS, "compare": True})
    cases.append(
        {"key": "filter", "label": "filter: color, cost_price",
         "pim": pim + ["list", "--where", FILTER, "-f", "csv"],
         "ref": [a.sqlite3, "-csv", db, sel(all_cols, FILTER_SQL)],
         "expect": int(sql_value(a, db, env, "SELECT count(*) FROM product "
                                 "WHERE _archived = 0 AND %s;" % FILTER_SQL)),
         "compare": True})

    # once each, output in a file (and the page cache warmed)
    for c in cases:
        po, ro = os.path.join(work, "pim.out"), os.path.join(work, "ref.out")
        to_file(c["pim"], env, po, (0,), "pim list (%s)" % c["label"])
        to_file(c["ref"], env, ro, (0,), "sqlite3 (%s)" % c["label"])
        lp, lr = newlines(po), newlines(ro)
        c["lines"] = (lp, lr)
        c["rows"] = lp - 1
        tag = "%s: %s" % (big["file"], c["label"])
        checks.expect("pim lines = sqlite3 lines + header", lp == lr + 1,
                      c["key"], "%s: pim wrote %d lines (with its header), "
                      "sqlite3 %d" % (tag, lp, lr))
        checks.expect("pim rows = SQL count", lp - 1 == c["expect"], c["key"],
                      "%s: pim listed %d rows, expected %d"
                      % (tag, lp - 1, c["expect"]))
        if c["compare"]:
            n, bad, first = same_csv(po, ro)
            c["same"] = (n, bad)
            checks.expect("pim CSV = sqlite3 CSV, read as CSV", bad == 0,
                          c["key"], "%s: %d of %d rows differ; first %s"
                          % (tag, bad, n, first))
        elif c["key"] == "gtin":
            with open(po, encoding="utf-8") as f:
                rows = list(csv.reader(f))
            col = rows[0].index("gtin") if rows and "gtin" in rows[0] else -1
            checks.expect("point query finds the product",
                          len(rows) == 2 and col >= 0 and rows[1][col] == gtin,
                          c["key"], "%s: pim printed %r" % (tag, rows[:3]))
        elif c["key"] == "sku":
            with open(po, encoding="utf-8") as f:
                rows = list(csv.reader(f))
            checks.expect("point query finds the product",
                          len(rows) == 2 and rows[1][0] == sku, c["key"],
                          "%s: pim printed %r" % (tag, rows[:3]))
        os.unlink(po)
        os.unlink(ro)

    for c in cases:
        for k in ("t", "peak", "cpu"):
            c[k] = {"pim": [], "ref": []}
    load_before = os.getloadavg()
    for rep in range(a.runs):
        for c in cases:
            for who in ("ref", "pim"):
                t, kib, _, cpu = run_cpu(a.runner, c[who], (0,),
                                         "pim list" if who == "pim"
                                         else "sqlite3", env=env)
                c["t"][who].append(t)
                c["peak"][who].append(kib)
                c["cpu"][who].append(cpu)
    return {"big": big, "small": small, "gtin": gtin, "sku": sku,
            "plans": plans, "cases": cases, "sales_cols": sales_cols,
            "load": (load_before, os.getloadavg())}


def short(n):
    if n >= 1000000 and n % 1000000 == 0:
        return "%dM" % (n // 1000000)
    if n >= 1000 and n % 1000 == 0:
        return "%dk" % (n // 1000)
    return str(n)


def report(a, r, pim_version, sqlite_version, checks):
    big, small, cases = r["big"], r["small"], r["cases"]
    L = []
    L.append("")
    L.append("pim list vs sqlite3, %s" % time.strftime("%Y-%m-%d %H:%M:%S"))
    L.append("%s; sqlite3 CLI %s; %s, %d CPUs; best of %d interleaved runs "
             "(%.0f s in all)"
             % (pim_version, sqlite_version, cpu_model(), os.cpu_count() or 0,
                a.runs, r["wall"]))
    for c in (big, small):
        if c:
            L.append("catalog: %s (%d rows) by pim init + pim import -q -m %s:"
                     " %d products, batch %d (built in %.1f s, untimed)"
                     % (c["file"], c["rows"], os.path.relpath(a.mapping, ROOT),
                        c["products"], c["batch"], c["build_s"]))
    L.append("G = %s, S = %s (from the middle of the catalog); sales view "
             "columns: %s" % (r["gtin"], r["sku"], ",".join(r["sales_cols"])))
    L.append("pim:       pim --db CAT [--role sales] list [--where EXPR] -f csv "
             "[--limit N]")
    L.append("reference: sqlite3 [-csv] CAT \"SELECT <the same columns> FROM "
             "product WHERE _archived = 0 [AND SQL] ORDER BY sku\"")
    L.append("           (point queries: SELECT * FROM product WHERE gtin|sku "
             "= '...'); filter SQL: %s" % FILTER_SQL)
    L.append("")
    hdr = ("%-26s %8s %9s %9s %8s %12s %12s %9s %9s"
           % ("query", "rows", "sqlite3 s", "pim s", "pim/sql",
              "sqlite3 peak", "pim peak", "sql cpu s", "pim cpu s"))
    L.append(hdr)
    L.append("-" * len(hdr))
    for c in cases:
        ref, pim = min(c["t"]["ref"]), min(c["t"]["pim"])
        L.append("%-26s %8d %9.3f %9.3f %8.3f %8.1f MiB %8.1f MiB %9.3f %9.3f"
                 % (c["label"], c["rows"], ref, pim, pim / ref,
                    max(c["peak"]["ref"]) / 1024.0,
                    max(c["peak"]["pim"]) / 1024.0,
                    min(c["cpu"]["ref"]), min(c["cpu"]["pim"])))
    L.append("(catalog %s unless marked; CPU: user + system, least over the "
             "runs; stdout on /dev/null)" % big["file"])
    L.append("")
    L.append("all runs (wall s):")
    for c in cases:
        L.append("  %-26s sqlite3 %s   pim %s"
                 % (c["label"], " ".join("%.3f" % t for t in c["t"]["ref"]),
                    " ".join("%.3f" % t for t in c["t"]["pim"])))
    L.append("load average (1/5/15 min) before -> after the timed runs: "
             "%s -> %s" % tuple("/".join("%.2f" % x for x in l)
                                for l in r["load"]))
    L.append("")
    L.append("plans (pim list --where EXPR --explain, catalog %s):"
             % big["file"])
    for where, lines in r["plans"]:
        L.append("  %s" % where)
        for l in lines:
            L.append("      %s" % l)
    L.append("")

    failed = {f[0] for f in checks.failed}
    for name in sorted(checks.passed):
        if name not in failed:
            L.append("check  %-44s ok (%s)"
                     % (name, ", ".join(sorted(checks.passed[name]))))
    for c in cases:
        L.append("lines  %-26s pim %d (with header), sqlite3 %d%s"
                 % (c["label"], c["lines"][0], c["lines"][1],
                    "; %d rows compared as CSV" % c["same"][0]
                    if "same" in c else ""))
    for name, msg in checks.failed:
        L.append("CHECK FAILED  %s: %s" % (name, msg))
    L.append("")

    full = next(c for c in cases if c["key"] == "sales")
    part = next((c for c in cases if c["key"] == "sales_small"), None)
    pf = max(full["peak"]["pim"]) / 1024.0
    ok = pf < PEAK_TARGET_MIB
    L.append("memory %-26s pim list peak RSS = %.1f MiB (target < %.0f MiB): %s"
             % (full["label"], pf, PEAK_TARGET_MIB, "PASS" if ok else "FAIL"))
    if part:
        pp = max(part["peak"]["pim"]) / 1024.0
        good = pf <= pp * STREAM_SLACK + STREAM_SLACK_MIB
        ok &= good
        L.append("memory streaming: peak RSS %.1f MiB (%s) vs %.1f MiB (%s), "
                 "%+.1f MiB (target <= +%d %% + %.0f MiB): %s"
                 % (pf, full["label"], pp, part["label"],
                    round(pf - pp, 1) + 0.0,
                    round((STREAM_SLACK - 1) * 100), STREAM_SLACK_MIB,
                    "PASS" if good else "FAIL"))
    L.append("correctness: %s" % ("all checks passed" if not checks.failed
                                  else "%d checks FAILED" % len(checks.failed)))
    L.append("overall (list): %s" % ("memory target met" if ok and
                                     not checks.failed else
                                     "targets NOT met"))
    return "\n".join(L) + "\n"


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except BenchError as e:
        print("bench: %s" % e, file=sys.stderr)
        sys.exit(3)
    except KeyboardInterrupt:
        sys.exit(130)
