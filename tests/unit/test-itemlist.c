/* engine/itemlist.c: every rule of the item list, with line numbers. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "engine/itemlist.h"
#include "engine/util.h"
#include "test.h"

static char path[] = "/tmp/aedb-test-itemlist-XXXXXX";

static void write_list(const char *bytes, size_t len)
{
	FILE *f = fopen(path, "wb");

	fwrite(bytes, 1, len, f);
	fclose(f);
}

#define WRITE(s) write_list((s), sizeof(s) - 1)

static void test_plain_crlf_bom_blank(void)
{
	struct aedb_err err = AEDB_ERR_INIT;
	struct item_list l;

	WRITE("\xef\xbb\xbf" "a-1\r\n\r\n  b_2  \n\n\tc.3\r\n");
	REQUIRE(itemlist_read(path, "batch1", &l, NULL, &err) == 0);
	CHECK_INT(l.n, 3);
	CHECK_STR(l.items[0].name, "a-1");
	CHECK_INT(l.items[0].line, 1);
	CHECK_STR(l.items[1].name, "b_2");
	CHECK_INT(l.items[1].line, 3);
	CHECK_STR(l.items[2].name, "c.3");
	CHECK_INT(l.items[2].line, 5);
	CHECK_INT(l.nwarnings, 0);
	itemlist_release(&l);
}

static void test_duplicates_kept_once(void)
{
	struct aedb_err err = AEDB_ERR_INIT;
	struct item_list l;

	WRITE("x\ny\nx\nz\ny\n");
	REQUIRE(itemlist_read(path, NULL, &l, NULL, &err) == 0);
	CHECK_INT(l.n, 3);
	CHECK_INT(l.nwarnings, 2);
	CHECK_CONTAINS(buf_str(&l.warnings), "line 3: 'x' repeats line 1; kept once");
	CHECK_CONTAINS(buf_str(&l.warnings), "line 5: 'y' repeats line 2");
	itemlist_release(&l);
}

static void test_every_problem_with_line_numbers(void)
{
	struct aedb_err err = AEDB_ERR_INIT;
	struct item_list l;
	struct buf all;
	const char *s;

	WRITE("ok1\na b\nc/d\ne&f\ng,h\ni[j\nk]l\nm=n\no:p\nq\x01r\n\xff\xfe\nok2\n");
	buf_init(&all, 1 << 20, "problems");
	CHECK(itemlist_read(path, "b", &l, &all, &err) < 0);
	CHECK_INT(err.kind, AEDB_E_USAGE);
	CHECK_CONTAINS(err.msg, "has 10 problems");
	s = buf_str(&all);
	CHECK_CONTAINS(s, "line 2: a space is not allowed in an item id");
	CHECK_CONTAINS(s, "line 3: '/' is not allowed in an item id");
	CHECK_CONTAINS(s, "line 4: '&' is not allowed");
	CHECK_CONTAINS(s, "line 5: ',' is not allowed");
	CHECK_CONTAINS(s, "line 6: '[' is not allowed");
	CHECK_CONTAINS(s, "line 7: ']' is not allowed");
	CHECK_CONTAINS(s, "line 8: '=' is not allowed");
	CHECK_CONTAINS(s, "line 9: ':' is not allowed");
	CHECK_CONTAINS(s, "line 10: control characters are not allowed");
	CHECK_CONTAINS(s, "line 11: the line is not valid UTF-8");
	buf_release(&all);
}

static void test_tag_limit(void)
{
	struct aedb_err err = AEDB_ERR_INIT;
	struct item_list l;
	char big[200];

	memset(big, 'x', 140);
	big[140] = '\n';
	write_list(big, 141);
	CHECK(itemlist_read(path, "batch", &l, NULL, &err) < 0);
	CHECK_CONTAINS(err.msg, "line 1: 'batch_name=batch,aoi_name=...' would be longer than the 150");
	memset(big, 'x', 120);
	big[120] = '\n';
	write_list(big, 121);
	CHECK(itemlist_read(path, "batch", &l, NULL, &err) == 0);
	itemlist_release(&l);
}

static void test_empty_and_missing(void)
{
	struct aedb_err err = AEDB_ERR_INIT;
	struct item_list l;

	WRITE("\n\n  \n");
	CHECK(itemlist_read(path, NULL, &l, NULL, &err) < 0);
	CHECK_CONTAINS(err.msg, "holds no item ids");
	CHECK(itemlist_read("/nonexistent/list.txt", NULL, &l, NULL, &err) < 0);
	CHECK_CONTAINS(err.msg, "cannot read item list '/nonexistent/list.txt'");
	CHECK_INT(err.kind, AEDB_E_USAGE);
}

static void test_utf8_ids_accepted(void)
{
	struct aedb_err err = AEDB_ERR_INIT;
	struct item_list l;

	WRITE("caf\xc3\xa9-item\n");
	REQUIRE(itemlist_read(path, NULL, &l, NULL, &err) == 0);
	CHECK_STR(l.items[0].name, "caf\xc3\xa9-item");
	itemlist_release(&l);
}

int main(void)
{
	int fd = mkstemp(path);

	if (fd < 0)
		return 1;
	close(fd);
	RUN(test_plain_crlf_bom_blank);
	RUN(test_duplicates_kept_once);
	RUN(test_every_problem_with_line_numbers);
	RUN(test_tag_limit);
	RUN(test_empty_and_missing);
	RUN(test_utf8_ids_accepted);
	unlink(path);
	return test_done();
}
