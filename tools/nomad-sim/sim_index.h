/* An ordered string index (a skip list): insert, remove, exact lookup and
 * ordered iteration from any key, all O(log n) expected. The simulator
 * keeps job and allocation ids here so that `prefix=` lists and
 * pagination tokens are a seek plus a short walk, never a scan. */
#ifndef SIM_INDEX_H
#define SIM_INDEX_H

#include <stddef.h>
#include <stdint.h>

#define SIM_INDEX_LEVELS 24

struct sim_index_node {
	const char *key;       /* borrowed from the value; must outlive the node */
	void *value;
	unsigned char height;
	struct sim_index_node *next[]; /* height entries */
};

struct sim_index {
	struct sim_index_node *head;
	size_t count;
	uint64_t rng;
	size_t bytes;          /* memory held by nodes, for the metrics gauge */
};

void sim_index_init(struct sim_index *ix, uint64_t seed);
void sim_index_release(struct sim_index *ix);
/* Insert key -> value. Returns 0, or -1 if the key exists (nothing changes). */
int sim_index_insert(struct sim_index *ix, const char *key, void *value);
/* Remove key; returns its value or NULL. */
void *sim_index_remove(struct sim_index *ix, const char *key);
void *sim_index_get(const struct sim_index *ix, const char *key);
/* The first node whose key is >= key (NULL: past the end); walk on with
 * node->next[0]. */
struct sim_index_node *sim_index_seek(const struct sim_index *ix, const char *key);

#endif
