#!/usr/bin/env bash
#
# fuzz/seed.sh - (re)makes the seed corpus in fuzz/corpus/TARGET from the
# project's own test data and examples: small files only, big CSV files cut
# to their first 50 lines, each with the selector bytes its target reads
# first (see the comment at the top of each fuzz/fuzz_*.c).

set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
C=fuzz/corpus
rm -rf "$C"
mkdir -p "$C"/{csv,encoding,value,schema,mapping,validate}
mkdir -p "$C"/{rules,where,jsonl,xml,bmecat}

# seed TARGET NAME PREFIX(printf format) FILE [LINES]
seed() {
	local t=$1 name=$2 prefix=$3 file=$4 lines=${5:-}
	{
		# shellcheck disable=SC2059
		printf "$prefix"
		if [ -n "$lines" ]; then head -n "$lines" "$file"; else cat "$file"; fi
	} >"$C/$t/$name"
}

csvs=(tests/data/import/*.csv examples/data/warehouse-stock.csv)
for f in "${csvs[@]}"; do
	b=$(basename "$f" .csv)
	seed csv "$b" '\000\000' "$f"
	seed validate "$b" '\000' "$f"
done
for f in examples/data/supplier-*.csv; do
	b=$(basename "$f" .csv)
	seed csv "$b" '\000\000' "$f" 50
	seed csv "$b-forced" '\142\003' "$f" 20   # ; " , header, limit 0
	seed csv "$b-limit" '\000\014' "$f" 10    # field limit 100
	seed encoding "$b" '\000' "$f" 50
	seed encoding "$b-1252" '\002' "$f" 20
	seed encoding "$b-latin1" '\003' "$f" 20
	seed validate "$b" '\000' "$f" 50
done
seed validate nordic-mapped '\001' examples/data/supplier-nordic.csv 50
seed validate standard-mapped '\002' examples/data/supplier-standard.csv 50
seed validate standard-maxerr '\022' examples/data/supplier-standard.csv 30

# UTF-16 and UTF-8 with byte-order marks, and without
head -n 10 examples/data/supplier-standard.csv >"$C/std10.tmp"
{ printf '\004'; iconv -f UTF-8 -t UTF-16LE "$C/std10.tmp"; } >"$C/encoding/utf16le"
{ printf '\005'; iconv -f UTF-8 -t UTF-16BE "$C/std10.tmp"; } >"$C/encoding/utf16be"
{ printf '\000\377\376'; iconv -f UTF-8 -t UTF-16LE "$C/std10.tmp"; } >"$C/encoding/utf16le-bom"
{ printf '\000\376\377'; iconv -f UTF-8 -t UTF-16BE "$C/std10.tmp"; } >"$C/encoding/utf16be-bom"
{ printf '\000'; iconv -f UTF-8 -t UTF-16LE "$C/std10.tmp"; } >"$C/encoding/utf16le-nobom"
{ printf '\000\357\273\277'; cat "$C/std10.tmp"; } >"$C/encoding/utf8-bom"
{ printf '\001'; cat "$C/std10.tmp"; } >"$C/encoding/utf8"
{ printf '\000\000\000'; printf 'a\rb\rc;d\r'; } >"$C/csv/cr-only"
printf '\000\000sku,name\nA1,"open\nA2,x\n' >"$C/csv/unterminated"
rm -f "$C/std10.tmp"

for f in examples/schema.yaml schemas/default.yaml fuzz/value-schema.yaml \
	tests/data/schemas/*.yaml; do
	cp "$f" "$C/schema/$(basename "$f")"
done
for f in examples/mappings/*.yaml tests/data/import/bad-mapping.yaml; do
	cp "$f" "$C/mapping/$(basename "$f")"
done

# value: attribute index (order of fuzz/value-schema.yaml), options, then
# transforms, then the text
n=0
while IFS='|' read -r attr opts text; do
	[ -z "$attr" ] && continue
	printf "\\$(printf '%03o' "$attr")\\$(printf '%03o' "$opts")\\000%s" \
		"$text" >"$C/value/v$n"
	n=$((n + 1))
done <<'VALUES'
0|0|SKU-00001
2|0|Grå hylle 60
3|0|line one
4|0|1 000
4|1|-3
5|0|12.0
6|1|1.234,5678
7|0|−0,5
8|0|ja
9|2|05.11.2024
10|0|2024-02-29
11|0|grønn
12|0|sale; new|a
13|0|1 299,00 kr
13|5|12.50
14|0|EUR 12.5
15|0|1500 g
15|16|250
16|0|12,5 cm
17|0|3 dm3
18|0|7035181909371
18|0|7.03518E+12
19|0|https://example.com/p?id=1
20|0|ola@example.no
21|0|/home//sofa/
22|0|A01-02
VALUES
# where: every --where expression of the CLI tests, and a few more
n=0
{
	grep -rhoE -- "(^|[[:space:]])(-w|--where|w) '[^']*'" tests/cli/cases/*/*/cmd |
		sed -E "s/^[[:space:]]*(-w|--where|w) '//; s/'\$//"
	grep -rhoE -- '(-w|--where) "[^"$]*"' tests/cli/cases/*/*/cmd |
		sed -E 's/^(-w|--where) "//; s/"$//'
	cat <<'WHERE'
weight > 30 kg and weight <= 60000 g
cost_price >= 100 NOK and list_price < 20 EUR
name@en_US ~ shelf or description !~ messing
category under home and not category under home/sofa
status in (draft, active) and moq not in (1, 2)
complete for warehouse or incomplete for sales
updated since 2024-01-01T00:00Z or updated since 1
gtin = 7035181909371 or bin_location is not empty
family = furniture and length > 2 m
tags = new,gift and fragile = yes and launched < 2025-01-01
WHERE
} | sort -u | while IFS= read -r x; do
	[ -n "$x" ] || continue
	printf '%s' "$x" >"$C/where/w$n"
	n=$((n + 1))
done

# the files the CLI tests make (rules, JSON Lines, XML, BMEcat): their
# scripts run in a scratch directory with a pim that does nothing
scratch=$(mktemp -d "${TMPDIR:-/tmp}/pim-seed.XXXXXX")
root=$(pwd)
for d in tests/cli/cases/enrich/* tests/cli/cases/formats/* \
	tests/cli/cases/export/import-bmecat*; do
	case $d in *-50mb) continue ;; esac
	b=$(basename "$d")
	rm -rf "$scratch/run" && mkdir "$scratch/run"
	for s in setup cmd; do
		[ -f "$d/$s" ] || continue
		(cd "$scratch/run" && PIM=true ROOT=$root DATA=$root/tests/data \
			timeout 10 bash "$root/$d/$s") >/dev/null 2>&1 </dev/null || true
	done
	for f in "$scratch"/run/*; do
		[ -f "$f" ] && [ "$(wc -c <"$f")" -le 20000 ] || continue
		# no path of this machine in the corpus
		LC_ALL=C sed -i "s|$scratch/run|/nonexistent|g" "$f"
		n=$b-$(basename "$f")
		case $f in
		*.yaml) grep -q '^rules:' "$f" && cp "$f" "$C/rules/$n" ;;
		*.jsonl) seed jsonl "$n" '\000' "$f" ;;
		*.xml)
			if grep -q BMECAT "$f"; then seed bmecat "$n" '\000' "$f"
			else seed xml "$n" '\000' "$f"; fi ;;
		esac
	done
done
rm -rf "$scratch"
cp examples/rules.yaml "$C/rules/example-rules.yaml"
seed jsonl products '\000' examples/data/products.jsonl
seed jsonl products-maxerr '\060' examples/data/products.jsonl
seed xml products '\000' examples/data/products.xml
seed xml products-maxerr '\060' examples/data/products.xml
seed bmecat export '\000' tests/cli/cases/export/bmecat/stdout 61
du -sh "$C"
