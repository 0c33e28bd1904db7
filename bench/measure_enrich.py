#!/usr/bin/env python3
"""bench/measure_enrich.py - time `pim enrich` against `pim import`.

usage: measure_enrich.py --pim PIM --runner RUNNER --schema FILE
                         --mapping FILE --rules FILE [--sqlite3 SQLITE3]
                         [--runs N] [--workdir DIR] [--results FILE] CSV...

For every CSV file, N times (default 3), in a fresh catalog:
  import   pim --db CAT import -q -m MAPPING CSV      (the reference)
  rows     sqlite3 on a copy of the imported catalog: what the example
           rules change in the product rows, as one SQL UPDATE
  floor    the same, and the same number of history rows, written by two
           INSERT ... SELECT statements, with the indexes dropped and built
           again as pim does (see FLOOR_SQL)
  journal  the floor with a rollback journal instead of the WAL
  enrich   pim --db CAT enrich -q --rules RULES       (on what was imported)
  again    the same enrich once more: nothing left to change
Catalog creation and copying are not timed. Every timed run goes through
RUNNER (bench/runner.c). Wall time is the best of the N runs, peak RSS the
largest. pim import may exit 0 or 1 (the files hold injected defects);
enrich must exit 0; anything else aborts.

Target: enrich wall time <= import wall time measured in the same run
(enrich/import <= 1.0). Checked outside the timing: the enrich is one batch
of kind "enrich" that changed products, and the second enrich changed none
(pim enrich --json counts).

The two sqlite3 runs are SQLite's own cost of the writes the enrich makes,
with no rules to apply, no rows to read into a program and no per-row
statements: a floor under pim enrich in this catalog format. Their SQL
computes the example rules' sales title and availability (the only two
attributes they change in the generated files, checked: the floor's history
holds as many rows as the enrich's). Shown only, not a target.

Prints the table, the ratio and the checks, and appends the same text to
--results. Exit status: 0 when the benchmark ran (whether or not the target
was met), 3 when a program or a check failed.
"""

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True   # no __pycache__ in bench/
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from measure import BenchError, count_rows, cpu_model, run_cpu  # noqa: E402

TARGET = 1.0

# What the example rules write into the generated price lists, in SQL: the
# product rows (one UPDATE), then one history row per changed value (two
# INSERT ... SELECT), around the index drops and builds pim's bulk enrich
# makes. The catalog stays in WAL mode, as pim's does.
ROWS_SQL = """
PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;
BEGIN IMMEDIATE;
INSERT INTO batch(kind, started_at) VALUES('enrich', '2026-01-01T00:00:00Z');
DROP INDEX product_updated;
UPDATE product SET _updated_batch = (SELECT max(id) FROM batch),
  _updated_at = '2026-01-01T00:00:00Z', _src = NULL,
  "name@en_US" = "name@nb_NO" || ', ' || color || ', '
    || CAST(round(CAST(length AS REAL)) AS INT) || 'x'
    || CAST(round(CAST(width AS REAL)) AS INT) || 'x'
    || CAST(round(CAST(height AS REAL)) AS INT) || ' cm',
  availability = CASE WHEN CAST(stock AS REAL) > 0 THEN 'in_stock'
    WHEN lead_time_days != '' AND CAST(lead_time_days AS INT) <= 14
    THEN 'backorder' ELSE 'out_of_stock' END
  WHERE _archived = 0 AND "name@en_US" IS NULL;
CREATE INDEX product_updated ON product(_updated_batch);
"""
HISTORY_SQL = """
DROP INDEX history_product; DROP INDEX history_batch; DROP INDEX history_sku;
INSERT INTO history(batch, product, sku, attribute, old, new, source, at)
  SELECT _updated_batch, _id, '', 'name@en_US', NULL, "name@en_US",
         'sales-title', '' FROM product WHERE _updated_batch = (SELECT max(id) FROM batch);
INSERT INTO history(batch, product, sku, attribute, old, new, source, at)
  SELECT _updated_batch, _id, '', 'availability', NULL, availability,
         'out-of-stock', '' FROM product WHERE _updated_batch = (SELECT max(id) FROM batch);
CREATE INDEX history_product ON history(product, attribute);
CREATE INDEX history_batch ON history(batch);
CREATE INDEX history_sku ON history(sku) WHERE sku != '';
"""
FLOOR_SQL = ROWS_SQL + HISTORY_SQL + "COMMIT;\n"
ROWS_ONLY_SQL = ROWS_SQL + "COMMIT;\n"
# the floor again with a rollback journal, as a first import writes (pages
# written once, synchronous=FULL), back to WAL mode after
JOURNAL_SQL = ("PRAGMA journal_mode=DELETE;\n" +
               FLOOR_SQL.replace("synchronous=NORMAL", "synchronous=FULL") +
               "PRAGMA journal_mode=WAL;\n")


def clean_env():
    return {k: v for k, v in os.environ.items() if not k.startswith("PIM_")}


def remove_db(path):
    for suffix in ("", "-wal", "-shm", "-journal"):
        try:
            os.unlink(path + suffix)
        except FileNotFoundError:
            pass


def check_output(argv, env, what, ok=(0,)):
    p = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, env=env)
    if p.returncode not in ok:
        raise BenchError("%s failed (exit %d): %s\n  %s" % (
            what, p.returncode, " ".join(argv),
            p.stderr.decode("utf-8", "replace").strip()))
    return p.stdout.decode("utf-8", "replace")


def copy_db(src, dst):
    remove_db(dst)
    for suffix in ("", "-wal"):
        if os.path.exists(src + suffix):
            shutil.copyfile(src + suffix, dst + suffix)


def sql_count(a, env, db, sql):
    out = check_output([a.sqlite3, db, sql], env, "sqlite3 " + sql)
    return int(out.strip() or "0")


def bench_file(a, path, env, work, failed):
    name = os.path.basename(path)
    rows = count_rows(path)
    db = os.path.join(work, "enrich.db")
    fdb = os.path.join(work, "floor.db")
    scripts = {}
    for k, sql in (("rows", ROWS_ONLY_SQL), ("floor", FLOOR_SQL),
                   ("journal", JOURNAL_SQL)):
        scripts[k] = os.path.join(work, k + ".sql")
        with open(scripts[k], "w", encoding="utf-8") as f:
            f.write(sql)
    t = {"imp": [], "rows": [], "floor": [], "journal": [], "enr": [],
         "again": []}
    peak = {"imp": [], "enr": [], "again": []}
    with open(path, "rb") as f:   # warm the page cache
        while f.read(1 << 20):
            pass
    for rep in range(1, a.runs + 1):
        remove_db(db)
        check_output([a.pim, "-q", "--db", db, "init", "--schema", a.schema],
                     env, "pim init")
        secs, kib, _, _ = run_cpu(a.runner, [a.pim, "--db", db, "import",
                                             "-q", "-m", a.mapping, path],
                                  (0, 1), "pim import", env=env)
        t["imp"].append(secs)
        peak["imp"].append(kib)
        for k in ("rows", "journal", "floor"):
            copy_db(db, fdb)
            secs, _, _, _ = run_cpu(a.runner, [a.sqlite3, fdb, ".read " +
                                               scripts[k]],
                                    (0,), "sqlite3 (%s)" % k, env=env)
            t[k].append(secs)
        floor_changes = sql_count(a, env, fdb, "SELECT count(*) FROM history")
        remove_db(fdb)
        enr = [a.pim, "--db", db, "enrich", "-q", "--rules", a.rules]
        secs, kib, _, _ = run_cpu(a.runner, enr, (0,), "pim enrich", env=env)
        t["enr"].append(secs)
        peak["enr"].append(kib)
        log = [json.loads(l) for l in check_output(
            [a.pim, "--db", db, "log", "--json"], env, "pim log").splitlines()
            if l.strip()]
        kinds = sorted(b["kind"] for b in log)
        if kinds != ["enrich", "import"]:
            failed.append("%s run %d: batches after enrich: %s"
                          % (name, rep, kinds))
        changes = sum(b.get("counts", {}).get("changes", 0) for b in log
                      if b["kind"] == "enrich")
        if changes != floor_changes:
            failed.append("%s run %d: the enrich recorded %d changes, the "
                          "sqlite3 floor %d history rows: the floor no "
                          "longer writes what the rules do"
                          % (name, rep, changes, floor_changes))
        secs, kib, _, _ = run_cpu(a.runner, enr, (0,), "pim enrich (again)",
                                  env=env)
        t["again"].append(secs)
        peak["again"].append(kib)
        out = check_output(enr[:-3] + ["--json", "--rules", a.rules], env,
                           "pim enrich --json")
        c = json.loads(out)
        if c["changes"] != 0:
            failed.append("%s run %d: a third enrich changed %d values"
                          % (name, rep, c["changes"]))
    remove_db(db)
    return {"name": name, "rows": rows, "t": t, "peak": peak}


def report(a, results, failed, wall):
    out = []
    out.append("pim enrich vs pim import, %s" % time.strftime("%Y-%m-%d %H:%M:%S"))
    out.append("%s, %d CPUs (%s); best of %d runs (%.0f s in all)" % (
        cpu_model(), os.cpu_count() or 0, platform.machine(), a.runs, wall))
    out.append("rules: %s" % os.path.relpath(a.rules))
    out.append("")
    out.append("%-24s %9s %9s %9s %9s %9s %9s %9s %9s %10s" % (
        "file", "rows", "import s", "rows s", "floor s", "journal s",
        "enrich s", "again s", "enr/imp", "enr peak"))
    verdicts = []
    floors = []
    for r in results:
        best = {k: min(v) for k, v in r["t"].items()}
        imp = best["imp"]
        ratio = best["enr"] / imp if imp else float("inf")
        out.append("%-24s %9d %9.3f %9.3f %9.3f %9.3f %9.3f %9.3f %9.3f "
                   "%8.1f MiB"
                   % (r["name"], r["rows"], imp, best["rows"], best["floor"],
                      best["journal"], best["enr"], best["again"], ratio,
                      max(r["peak"]["enr"]) / 1024))
        verdicts.append("time   %-24s enrich/import = %.3f (target <= %.1f): %s"
                        % (r["name"], ratio, TARGET,
                           "PASS" if ratio <= TARGET else "FAIL"))
        if imp:
            floors.append("floor  %-24s sqlite3 rows/import = %.3f, "
                          "floor/import = %.3f, journal/import = %.3f, "
                          "enrich/floor = %.3f (shown only)"
                          % (r["name"], best["rows"] / imp,
                             best["floor"] / imp, best["journal"] / imp,
                             best["enr"] / best["floor"]))
    out.append("")
    for r in results:
        out.append("  %-22s import %s   rows %s   floor %s   journal %s   "
                   "enrich %s   again %s" % (r["name"], *(
                       " ".join("%.3f" % x for x in r["t"][k])
                       for k in ("imp", "rows", "floor", "journal", "enr",
                                 "again"))))
    out.append("")
    out.extend(floors)
    out.extend(verdicts)
    for f in failed:
        out.append("check  FAILED: %s" % f)
    if not failed:
        out.append("check  one enrich batch; a second enrich changes nothing: ok")
    text = "\n".join(out) + "\n"
    sys.stdout.write(text)
    if a.results:
        with open(a.results, "a", encoding="utf-8") as f:
            f.write("\n" + text)


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--pim", required=True)
    p.add_argument("--runner", required=True)
    p.add_argument("--schema", required=True)
    p.add_argument("--mapping", required=True)
    p.add_argument("--rules", required=True)
    p.add_argument("--sqlite3", default="sqlite3")
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--workdir", default=None)
    p.add_argument("--results", default=None)
    p.add_argument("files", nargs="+")
    a = p.parse_args(argv)
    env = clean_env()
    failed = []
    started = time.time()
    try:
        with tempfile.TemporaryDirectory(prefix="enrich-",
                                         dir=a.workdir) as work:
            results = [bench_file(a, f, env, work, failed) for f in a.files]
    except BenchError as e:
        print("measure_enrich.py: %s" % e, file=sys.stderr)
        return 3
    report(a, results, failed, time.time() - started)
    return 3 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
