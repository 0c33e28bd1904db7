#!/usr/bin/env bash
#
# run.sh - benchmark `pim validate` on large standard-layout price lists.
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
# and prints wall times, rows/s, the pim/python ratio (target < 0.5) and
# peak RSS (target < 64 MiB, the same at 100k and 1M rows). The results are
# also written to bench/out/results.txt.
#
# Timing goes through bench/runner.c (compiled into bench/out/ with $CC), so
# that peak RSS is the program's own and not its parent's.
#
# Environment: BENCH_SIZES (default "100000 1000000"), BENCH_RUNS (default 3).
# Exit status: 0 when the benchmark ran (whether or not targets were met),
# 2 on a usage error, 3 when generation or a measured program failed.

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

die() {
	echo "bench/run.sh: $*" >&2
	exit "${2:-2}"
}

[ $# -le 1 ] || die "usage: bench/run.sh [PIM]"
[ -x "$PIM" ] || die "$PIM: not an executable (run make first)"
command -v python3 >/dev/null || die "python3 is required"
for f in "$GEN" "$SCHEMA" "$MAPPING" "$ROOT/bench/measure.py" \
	"$ROOT/bench/runner.c"; do
	[ -f "$f" ] || die "$f: missing"
done
case $RUNS in '' | *[!0-9]* | 0) die "BENCH_RUNS must be a positive number" ;; esac

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

exec python3 "$ROOT/bench/measure.py" --pim "$PIM" --runner "$RUNNER" \
	--schema "$SCHEMA" \
	--mapping "$MAPPING" --runs "$RUNS" --results "$OUT/results.txt" \
	"${files[@]}"
