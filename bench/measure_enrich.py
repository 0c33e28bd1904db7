#!/usr/bin/env python3
"""bench/measure_enrich.py - time `pim enrich` against `pim import`.

usage: measure_enrich.py --pim PIM --runner RUNNER --schema FILE
                         --mapping FILE --rules FILE [--runs N]
                         [--workdir DIR] [--results FILE] CSV...

For every CSV file, N times (default 3), in a fresh catalog:
  import   pim --db CAT import -q -m MAPPING CSV      (the reference)
  enrich   pim --db CAT enrich -q --rules RULES       (on what was imported)
  again    the same enrich once more: nothing left to change
Catalog creation is not timed. Every timed run goes through RUNNER
(bench/runner.c). Wall time is the best of the N runs, peak RSS the largest.
pim import may exit 0 or 1 (the files hold injected defects); enrich must
exit 0; anything else aborts.

Target: enrich wall time <= import wall time measured in the same run
(enrich/import <= 1.0). Checked outside the timing: the enrich is one batch
of kind "enrich" that changed products, and the second enrich changed none
(pim enrich --json counts).

Prints the table, the ratio and the checks, and appends the same text to
--results. Exit status: 0 when the benchmark ran (whether or not the target
was met), 3 when a program or a check failed.
"""

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True   # no __pycache__ in bench/
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from measure import BenchError, count_rows, cpu_model, run_cpu  # noqa: E402

TARGET = 1.0


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


def bench_file(a, path, env, work, failed):
    name = os.path.basename(path)
    rows = count_rows(path)
    db = os.path.join(work, "enrich.db")
    t = {"imp": [], "enr": [], "again": []}
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
    out.append("%-24s %9s %9s %9s %9s %9s %10s" % (
        "file", "rows", "import s", "enrich s", "again s", "enr/imp",
        "enr peak"))
    verdicts = []
    for r in results:
        imp, enr, again = min(r["t"]["imp"]), min(r["t"]["enr"]), \
            min(r["t"]["again"])
        ratio = enr / imp if imp else float("inf")
        out.append("%-24s %9d %9.3f %9.3f %9.3f %9.3f %8.1f MiB" % (
            r["name"], r["rows"], imp, enr, again, ratio,
            max(r["peak"]["enr"]) / 1024))
        verdicts.append("time   %-24s enrich/import = %.3f (target <= %.1f): %s"
                        % (r["name"], ratio, TARGET,
                           "PASS" if ratio <= TARGET else "FAIL"))
    out.append("")
    for r in results:
        out.append("  %-22s import %s   enrich %s   again %s" % (
            r["name"], " ".join("%.3f" % x for x in r["t"]["imp"]),
            " ".join("%.3f" % x for x in r["t"]["enr"]),
            " ".join("%.3f" % x for x in r["t"]["again"])))
    out.append("")
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
