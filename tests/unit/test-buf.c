/* engine/buf.c: growth, caps and detach. */
#include <stdlib.h>

#include "engine/buf.h"
#include "test.h"

static void test_append_and_printf(void)
{
	struct aedb_err err = AEDB_ERR_INIT;
	struct buf b;
	int i;

	buf_init(&b, 1 << 20, "test buffer");
	CHECK_STR(buf_str(&b), "");
	for (i = 0; i < 1000; i++)
		REQUIRE(buf_printf(&b, &err, "%d,", i) == 0);
	CHECK(b.len > 3000);
	CHECK(strncmp(buf_str(&b), "0,1,2,", 6) == 0);
	CHECK(b.data[b.len] == '\0');
	buf_reset(&b);
	CHECK_INT(b.len, 0);
	CHECK_STR(buf_str(&b), "");
	buf_release(&b);
}

static void test_cap_is_an_error(void)
{
	struct aedb_err err = AEDB_ERR_INIT;
	struct buf b;

	buf_init(&b, 8, "small buffer");
	CHECK(buf_puts(&b, "12345678", &err) == 0);
	CHECK(buf_putc(&b, '9', &err) == -1);
	CHECK_CONTAINS(err.msg, "small buffer is larger than its limit of 8 bytes");
	CHECK_INT(b.len, 8); /* nothing half-appended */
	CHECK(buf_printf(&b, &err, "%s", "x") == -1);
	buf_release(&b);
}

static void test_detach(void)
{
	struct aedb_err err = AEDB_ERR_INIT;
	struct buf b;
	size_t len = 0;
	char *p;

	buf_init(&b, 100, NULL);
	buf_puts(&b, "hello", &err);
	p = buf_detach(&b, &len);
	CHECK_STR(p, "hello");
	CHECK_INT(len, 5);
	CHECK(b.data == NULL && b.len == 0);
	free(p);
	p = buf_detach(&b, NULL);
	CHECK_STR(p, "");
	free(p);
}

int main(void)
{
	RUN(test_append_and_printf);
	RUN(test_cap_is_an_error);
	RUN(test_detach);
	return test_done();
}
