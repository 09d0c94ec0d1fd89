/* Every cap on a growable buffer or an input, named in one place (caps.h,
 * not limits.h, so it can never stand in for <limits.h>). Hitting a
 * cap is an error with a message, never a silent truncation. */
#ifndef AEDB_CAPS_H
#define AEDB_CAPS_H

#define AEDB_ERR_MAX 1024                   /* one error message */
#define AEDB_HTTP_BODY_MAX (64u << 20)      /* one HTTP response body held in memory */
#define AEDB_HTTP_HEADERS_MAX 64            /* response headers kept per response */
#define AEDB_HTTP_HEADER_LEN_MAX 8192       /* one response header line */
#define AEDB_URL_MAX 8192                   /* one request URL */
#define AEDB_ITEM_ID_MAX 200                /* one STAC item id */
#define AEDB_ITEM_LIST_BYTES_MAX (256u << 20) /* an item list file */
#define AEDB_ITEM_LINE_MAX 4096             /* one line of an item list */
#define AEDB_TAG_STRING_MAX 150             /* joined IdPrefixTemplate tags, as upstream */
#define AEDB_SQL_FILE_MAX (1u << 20)        /* one SQL file read at run time */
#define AEDB_PATH_MAX 4096                  /* one file system path we build */
#define AEDB_BUSY_TIMEOUT_MS 30000          /* SQLite busy timeout */

#endif
