/* Choosing items for another attempt: the failed ones (by the item_outcome
 * view) or a given list, reset to pending so the submitter dispatches them
 * again as attempt n+1. Earlier attempts and everything recorded about
 * them stay. */
#ifndef AEDB_RETRY_H
#define AEDB_RETRY_H

#include <stdint.h>

#include "buf.h"
#include "db.h"
#include "itemlist.h"

struct retry_result {
	int64_t selected;    /* items that will be (or would be) retried */
	int64_t skipped;     /* named items still running or not in the batch */
	struct buf lines;    /* "item<TAB>outcome<TAB>reason" per selected item, then
			      * "skip<TAB>item<TAB>why" per skipped one */
};

void retry_result_init(struct retry_result *r);
void retry_result_release(struct retry_result *r);

/* Select the batch's failed items (outcome failed, silent or log_missing),
 * or the items named in list (any finished or failed item of the batch),
 * and unless dry_run reset them to pending in one transaction (an item whose
 * AOI failed gets its AOI prepared again) and journal it. */
int retry_items(struct aedb_db *db, int64_t batch_id, const struct item_list *list, int dry_run,
		struct retry_result *out, struct aedb_err *err);

#endif
