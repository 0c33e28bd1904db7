/*
 * fuzz_encoding.c - libFuzzer target for encoding detection and conversion
 * in the CSV reader. The first byte forces the encoding (auto, UTF-8,
 * Windows-1252, ISO-8859-1, UTF-16LE, UTF-16BE), a small field limit, and
 * whether 1 MiB of filler lines come first, so that the input meets the
 * reader's chunk border (sequences cut in two); the rest is the file. Whenever the reader says its rows are valid UTF-8,
 * every field must be.
 */
#include "fuzz.h"

#include "buf.h"
#include "csvin.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const pim_encoding encs[8] = {
		PIM_ENC_AUTO,    PIM_ENC_UTF8,    PIM_ENC_CP1252,
		PIM_ENC_LATIN1,  PIM_ENC_UTF16LE, PIM_ENC_UTF16BE,
		PIM_ENC_AUTO,    PIM_ENC_CP1252
	};
	pim_dialect d = PIM_DIALECT_INIT;
	const pim_dialect *got;
	pim_csv *csv = NULL;
	pim_csv_row *row;
	unsigned long errors = 0;
	const char *path;
	char err[256];
	int rc;

	if (size < 1)
		return 0;
	d.encoding = encs[data[0] & 7];
	if (data[0] & 16) {
		/* filler lines in the forced encoding, then the input
		 * across the chunk border, at an offset from byte 0 */
		static char unit[3][512];
		static size_t ulen[3];
		int k = d.encoding == PIM_ENC_UTF16LE   ? 1
			: d.encoding == PIM_ENC_UTF16BE ? 2
							: 0;
		if (!ulen[0]) {
			/* 200 x, then ";å\n", in UTF-8 and in UTF-16 */
			static const unsigned short line_cp[] = { ';', 0xE5,
								  '\n' };
			for (int i = 0; i < 203; i++) {
				unsigned cp = i < 200 ? 'x' : line_cp[i - 200];
				unit[1][ulen[1]++] = (char)(cp & 0xFF);
				unit[1][ulen[1]++] = (char)(cp >> 8);
				unit[2][ulen[2]++] = (char)(cp >> 8);
				unit[2][ulen[2]++] = (char)(cp & 0xFF);
				if (cp == 0xE5) {
					unit[0][ulen[0]++] = (char)0xC3;
					unit[0][ulen[0]++] = (char)0xA5;
				} else {
					unit[0][ulen[0]++] = (char)cp;
				}
			}
		}
		size_t pad = FZ_CHUNK - 1 - (size_t)(data[0] >> 5) * 3;
		path = fz_file_padded(0, unit[k], ulen[k], pad, data + 1,
				      size - 1);
	} else {
		path = fz_file(0, data + 1, size - 1);
	}
	rc = pim_csv_open(&csv, path, &d, (data[0] & 8) ? 64 : 0, fz_diag,
			  &errors, err, sizeof err);
	if (rc) {
		FZ_CHECK(csv == NULL);
		FZ_CHECK(rc == PIM_EIO || rc == PIM_EDATA);
		return 0;
	}
	got = pim_csv_dialect(csv);
	FZ_CHECK(got->encoding != PIM_ENC_AUTO);
	if (d.encoding != PIM_ENC_AUTO)
		FZ_CHECK(got->encoding == d.encoding);
	/* the name of every encoding is known */
	FZ_CHECK(pim_encoding_parse(pim_encoding_name(got->encoding)) ==
		 (int)got->encoding);
	while ((rc = pim_csv_next(csv, &row)) == 1) {
		for (size_t i = 0; i < row->n; i++) {
			FZ_CHECK(row->field[i][row->len[i]] == '\0');
			if (got->utf8_valid)
				FZ_CHECK(pim_utf8_valid(row->field[i],
							row->len[i]) ==
					 row->len[i]);
		}
	}
	FZ_CHECK(rc == 0);
	pim_csv_close(csv);
	return 0;
}
