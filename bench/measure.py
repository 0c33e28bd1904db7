#!/usr/bin/env python3
"""bench/measure.py - time `pim validate` against Python's csv module.

usage: measure.py --pim PIM --runner RUNNER --schema FILE --mapping FILE [--runs N]
                  [--results FILE] CSV...

For every CSV file, runs side by side and interleaved, N times each (default
3):
  reference  python3 -c 'for row in csv.reader(f): pass'
  pim        pim validate --schema FILE -m MAPPING -q CSV
Every run goes through RUNNER (bench/runner.c), which forks the program and
reports its wall time, its own peak RSS (ru_maxrss from wait4; see runner.c
for why this is not done from Python) and its CPU time. Wall time is the
best of the N runs; peak RSS the largest over the runs. pim may exit 0 or 1
(the files hold injected defects); anything else aborts the benchmark.

Prints a table, the pim/python ratios and the verdicts against the targets
(the time target, pim/python < 0.5, is for the 1,000,000-row file; the
ratios of smaller files are shown),
and writes the same text to --results.
"""

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time

READER = ("import csv, sys\n"
          "with open(sys.argv[1], newline='', encoding='utf-8') as f:\n"
          "    for row in csv.reader(f):\n"
          "        pass\n")

RATIO_TARGET = 0.5
TARGET_ROWS = 1000000  # the time target is for the million-row file
PEAK_TARGET_MIB = 64.0


class BenchError(Exception):
    pass


def run(runner, argv, ok_codes, label):
    """Run argv under the runner; return (seconds, peak KiB, exit code)."""
    secs, kib, code, _cpu = run_cpu(runner, argv, ok_codes, label)
    return secs, kib, code


def run_cpu(runner, argv, ok_codes, label, env=None):
    """Like run(), and the CPU seconds (user + system) as a fourth item."""
    with tempfile.TemporaryFile() as err:
        p = subprocess.run([runner] + argv, stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=err, env=env)
        fields = p.stdout.decode(errors="replace").split()
        if p.returncode != 0 or len(fields) != 5:
            err.seek(0)
            raise BenchError("runner failed (%d) on %s: %s" % (
                p.returncode, " ".join(argv),
                err.read().decode("utf-8", "replace").strip()))
        code, secs, kib = int(fields[0]), float(fields[1]), int(fields[2])
        cpu = float(fields[3]) + float(fields[4])
        if code not in ok_codes:
            err.seek(0)
            msg = err.read().decode("utf-8", "replace").strip().splitlines()[-5:]
            how = ("killed by signal %d" % (code - 128)) if code > 128 \
                else ("exited %d" % code)
            raise BenchError("%s %s: %s\n  %s" % (label, how, " ".join(argv),
                                                  "\n  ".join(msg)))
    return secs, kib, code, cpu


def count_rows(path):
    n = 0
    with open(path, "rb") as f:
        while True:
            b = f.read(1 << 22)
            if not b:
                break
            n += b.count(b"\n")
    return n - 1  # the header


def human_rate(x):
    if x >= 1e6:
        return "%.2fM" % (x / 1e6)
    return "%.0fk" % (x / 1e3)


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown cpu"


def main(argv):
    ap = argparse.ArgumentParser(prog="measure.py")
    ap.add_argument("--pim", required=True)
    ap.add_argument("--runner", required=True,
                    help="the compiled bench/runner.c")
    ap.add_argument("--schema", required=True)
    ap.add_argument("--mapping", required=True)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--results")
    ap.add_argument("files", nargs="+")
    a = ap.parse_args(argv)

    pim = os.path.abspath(a.pim)
    runner = os.path.abspath(a.runner)
    py = sys.executable
    try:
        ver = subprocess.run([pim, "--version"], stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, timeout=30)
        pim_version = ver.stdout.decode(errors="replace").strip().splitlines()[0]
    except (OSError, subprocess.SubprocessError, IndexError):
        pim_version = "pim (version unknown)"

    rows_out = []
    for path in a.files:
        rows = count_rows(path)
        size = os.path.getsize(path)
        # warm the page cache so that neither side pays for the disk
        with open(path, "rb") as f:
            while f.read(1 << 20):
                pass
        ref_cmd = [py, "-c", READER, path]
        pim_cmd = [pim, "validate", "--schema", a.schema, "-m", a.mapping,
                   "-q", path]
        ref_t, pim_t, ref_m, pim_m, codes = [], [], [], [], set()
        for _ in range(a.runs):
            t, m, _c = run(runner, ref_cmd, (0,), "python csv reader")
            ref_t.append(t)
            ref_m.append(m)
            t, m, c = run(runner, pim_cmd, (0, 1), "pim validate")
            pim_t.append(t)
            pim_m.append(m)
            codes.add(c)
        rows_out.append({
            "name": os.path.basename(path), "rows": rows, "mib": size / 2**20,
            "ref": min(ref_t), "pim": min(pim_t),
            "ref_all": ref_t, "pim_all": pim_t,
            "ref_mib": max(ref_m) / 1024.0, "pim_mib": max(pim_m) / 1024.0,
            "codes": sorted(codes),
        })

    lines = []
    lines.append("pim validate vs Python csv.reader, %s" % time.strftime("%Y-%m-%d %H:%M:%S"))
    lines.append("%s; Python %s; %s, %d CPUs; best of %d interleaved runs"
                 % (pim_version, platform.python_version(), cpu_model(),
                    os.cpu_count() or 0, a.runs))
    lines.append("")
    hdr = ("%-24s %9s %8s %10s %10s %9s %10s %10s %10s %10s"
           % ("file", "rows", "MiB", "python s", "pim s", "pim/py",
              "py rows/s", "pim rows/s", "py peak", "pim peak"))
    lines.append(hdr)
    lines.append("-" * len(hdr))
    for r in rows_out:
        lines.append("%-24s %9d %8.1f %10.3f %10.3f %9.3f %10s %10s %7.1f MiB %6.1f MiB"
                     % (r["name"], r["rows"], r["mib"], r["ref"], r["pim"],
                        r["pim"] / r["ref"], human_rate(r["rows"] / r["ref"]),
                        human_rate(r["rows"] / r["pim"]), r["ref_mib"], r["pim_mib"]))
    lines.append("")
    lines.append("all runs (s):")
    for r in rows_out:
        lines.append("  %-22s python %s   pim %s   pim exit %s"
                     % (r["name"], " ".join("%.3f" % t for t in r["ref_all"]),
                        " ".join("%.3f" % t for t in r["pim_all"]),
                        "/".join(str(c) for c in r["codes"])))
    lines.append("")

    ok = True
    for r in rows_out:
        ratio = r["pim"] / r["ref"]
        good = ratio < RATIO_TARGET
        if r["rows"] < TARGET_ROWS:
            # the target is set for the million-row file; smaller files
            # are measured for the memory comparison, and their times
            # carry the fixed costs (start, schema, threads)
            lines.append("time   %-22s pim/python = %.3f (the target is for %d rows; shown only)"
                         % (r["name"], ratio, TARGET_ROWS))
            continue
        ok &= good
        lines.append("time   %-22s pim/python = %.3f (target < %.2f): %s"
                     % (r["name"], ratio, RATIO_TARGET, "PASS" if good else "FAIL"))
    for r in rows_out:
        good = r["pim_mib"] < PEAK_TARGET_MIB
        ok &= good
        lines.append("memory %-22s pim peak RSS = %.1f MiB (target < %.0f MiB): %s"
                     % (r["name"], r["pim_mib"], PEAK_TARGET_MIB,
                        "PASS" if good else "FAIL"))
    if len(rows_out) > 1:
        lo = min(rows_out, key=lambda r: r["rows"])
        hi = max(rows_out, key=lambda r: r["rows"])
        diff = hi["pim_mib"] - lo["pim_mib"]
        # "the same": within 2 MiB or 10 %, whichever is larger
        good = diff <= max(2.0, 0.10 * lo["pim_mib"])
        ok &= good
        lines.append("memory flat: %d rows %.1f MiB -> %d rows %.1f MiB (%+.1f MiB, x%.2f): %s"
                     % (lo["rows"], lo["pim_mib"], hi["rows"], hi["pim_mib"], diff,
                        hi["pim_mib"] / lo["pim_mib"] if lo["pim_mib"] else 0.0,
                        "PASS" if good else "FAIL"))
    lines.append("overall: %s" % ("all targets met" if ok else "targets NOT met"))

    text = "\n".join(lines) + "\n"
    sys.stdout.write(text)
    if a.results:
        with open(a.results, "w", encoding="utf-8") as f:
            f.write(text)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except BenchError as e:
        print("bench: %s" % e, file=sys.stderr)
        sys.exit(3)
    except KeyboardInterrupt:
        sys.exit(130)
