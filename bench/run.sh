#!/usr/bin/env bash
#
# run.sh - benchmark `pim validate`, `pim import` and `pim list` on large
# standard-layout price lists.
#
# usage: bench/run.sh [PIM]        (PIM defaults to build/pim)
#
# Generates, once, standard-layout price lists of 100,000 and 1,000,000 rows
# (tests/tools/gen-pricelist, seed 1, rows/100 injected defects) in
# bench/out/, which is git-ignored; they are made again only when the
# generator changes. For each file it then measures, side by side and
# interleaved, best of 3:
#   reference  python3 reading the file with the csv module
#   pim        pim validate --schema examples/schema.yaml
#                  -m examples/mappings/standard-pricelist.yaml -q FILE
# and prints wall times, rows/s, the pim/python ratio (target < 0.5 at 1,000,000 rows) and
# peak RSS (target < 64 MiB, the same at 100k and 1M rows).
#
# Then, for each file, interleaved, best of BENCH_IMPORT_RUNS (see
# bench/measure_import.py):
#   reference  sqlite3 CAT -cmd '.mode csv' '.import FILE t', CAT a fresh
#              catalog made by pim init (a WAL-mode catalog file, as pim's)
#   import     pim --db CAT import -q -m examples/mappings/standard-pricelist.yaml
#                  FILE, CAT a fresh catalog (target: import/sqlite3 <= 1.0)
#   re-import  the same again into the loaded catalog (target <= 0.5)
# with peak RSS (target < 64 MiB) and checks of the counts (products = rows -
# rejected; the re-import created 0 and updated 0). The catalogs are made in
# a temporary directory under bench/out/ and removed at the end.
#
# Then, on a catalog made once from the largest file (and one from the
# 100,000-row file when that size is measured), interleaved, best of
# BENCH_RUNS (see bench/measure_list.py): pim list by an indexed GTIN and by
# SKU, the whole sales view as CSV and a filtered scan (--where "color = red
# and cost_price > 1000 NOK"), each against the same query in sqlite3, with
# peak RSS (pim streams: the same at 100k and 1M rows), the query plans
# (--explain) and checks of the row counts.
#
# Then, when BENCH_ENRICH is 1 (the default), for each file, best of
# BENCH_RUNS (see bench/measure_enrich.py): a fresh catalog, pim import of the
# file (the reference), pim enrich --rules examples/rules.yaml on it (target:
# enrich <= import) and the same enrich again (nothing left to change); and,
# shown only, sqlite3 making the same writes on a copy of the imported
# catalog in bulk SQL statements (the product rows alone, then with the
# history): SQLite's floor under enrich in this catalog format.
#
# The reports are written to bench/out/results.txt.
#
# Timing goes through bench/runner.c (compiled into bench/out/ with $CC), so
# that peak RSS is the program's own and not its parent's.
#
# Then, when BENCH_REPORT is 1 (the default), on a catalog of the largest
# file, best of BENCH_RUNS (see bench/measure_report.py): pim report --format
# json against sqlite3 running one aggregate (count, empty names, distinct
# GTINs) over a plain copy of the product table (target: ratio <= 1.0).
#
# Then, when BENCH_EXPORT is 1 (the default), on a catalog of the largest
# file, best of BENCH_RUNS (see bench/measure_export.py): pim --role sales
# export --format csv -o OUT against sqlite3 -csv writing the same columns
# of the product table to a file (targets: ratio <= 1.0, peak RSS < 64 MiB).
#
# Environment: BENCH_SIZES (default "100000 1000000"), BENCH_RUNS (default 3),
# BENCH_IMPORT_RUNS (default BENCH_RUNS), BENCH_VALIDATE, BENCH_IMPORT,
# BENCH_LIST, BENCH_ENRICH, BENCH_REPORT, BENCH_EXPORT (default 1; 0 skips
# the validate, import, list, enrich, report or export benchmark),
# SQLITE3 (default sqlite3).
# Exit status: 0 when the benchmark ran (whether or not targets were met),
# 2 on a usage error, 3 when generation or a measured program failed, or a
# correctness check of the import or list benchmark failed.

set -eu -o pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
PIM=${1:-$ROOT/build/pim}
case $PIM in
/*) ;;
*) PIM=$(pwd -P)/$PIM ;;
esac
OUT=$ROOT/bench/out
GEN=$ROOT/tests/tools/gen-pricelist
SCHEMA=$ROOT/examples/schema.yaml
MAPPING=$ROOT/examples/mappings/standard-pricelist.yaml
SIZES=${BENCH_SIZES:-100000 1000000}
RUNS=${BENCH_RUNS:-3}
IMPORT_RUNS=${BENCH_IMPORT_RUNS:-$RUNS}
IMPORT=${BENCH_IMPORT:-1}
VALIDATE=${BENCH_VALIDATE:-1}
LIST=${BENCH_LIST:-1}
ENRICH=${BENCH_ENRICH:-1}
REPORT=${BENCH_REPORT:-1}
EXPORT=${BENCH_EXPORT:-1}
RULES=$ROOT/examples/rules.yaml
SQLITE3=${SQLITE3:-sqlite3}

die() {
	echo "bench/run.sh: $*" >&2
	exit "${2:-2}"
}

[ $# -le 1 ] || die "usage: bench/run.sh [PIM]"
[ -x "$PIM" ] || die "$PIM: not an executable (run make first)"
command -v python3 >/dev/null || die "python3 is required"
for f in "$GEN" "$SCHEMA" "$MAPPING" "$ROOT/bench/measure.py" \
	"$ROOT/bench/measure_import.py" "$ROOT/bench/measure_list.py" \
	"$ROOT/bench/runner.c"; do
	[ -f "$f" ] || die "$f: missing"
done
case $RUNS in '' | *[!0-9]* | 0) die "BENCH_RUNS must be a positive number" ;; esac
case $IMPORT_RUNS in '' | *[!0-9]* | 0)
	die "BENCH_IMPORT_RUNS must be a positive number" ;;
esac
case $IMPORT in 0 | 1) ;; *) die "BENCH_IMPORT must be 0 or 1" ;; esac
case $VALIDATE in 0 | 1) ;; *) die "BENCH_VALIDATE must be 0 or 1" ;; esac
case $LIST in 0 | 1) ;; *) die "BENCH_LIST must be 0 or 1" ;; esac
case $ENRICH in 0 | 1) ;; *) die "BENCH_ENRICH must be 0 or 1" ;; esac
case $REPORT in 0 | 1) ;; *) die "BENCH_REPORT must be 0 or 1" ;; esac
case $EXPORT in 0 | 1) ;; *) die "BENCH_EXPORT must be 0 or 1" ;; esac
if [ "$IMPORT" = 1 ] || [ "$LIST" = 1 ] || [ "$ENRICH" = 1 ] ||
	[ "$EXPORT" = 1 ]; then
	command -v "$SQLITE3" >/dev/null ||
		die "$SQLITE3 is required for the import, list, enrich and export benchmarks (make deps)"
fi

mkdir -p "$OUT"
files=()
for n in $SIZES; do
	case $n in '' | *[!0-9]*) die "BENCH_SIZES: '$n' is not a number" ;; esac
	f=$OUT/standard-$n.csv
	# (re)generate when missing or older than the generator
	if [ ! -s "$f" ] || [ "$GEN" -nt "$f" ]; then
		tmp=$f.tmp.$$
		trap 'rm -f "$tmp" "$tmp.truth"' EXIT
		if ! python3 "$GEN" --layout standard --rows "$n" --seed 1 \
			--out "$tmp" --truth "$tmp.truth"; then
			die "generating $f failed" 3
		fi
		mv -f "$tmp.truth" "$OUT/standard-$n.truth.tsv"
		mv -f "$tmp" "$f"
		trap - EXIT
	fi
	files+=("$f")
done

# the timing helper, rebuilt when its source changes
RUNNER=$OUT/runner
if [ ! -x "$RUNNER" ] || [ "$ROOT/bench/runner.c" -nt "$RUNNER" ]; then
	${CC:-cc} -O2 -o "$RUNNER" "$ROOT/bench/runner.c" ||
		die "cannot compile bench/runner.c" 3
fi

if [ "$VALIDATE" = 1 ]; then
	python3 "$ROOT/bench/measure.py" --pim "$PIM" --runner "$RUNNER" \
		--schema "$SCHEMA" \
		--mapping "$MAPPING" --runs "$RUNS" --results "$OUT/results.txt" \
		"${files[@]}"
fi

# a failed import check does not keep the list benchmark from running
status=0
if [ "$IMPORT" = 1 ]; then
	python3 "$ROOT/bench/measure_import.py" --pim "$PIM" --runner "$RUNNER" \
		--sqlite3 "$SQLITE3" --schema "$SCHEMA" --mapping "$MAPPING" \
		--runs "$IMPORT_RUNS" --workdir "$OUT" --results "$OUT/results.txt" \
		"${files[@]}" || status=$?
fi
if [ "$LIST" = 1 ]; then
	python3 "$ROOT/bench/measure_list.py" --pim "$PIM" --runner "$RUNNER" \
		--sqlite3 "$SQLITE3" --schema "$SCHEMA" --mapping "$MAPPING" \
		--runs "$RUNS" --workdir "$OUT" --results "$OUT/results.txt" \
		"${files[@]}" || { s=$?; [ "$status" -ge "$s" ] || status=$s; }
fi
if [ "$ENRICH" = 1 ]; then
	python3 "$ROOT/bench/measure_enrich.py" --pim "$PIM" --runner "$RUNNER" \
		--sqlite3 "$SQLITE3" \
		--schema "$SCHEMA" --mapping "$MAPPING" --rules "$RULES" \
		--runs "$RUNS" --workdir "$OUT" --results "$OUT/results.txt" \
		"${files[@]}" || { s=$?; [ "$status" -ge "$s" ] || status=$s; }
fi
# pim report (full, JSON) against one sqlite3 aggregate on a plain table
if [ "$REPORT" = 1 ]; then
	python3 "$ROOT/bench/measure_report.py" --pim "$PIM" --runner "$RUNNER" \
		--sqlite3 "$SQLITE3" --schema "$SCHEMA" --mapping "$MAPPING" \
		--runs "$RUNS" --workdir "$OUT" --results "$OUT/results.txt" \
		"${files[@]}" || { s=$?; [ "$status" -ge "$s" ] || status=$s; }
fi
# pim export of the sales view as CSV against sqlite3 -csv of its columns
if [ "$EXPORT" = 1 ]; then
	python3 "$ROOT/bench/measure_export.py" --pim "$PIM" --runner "$RUNNER" \
		--sqlite3 "$SQLITE3" --schema "$SCHEMA" --mapping "$MAPPING" \
		--runs "$RUNS" --workdir "$OUT" --results "$OUT/results.txt" \
		"${files[@]}" || { s=$?; [ "$status" -ge "$s" ] || status=$s; }
fi
exit "$status"
