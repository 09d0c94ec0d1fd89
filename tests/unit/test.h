/* A tiny test harness that speaks TAP, so meson counts each check.
 *
 *   static void test_x(void) { CHECK(a == b); CHECK_STR(s, "x"); }
 *   int main(void) { RUN(test_x); return test_done(); }
 *
 * CHECK* record a failure with file:line and go on; REQUIRE* return from the
 * test function on failure. */
#ifndef AEDB_TEST_H
#define AEDB_TEST_H

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int test_count, test_failed, test_cur_failed;
static const char *test_cur_name;

#define CHECK(cond) test_check(!!(cond), #cond, __FILE__, __LINE__)
#define REQUIRE(cond) do { if (!CHECK(cond)) return; } while (0)
#define CHECK_INT(a, b) test_check_int((long long)(a), (long long)(b), #a, __FILE__, __LINE__)
#define CHECK_STR(a, b) test_check_str((a), (b), #a, __FILE__, __LINE__)
#define CHECK_CONTAINS(hay, needle) \
	test_check_contains((hay), (needle), #hay, __FILE__, __LINE__)
#define RUN(fn) test_run(fn, #fn)
#define SKIP(fn, why) printf("ok %d - %s # SKIP %s\n", ++test_count, #fn, why)

static inline int test_check(int ok, const char *what, const char *file, int line)
{
	if (!ok) {
		printf("# %s:%d: check failed: %s\n", file, line, what);
		test_cur_failed = 1;
	}
	return ok;
}

static inline int test_check_int(long long a, long long b, const char *what, const char *file,
				 int line)
{
	if (a != b) {
		printf("# %s:%d: %s is %lld, expected %lld\n", file, line, what, a, b);
		test_cur_failed = 1;
		return 0;
	}
	return 1;
}

static inline int test_check_str(const char *a, const char *b, const char *what, const char *file,
				 int line)
{
	if (!a || !b || strcmp(a, b) != 0) {
		printf("# %s:%d: %s is '%s', expected '%s'\n", file, line, what, a ? a : "(null)",
		       b ? b : "(null)");
		test_cur_failed = 1;
		return 0;
	}
	return 1;
}

static inline int test_check_contains(const char *hay, const char *needle, const char *what,
				      const char *file, int line)
{
	if (!hay || !strstr(hay, needle)) {
		printf("# %s:%d: %s is '%s', expected it to contain '%s'\n", file, line, what,
		       hay ? hay : "(null)", needle);
		test_cur_failed = 1;
		return 0;
	}
	return 1;
}

static inline void test_run(void (*fn)(void), const char *name)
{
	test_cur_name = name;
	test_cur_failed = 0;
	fn();
	test_count++;
	if (test_cur_failed)
		test_failed++;
	printf("%s %d - %s\n", test_cur_failed ? "not ok" : "ok", test_count, name);
	fflush(stdout);
}

static inline int test_rm_entry(const char *path, const struct stat *sb, int flag,
				struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* Remove a temporary folder the test made, and everything in it. */
static inline void test_rmtree(const char *path)
{
	nftw(path, test_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static inline int test_done(void)
{
	printf("1..%d\n", test_count);
	return test_failed ? 1 : 0;
}

#endif
