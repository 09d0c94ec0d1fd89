/* Batches, items and attempts in the store: the durable state of a
 * submission. Every function here is one short transaction (or part of the
 * caller's), so a kill -9 at any instant leaves a consistent database. */
#ifndef AEDB_BATCH_H
#define AEDB_BATCH_H

#include <cjson/cJSON.h>
#include <stdint.h>

#include "buf.h"
#include "db.h"
#include "itemlist.h"

/* Create batch `name` with params (a JSON object, never secrets) and all
 * items, in one transaction; or, when it exists, check that params are the
 * same (differences listed in err, kind usage) and add the items it does not
 * have yet. *batch_id receives the row id; *added the number of new items. */
int batch_upsert(struct aedb_db *db, const char *name, const cJSON *params,
		 const struct item_list *items, int64_t *batch_id, int64_t *added,
		 struct aedb_err *err);

/* Look a batch up by name: its id and stored params (cJSON_Delete them). */
int batch_load(struct aedb_db *db, const char *name, int64_t *batch_id, cJSON **params,
	       struct aedb_err *err);

int batch_set_state(struct aedb_db *db, int64_t batch_id, const char *state,
		    struct aedb_err *err);

/* The owner lock. acquire: refuses while a live owner holds it; takes over
 * a stale one (its pid is gone on this host, or no heartbeat for
 * BATCH_LOCK_STALE_NS) and journals the takeover. *token identifies this
 * owner (free it). heartbeat fails when the lock was taken from us. */
#define BATCH_LOCK_STALE_NS (120LL * 1000000000LL)
int batch_lock_acquire(struct aedb_db *db, int64_t batch_id, const char *command, char **token,
		       struct aedb_err *err);
int batch_lock_heartbeat(struct aedb_db *db, int64_t batch_id, const char *token,
			 struct aedb_err *err);
void batch_lock_release(struct aedb_db *db, int64_t batch_id, const char *token);

/* Append to the journal (batch_id 0 = none). data may be NULL. Never fails
 * the caller: a journal write error is returned but the caller may ignore it. */
int journal_add(struct aedb_db *db, int64_t batch_id, const char *level, const char *kind,
		const cJSON *data, struct aedb_err *err, const char *fmt, ...)
	__attribute__((format(printf, 7, 8)));

#endif
