#!/usr/bin/env python3
"""bench/measure_import.py - time `pim import` against sqlite3's .import.

usage: measure_import.py --pim PIM --runner RUNNER --sqlite3 SQLITE3
                         --schema FILE --mapping FILE [--runs N]
                         [--workdir DIR] [--results FILE] CSV...

For every CSV file, runs side by side and interleaved, N times each (default
3):
  reference  a fresh catalog X (pim --db X init --schema FILE, so that the
             reference writes to a WAL-mode catalog file just as pim does),
             then  sqlite3 X -cmd '.mode csv' '.import CSV t'
  import     a fresh catalog Y (the same init), then
             pim --db Y import -q -m MAPPING CSV
  re-import  the same import again into Y, now holding the file
Catalog creation is not timed. Every timed run goes through RUNNER
(bench/runner.c), which reports the wall time, the program's own peak RSS and
its CPU time. Wall time is the best of the N runs, peak RSS the largest. pim
may exit 0 or 1 (the files hold injected defects, so rows are rejected);
anything else aborts the benchmark, as does a reference that does not exit 0.
PIM_* variables are removed from the environment of the runs.

Targets (the project's goals for import):
  import     wall time <= the reference's     (pim/sqlite3 <= 1.0)
  re-import  wall time <= half the reference's (pim/sqlite3 <= 0.5)
  memory     peak RSS of every pim run < 64 MiB
The time targets are for the million-row file; the ratios of smaller files
are shown only.

Checked on every repetition, outside the timing:
  - the reference table t holds one row per data row;
  - after the import, the catalog holds rows - rejected products, where
    rejected is what pim recorded for the batch (pim log --json), and that
    equals the defective rows listed in the generator's truth file
    (FILE.truth.tsv next to FILE.csv, when it exists);
  - after the re-import, pim log --json shows it as a second import batch
    with created 0, updated 0, changes 0, and the product count is unchanged.

Prints the tables, ratios, checks and verdicts, and appends the same text to
--results. Exit status: 0 when the benchmark ran (whether or not the targets
were met), 3 when a program failed or a correctness check failed.
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
from measure import (TARGET_ROWS, BenchError, count_rows,  # noqa: E402
                     cpu_model, human_rate, run_cpu)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
IMPORT_TARGET = 1.0
REIMPORT_TARGET = 0.5
PEAK_TARGET_MIB = 64.0


def clean_env():
    return {k: v for k, v in os.environ.items() if not k.startswith("PIM_")}


def remove_db(path):
    for suffix in ("", "-wal", "-shm", "-journal"):
        try:
            os.unlink(path + suffix)
        except FileNotFoundError:
            pass


def check_output(argv, env, what):
    p = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, env=env)
    if p.returncode != 0:
        raise BenchError("%s failed (exit %d): %s\n  %s" % (
            what, p.returncode, " ".join(argv),
            p.stderr.decode("utf-8", "replace").strip()))
    return p.stdout.decode("utf-8", "replace")


def new_catalog(pim, schema, path, env):
    remove_db(path)
    check_output([pim, "-q", "--db", path, "init", "--schema", schema], env,
                 "pim init")


def sql_count(sqlite3, db, table, env):
    out = check_output([sqlite3, "-readonly", db,
                        "SELECT count(*) FROM %s;" % table], env,
                       "sqlite3 count of %s" % table)
    return int(out.strip())


def batches(pim, db, env):
    """pim log --json, oldest batch first."""
    out = check_output([pim, "--db", db, "log", "--json"], env, "pim log")
    return sorted((json.loads(l) for l in out.splitlines() if l.strip()),
                  key=lambda b: b["batch"])


def truth_defects(csv_path):
    """Number of distinct defective lines in the generator's truth file."""
    base = csv_path[:-4] if csv_path.endswith(".csv") else csv_path
    truth = base + ".truth.tsv"
    if not os.path.isfile(truth):
        return None
    lines = set()
    with open(truth, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                lines.add(line.split("\t", 1)[0])
    return len(lines)


def dot_arg(path):
    """path as one argument of a sqlite3 shell dot-command."""
    if not any(c in path for c in " \t\"'\\"):
        return path
    if "'" in path:
        raise BenchError("%s: cannot be named to sqlite3's .import" % path)
    return "'%s'" % path


class Checks:
    def __init__(self):
        self.failed = []   # (file, message)
        self.passed = {}   # file -> set of check names

    def expect(self, name, cond, label, msg):
        if cond:
            self.passed.setdefault(name, set()).add(label)
        else:
            self.failed.append((name, msg))


def bench_file(a, path, env, work, checks):
    rows = count_rows(path)
    name = os.path.basename(path)
    size = os.path.getsize(path)
    expect_rej = truth_defects(path)
    with open(path, "rb") as f:   # warm the page cache
        while f.read(1 << 20):
            pass

    ref_db = os.path.join(work, "reference.db")
    pim_db = os.path.join(work, "pim.db")
    ref_cmd = [a.sqlite3, ref_db, "-cmd", ".mode csv",
               ".import %s t" % dot_arg(path)]
    imp_cmd = [a.pim, "--db", pim_db, "import", "-q", "-m", a.mapping, path]

    r = {"name": name, "rows": rows, "mib": size / 2**20,
         "t": {"ref": [], "imp": [], "re": []},
         "cpu": {"ref": [], "imp": [], "re": []},
         "peak": {"ref": [], "imp": [], "re": []},
         "codes": {"imp": set(), "re": set()},
         "load_before": os.getloadavg(),
         "products": None, "rejected": None, "expect_rej": expect_rej}

    def timed(key, argv, ok, label):
        t, kib, code, cpu = run_cpu(a.runner, argv, ok, label, env=env)
        r["t"][key].append(t)
        r["peak"][key].append(kib)
        r["cpu"][key].append(cpu)
        return code

    for rep in range(1, a.runs + 1):
        tag = "%s run %d" % (name, rep)
        # (a) reference: sqlite3 .import into a fresh catalog file
        new_catalog(a.pim, a.schema, ref_db, env)
        timed("ref", ref_cmd, (0,), "sqlite3 .import")
        n = sql_count(a.sqlite3, ref_db, "t", env)
        checks.expect("reference loads every row", n == rows, name,
                      "%s: sqlite3 .import loaded %d rows, the file has %d"
                      % (tag, n, rows))
        remove_db(ref_db)

        # (b) import into a fresh catalog
        new_catalog(a.pim, a.schema, pim_db, env)
        r["codes"]["imp"].add(timed("imp", imp_cmd, (0, 1), "pim import"))
        products = sql_count(a.sqlite3, pim_db, "product", env)
        log = batches(a.pim, pim_db, env)
        ok = len(log) == 1 and log[0]["kind"] == "import"
        checks.expect("import recorded as one batch", ok, name,
                      "%s: after the import, pim log shows %d batches: %s"
                      % (tag, len(log), log))
        if ok:
            c = log[0]["counts"]
            rej = c["rejected"]
            r["rejected"] = rej
            r["products"] = products
            checks.expect("import rows counted", c["rows"] == rows, name,
                          "%s: pim counted %d rows, the file has %d"
                          % (tag, c["rows"], rows))
            checks.expect("products = rows - rejected",
                          products == rows - rej and c["created"] == products
                          and c["updated"] == 0 and c["unchanged"] == 0,
                          name,
                          "%s: %d products in the catalog, batch says "
                          "created %d updated %d unchanged %d; expected "
                          "%d rows - %d rejected = %d"
                          % (tag, products, c["created"], c["updated"],
                             c["unchanged"], rows, rej, rows - rej))
            if expect_rej is not None:
                checks.expect("rejected = defective rows of the truth file",
                              rej == expect_rej, name,
                              "%s: %d rows rejected, the truth file lists "
                              "%d defective rows" % (tag, rej, expect_rej))

        # (c) re-import of the unchanged file into the loaded catalog
        r["codes"]["re"].add(timed("re", imp_cmd, (0, 1), "pim re-import"))
        log = batches(a.pim, pim_db, env)
        after = sql_count(a.sqlite3, pim_db, "product", env)
        ok = len(log) == 2 and log[1]["kind"] == "import"
        checks.expect("re-import recorded as a second batch", ok, name,
                      "%s: after the re-import, pim log shows %d batches: %s"
                      % (tag, len(log), log))
        if ok:
            c = log[1]["counts"]
            checks.expect("re-import: created 0, updated 0, changes 0",
                          c["created"] == 0 and c["updated"] == 0
                          and c["changes"] == 0
                          and c["unchanged"] == products
                          and c["rejected"] == log[0]["counts"]["rejected"],
                          name,
                          "%s: re-import batch %d counts %s; expected created "
                          "0, updated 0, changes 0, unchanged %d"
                          % (tag, log[1]["batch"], json.dumps(c), products))
        checks.expect("re-import leaves the product count", after == products,
                      name, "%s: %d products after the re-import, %d before"
                      % (tag, after, products))
        remove_db(pim_db)

    r["load_after"] = os.getloadavg()
    return r


def report(a, results, pim_version, sqlite_version, checks, wall):
    L = []
    L.append("")
    L.append("pim import vs sqlite3 .import, %s" % time.strftime("%Y-%m-%d %H:%M:%S"))
    L.append("%s; sqlite3 CLI %s; %s, %d CPUs; best of %d interleaved runs "
             "(%.0f s in all)"
             % (pim_version, sqlite_version, cpu_model(), os.cpu_count() or 0,
                a.runs, wall))
    L.append("reference: pim init, then sqlite3 CAT -cmd '.mode csv' "
             "'.import FILE t'")
    L.append("import:    pim init, then pim --db CAT import -q -m %s FILE"
             % os.path.relpath(a.mapping, ROOT))
    L.append("re-import: the same import again into the loaded catalog")
    L.append("")
    hdr = ("%-21s %8s %6s %9s %9s %8s %9s %8s %10s %10s %10s"
           % ("file", "rows", "MiB", "sqlite3 s", "import s", "imp/sql",
              "re-imp s", "re/sql", "sql rows/s", "imp rows/s", "re rows/s"))
    L.append(hdr)
    L.append("-" * len(hdr))
    for r in results:
        ref, imp, re_ = (min(r["t"][k]) for k in ("ref", "imp", "re"))
        L.append("%-21s %8d %6.1f %9.3f %9.3f %8.3f %9.3f %8.3f %10s %10s %10s"
                 % (r["name"], r["rows"], r["mib"], ref, imp, imp / ref, re_,
                    re_ / ref, human_rate(r["rows"] / ref),
                    human_rate(r["rows"] / imp), human_rate(r["rows"] / re_)))
    L.append("")
    hdr = ("%-21s %12s %12s %12s %10s %10s %10s"
           % ("peak RSS / CPU", "sqlite3 peak", "import peak", "re-imp peak",
              "sql cpu s", "imp cpu s", "re cpu s"))
    L.append(hdr)
    L.append("-" * len(hdr))
    for r in results:
        pk = {k: max(v) / 1024.0 for k, v in r["peak"].items()}
        cpu = {k: min(v) for k, v in r["cpu"].items()}
        L.append("%-21s %8.1f MiB %8.1f MiB %8.1f MiB %10.3f %10.3f %10.3f"
                 % (r["name"], pk["ref"], pk["imp"], pk["re"], cpu["ref"],
                    cpu["imp"], cpu["re"]))
    L.append("(CPU: user + system of all threads, least over the runs)")
    L.append("")
    L.append("all runs (wall s):")
    for r in results:
        L.append("  %-20s sqlite3 %s   import %s (exit %s)   re-import %s (exit %s)"
                 % (r["name"], " ".join("%.3f" % t for t in r["t"]["ref"]),
                    " ".join("%.3f" % t for t in r["t"]["imp"]),
                    "/".join(str(c) for c in sorted(r["codes"]["imp"])),
                    " ".join("%.3f" % t for t in r["t"]["re"]),
                    "/".join(str(c) for c in sorted(r["codes"]["re"]))))
    L.append("load average (1/5/15 min) before -> after each file:")
    for r in results:
        L.append("  %-20s %s -> %s"
                 % (r["name"], "/".join("%.2f" % x for x in r["load_before"]),
                    "/".join("%.2f" % x for x in r["load_after"])))
    L.append("")

    failed = {f[0] for f in checks.failed}
    for name in sorted(checks.passed):
        if name not in failed:
            L.append("check  %-44s ok (%s)"
                     % (name, ", ".join(sorted(checks.passed[name]))))
    for r in results:
        if r["products"] is not None:
            L.append("counts %-20s %d rows, %d rejected (truth file: %s), "
                     "%d products"
                     % (r["name"], r["rows"], r["rejected"],
                        "-" if r["expect_rej"] is None else r["expect_rej"],
                        r["products"]))
    for name, msg in checks.failed:
        L.append("CHECK FAILED  %s: %s" % (name, msg))
    L.append("")

    ok = True
    # the time targets are set for the million-row file, as for validate;
    # the times of smaller files carry the fixed costs (start, schema,
    # thread, index builds) and are shown only
    for what, key, target in (("import/sqlite3   ", "imp", IMPORT_TARGET),
                              ("re-import/sqlite3", "re", REIMPORT_TARGET)):
        for r in results:
            ratio = min(r["t"][key]) / min(r["t"]["ref"])
            if r["rows"] < TARGET_ROWS:
                L.append("time   %-20s %s = %.3f (the target is for %d rows; "
                         "shown only)" % (r["name"], what, ratio, TARGET_ROWS))
                continue
            good = ratio <= target
            ok &= good
            L.append("time   %-20s %s = %.3f (target <= %.1f): %s"
                     % (r["name"], what, ratio, target,
                        "PASS" if good else "FAIL"))
    for r in results:
        peak = max(max(r["peak"]["imp"]), max(r["peak"]["re"])) / 1024.0
        good = peak < PEAK_TARGET_MIB
        ok &= good
        L.append("memory %-20s pim import peak RSS = %.1f MiB (target < %.0f MiB): %s"
                 % (r["name"], peak, PEAK_TARGET_MIB, "PASS" if good else "FAIL"))
    L.append("correctness: %s" % ("all checks passed" if not checks.failed
                                  else "%d checks FAILED" % len(checks.failed)))
    L.append("overall (import): %s" % ("all targets met" if ok and not checks.failed
                                       else "targets NOT met"))
    return "\n".join(L) + "\n"


def main(argv):
    ap = argparse.ArgumentParser(prog="measure_import.py")
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
    files = [os.path.abspath(f) for f in a.files]
    env = clean_env()

    ver = subprocess.run([a.pim, "--version"], stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, env=env)
    pim_version = (ver.stdout.decode(errors="replace").strip().splitlines()
                   or ["pim (version unknown)"])[0]
    ver = subprocess.run([a.sqlite3, "--version"], stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, env=env)
    sqlite_version = (ver.stdout.decode(errors="replace").split() or ["?"])[0]

    parent = a.workdir or (os.path.dirname(os.path.abspath(a.results))
                           if a.results else os.getcwd())
    work = tempfile.mkdtemp(prefix="import-", dir=parent)
    checks = Checks()
    t0 = time.monotonic()
    try:
        results = [bench_file(a, f, env, work, checks) for f in files]
    finally:
        shutil.rmtree(work, ignore_errors=True)

    text = report(a, results, pim_version, sqlite_version, checks,
                  time.monotonic() - t0)
    if os.path.exists(os.path.expanduser("~/.sqliterc")):
        text += ("note: ~/.sqliterc exists and is read by the reference "
                 "sqlite3 runs\n")
    sys.stdout.write(text)
    if a.results:
        with open(a.results, "a", encoding="utf-8") as f:
            f.write(text)
    return 3 if checks.failed else 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except BenchError as e:
        print("bench: %s" % e, file=sys.stderr)
        sys.exit(3)
    except KeyboardInterrupt:
        sys.exit(130)
