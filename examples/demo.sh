#!/bin/sh
# The worked example: a catalog for a Norwegian home-goods store, filled
# from a supplier's price list and the warehouse's nightly stock file.
# Usage: examples/demo.sh [PATH-TO-PIM]   (make demo runs it)
set -eu

PIM=${1:-build/pim}
ex=$(dirname "$0")
out=${DEMO_DIR:-build/demo}
db="$out/catalog.db"

rm -rf "$out"
mkdir -p "$out"

say() { printf '\n$ %s\n' "$*"; }

# 0 = clean; 1 = some rows were rejected (expected here: the sample
# files carry deliberate defects); anything else stops the demo.
run() {
	say "$*"
	set +e
	"$@"
	rc=$?
	set -e
	[ "$rc" -le 1 ] || exit "$rc"
}

run "$PIM" schema check "$ex/schema.yaml"
run "$PIM" --db "$db" init --schema "$ex/schema.yaml"
run "$PIM" --db "$db" validate -m "$ex/mappings/nordic-pricelist.yaml" \
	"$ex/data/supplier-nordic.csv"
run "$PIM" --db "$db" import -m "$ex/mappings/standard-pricelist.yaml" \
	--reject "$out/rejected.csv" "$ex/data/supplier-standard.csv"
say "cat $out/rejected.csv"
cat "$out/rejected.csv"
run "$PIM" --db "$db" import -m "$ex/mappings/warehouse-stock.yaml" \
	"$ex/data/warehouse-stock.csv"
run "$PIM" --db "$db" import -m "$ex/mappings/standard-pricelist.yaml" \
	"$ex/data/supplier-standard.csv" -q
run "$PIM" --db "$db" enrich --rules "$ex/rules.yaml"
run "$PIM" --db "$db" show SKU-00000003 --role sales
run "$PIM" --db "$db" log
run "$PIM" --db "$db" history SKU-00000002 --attribute stock
say "sqlite3 $db 'SELECT sku, \"name@nb_NO\", cost_price, stock, bin_location FROM product LIMIT 5'"
if command -v sqlite3 >/dev/null; then
	sqlite3 -header -column "$db" \
		'SELECT sku, "name@nb_NO", cost_price, stock, bin_location FROM product ORDER BY sku LIMIT 5'
fi
run "$PIM" --db "$db" report --save -f html -o "$out/report.html" --trend
run "$PIM" --db "$db" report
printf '\nThe catalog is %s (one SQLite file).\n' "$db"
