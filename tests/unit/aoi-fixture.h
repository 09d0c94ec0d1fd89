/* Helpers shared by the AOI unit tests: read a file of tests/data. */
#ifndef AEDB_TEST_AOI_FIXTURE_H
#define AEDB_TEST_AOI_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>

/* The whole file tests/data/<rel> as a malloc'd string, or NULL. */
static inline char *fixture_read(const char *rel)
{
	const char *root = getenv("AEDB_SOURCE_ROOT");
	char path[4096];
	FILE *f;
	char *s;
	long n;

	snprintf(path, sizeof(path), "%s/tests/data/%s", root ? root : ".", rel);
	f = fopen(path, "rb");
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	s = malloc((size_t)n + 1);
	if (s && fread(s, 1, (size_t)n, f) != (size_t)n) {
		free(s);
		s = NULL;
	}
	if (s)
		s[n] = '\0';
	fclose(f);
	return s;
}

#endif
