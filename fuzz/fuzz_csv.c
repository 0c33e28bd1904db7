/*
 * fuzz_csv.c - libFuzzer target for the CSV reader: dialect detection over
 * the whole file, then every row. The first two bytes force parts of the
 * dialect (delimiter, quote, decimal, header) and the field size limit, or
 * put the rest of the input after 1 MiB of filler rows, across the reader's
 * chunk border; the rest is the file.
 */
#include "fuzz.h"

#include "csvin.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char delims[8] = { 0, ',', ';', '\t', '|', 0, ':', ' ' };
	static const char quotes[4] = { 0, '"', '\'', '#' };
	static const char decimals[4] = { 0, 0, '.', ',' };
	static const int headers[4] = { -1, -1, 0, 1 };
	static const size_t limits[4] = { 0, 1, 7, 100 };
	pim_dialect d = PIM_DIALECT_INIT;
	const pim_dialect *got;
	pim_csv *csv = NULL;
	pim_csv_row *row;
	unsigned long errors = 0, last_line = 0;
	unsigned long long done, total;
	const char *path;
	size_t pad = 0;
	char err[256];
	int rc;

	if (size < 2)
		return 0;
	d.delimiter = delims[data[0] & 7];
	d.quote = quotes[(data[0] >> 3) & 3];
	d.decimal = decimals[(data[0] >> 5) & 3];
	d.header = headers[data[1] & 3];
	if ((data[1] & 0x30) == 0x30) {
		/* byte 1's top bits: where the chunk border falls */
		static char line[256];
		if (!line[0]) {
			memset(line, 'x', sizeof line - 1);
			line[120] = ',';
			line[sizeof line - 2] = '\n';
		}
		pad = FZ_CHUNK - 1 - (size_t)(data[1] >> 6) * 85;
		path = fz_file_padded(0, line, sizeof line - 1, pad, data + 2,
				      size - 2);
	} else {
		path = fz_file(0, data + 2, size - 2);
	}
	rc = pim_csv_open(&csv, path, &d, limits[(data[1] >> 2) & 3], fz_diag,
			  &errors, err, sizeof err);
	if (rc) {
		FZ_CHECK(csv == NULL);
		FZ_CHECK(rc == PIM_EIO || rc == PIM_EDATA);
		return 0;
	}
	got = pim_csv_dialect(csv);
	FZ_CHECK(got->delimiter != 0 && got->quote != 0);
	FZ_CHECK(got->decimal == '.' || got->decimal == ',');
	if (d.delimiter)
		FZ_CHECK(got->delimiter == d.delimiter);
	while ((rc = pim_csv_next(csv, &row)) == 1) {
		FZ_CHECK(row->n >= 1 && row->n <= PIM_CSV_MAX_COLUMNS);
		FZ_CHECK(row->line >= 1 && row->line >= last_line);
		last_line = row->line;
		for (size_t i = 0; i < row->n; i++) {
			FZ_CHECK(row->field[i][row->len[i]] == '\0');
			/* decoding Windows-1252 at most triples the size */
			FZ_CHECK(row->len[i] <= 3 * (pad + size));
		}
	}
	FZ_CHECK(rc == 0);
	(void)pim_csv_records(csv);
	pim_csv_progress(csv, &done, &total);
	FZ_CHECK(total == pad + size - 2);
	pim_csv_close(csv);
	return 0;
}
