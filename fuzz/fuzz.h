/*
 * fuzz.h - shared by the libFuzzer targets in fuzz/: the embedded project
 * files, an in-memory file (memfd) that the CSV reader opens by path, and a
 * diagnostics callback that touches every string of every diagnostic so
 * that AddressSanitizer sees a dangling or unterminated one.
 */
#ifndef PIM_FUZZ_H
#define PIM_FUZZ_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "pim.h"

/* fuzz_data.c, made by fuzz/embed.sh from files in the tree */
extern const char fz_example_schema[], fz_value_schema[];
extern const char fz_nordic_mapping[], fz_standard_mapping[];
extern const char fz_nordic_csv[], fz_standard_csv[];
extern const size_t fz_example_schema_len, fz_value_schema_len;
extern const size_t fz_nordic_mapping_len, fz_standard_mapping_len;
extern const size_t fz_nordic_csv_len, fz_standard_csv_len;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define FZ_CHECK(cond)                                                      \
	do {                                                                \
		if (!(cond)) {                                              \
			fprintf(stderr, "%s:%d: check failed: %s\n",        \
				__FILE__, __LINE__, #cond);                 \
			abort();                                            \
		}                                                           \
	} while (0)

/* A file holding `size` bytes of `data`; the path stays valid. `slot`
 * picks one of two files, for targets that need two at once. */
static inline const char *fz_file(int slot, const void *data, size_t size)
{
	static int fd[2] = { -1, -1 };
	static char path[2][64];
	size_t done = 0;

	if (fd[slot] < 0) {
		fd[slot] = memfd_create("pim-fuzz", MFD_CLOEXEC);
		FZ_CHECK(fd[slot] >= 0);
		snprintf(path[slot], sizeof path[slot], "/proc/self/fd/%d",
			 fd[slot]);
	}
	FZ_CHECK(ftruncate(fd[slot], 0) == 0);
	while (done < size) {
		ssize_t w = pwrite(fd[slot], (const char *)data + done,
				   size - done, (off_t)done);
		FZ_CHECK(w > 0);
		done += (size_t)w;
	}
	return path[slot];
}

/*
 * As fz_file, after `pad` bytes of filler: lines of `unit` (repeated) so
 * that the input proper straddles the reader's 1 MiB chunk border, which
 * small inputs never reach otherwise.
 */
static inline const char *fz_file_padded(int slot, const char *unit,
					 size_t unit_len, size_t pad,
					 const void *data, size_t size)
{
	/* the filler is made once per unit and kept */
	static const char *last_unit;
	static char *fill;
	static size_t fill_len;
	char *buf;
	const char *path;

	if (unit != last_unit || fill_len < pad) {
		free(fill);
		fill = malloc(pad);
		FZ_CHECK(fill != NULL);
		for (size_t i = 0; i < pad; i++)
			fill[i] = unit[i % unit_len];
		fill_len = pad;
		last_unit = unit;
	}
	buf = malloc(pad + size + 1);
	FZ_CHECK(buf != NULL);
	memcpy(buf, fill, pad);
	if (size)
		memcpy(buf + pad, data, size);
	path = fz_file(slot, buf, pad + size);
	free(buf);
	return path;
}

#define FZ_CHUNK ((size_t)1 << 20) /* the CSV reader's chunk size */

static inline size_t fz_touch(const char *s)
{
	return s ? strlen(s) : 0;
}

/* Reads everything a diagnostic points to; counts errors in *ctx. */
static inline int fz_diag(const pim_diag *d, void *ctx)
{
	volatile size_t n = 0;

	FZ_CHECK(d->message != NULL);
	FZ_CHECK(d->severity == PIM_SEV_ERROR ||
		 d->severity == PIM_SEV_WARNING);
	n += fz_touch(d->file) + fz_touch(d->column) + fz_touch(d->attribute);
	n += fz_touch(d->code) + fz_touch(d->message) + fz_touch(d->value);
	n += fz_touch(d->key);
	(void)n;
	if (ctx && d->severity == PIM_SEV_ERROR)
		(*(unsigned long *)ctx)++;
	return 0;
}

#endif
