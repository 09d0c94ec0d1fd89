/* engine/util.c and engine/err.c: strict parsing, sizes, times, errors. */
#include "engine/err.h"
#include "engine/exitcode.h"
#include "engine/util.h"
#include "test.h"

static void test_parse_int(void)
{
	int v = -7;
	int64_t w = 0;

	CHECK(parse_int("42", 0, 100, &v) == 0 && v == 42);
	CHECK(parse_int("-3", -5, 5, &v) == 0 && v == -3);
	v = 9;
	CHECK(parse_int("", 0, 100, &v) < 0);
	CHECK(parse_int(" 4", 0, 100, &v) < 0);
	CHECK(parse_int("4x", 0, 100, &v) < 0);
	CHECK(parse_int("101", 0, 100, &v) < 0);
	CHECK(parse_int("+4", 0, 100, &v) < 0);
	CHECK(parse_int("99999999999999999999", 0, 100, &v) < 0);
	CHECK_INT(v, 9); /* untouched on failure */
	CHECK(parse_i64("9000000000", 0, INT64_MAX, &w) == 0 && w == 9000000000LL);
}

static void test_parse_size(void)
{
	uint64_t v = 0;

	CHECK(parse_size("6GiB", &v) == 0 && v == 6ULL * 1024 * 1024 * 1024);
	CHECK(parse_size("6G", &v) == 0 && v == 6ULL * 1024 * 1024 * 1024);
	CHECK(parse_size("6g", &v) == 0 && v == 6ULL * 1024 * 1024 * 1024);
	CHECK(parse_size("512MiB", &v) == 0 && v == 512ULL * 1024 * 1024);
	CHECK(parse_size("1.5GB", &v) == 0 && v == 1500000000ULL);
	CHECK(parse_size("1234", &v) == 0 && v == 1234);
	CHECK(parse_size("64k", &v) == 0 && v == 65536);
	CHECK(parse_size("6 GiB", &v) < 0);
	CHECK(parse_size("GiB", &v) < 0);
	CHECK(parse_size("-1", &v) < 0);
	CHECK(parse_size("6gib", &v) < 0);
}

static void test_parse_seconds(void)
{
	double d = 0;

	CHECK(parse_seconds("10", 3600, &d) == 0 && d == 10);
	CHECK(parse_seconds("0.5", 3600, &d) == 0 && d == 0.5);
	CHECK(parse_seconds("-1", 3600, &d) < 0);
	CHECK(parse_seconds("nan", 3600, &d) < 0);
	CHECK(parse_seconds("4000", 3600, &d) < 0);
}

static void test_time_format(void)
{
	char out[64];

	aedb_format_time(1714564800123456789LL, out, sizeof(out));
	CHECK_STR(out, "2024-05-01T12:00:00.123Z");
	CHECK(aedb_now_ns() > 1700000000000000000LL);
	CHECK(aedb_mono_ns() > 0);
}

static void test_err(void)
{
	struct aedb_err err = AEDB_ERR_INIT;
	char big[3000];

	CHECK_INT(aedb_err_set(&err, "item list '%s' line %d: bad", "x.txt", 17), -1);
	CHECK_STR(err.msg, "item list 'x.txt' line 17: bad");
	CHECK_INT(aedb_err_exit_code(&err), AEDB_EXIT_FAILURE);
	aedb_err_prefix(&err, "submit");
	CHECK_STR(err.msg, "submit: item list 'x.txt' line 17: bad");
	aedb_err_setk(&err, AEDB_E_USAGE, "nope");
	CHECK_INT(aedb_err_exit_code(&err), AEDB_EXIT_USAGE);
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	aedb_err_set(&err, "%s", big);
	CHECK_INT(strlen(err.msg), AEDB_ERR_MAX - 1);
	CHECK(strcmp(err.msg + AEDB_ERR_MAX - 4, "...") == 0);
	aedb_err_clear(&err);
	CHECK_INT(aedb_err_exit_code(&err), AEDB_EXIT_OK);
}

int main(void)
{
	RUN(test_parse_int);
	RUN(test_parse_size);
	RUN(test_parse_seconds);
	RUN(test_time_format);
	RUN(test_err);
	return test_done();
}
