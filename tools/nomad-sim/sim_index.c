/* The simulator's ordered id index: a skip list keyed by C strings. Chosen
 * over a balanced tree for its short code and trivial ordered iteration
 * (level 0 is a sorted linked list), which is what prefix lists and
 * `next_token` pagination need. */
#include <stdlib.h>
#include <string.h>

#include "sim_index.h"
#include "util.h"

static unsigned random_height(struct sim_index *ix)
{
	unsigned h = 1;
	uint64_t x;

	/* xorshift64: cheap, deterministic per index */
	x = ix->rng;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	ix->rng = x;
	while (h < SIM_INDEX_LEVELS && (x & 3) == 0) { /* p = 1/4 */
		h++;
		x >>= 2;
	}
	return h;
}

static struct sim_index_node *node_new(const char *key, void *value, unsigned height)
{
	struct sim_index_node *n = xcalloc(1, sizeof(*n) + height * sizeof(n->next[0]));

	n->key = key;
	n->value = value;
	n->height = (unsigned char)height;
	return n;
}

void sim_index_init(struct sim_index *ix, uint64_t seed)
{
	ix->head = node_new("", NULL, SIM_INDEX_LEVELS);
	ix->count = 0;
	ix->rng = seed ? seed : 0x9e3779b97f4a7c15ull;
	ix->bytes = 0;
}

void sim_index_release(struct sim_index *ix)
{
	struct sim_index_node *n, *next;

	if (!ix->head)
		return;
	for (n = ix->head; n; n = next) {
		next = n->next[0];
		free(n);
	}
	ix->head = NULL;
	ix->count = 0;
}

/* Fill update[] with the last node before key at each level. */
static struct sim_index_node *find(const struct sim_index *ix, const char *key,
				   struct sim_index_node **update)
{
	struct sim_index_node *x = ix->head;
	int i;

	for (i = SIM_INDEX_LEVELS - 1; i >= 0; i--) {
		while (x->next[i] && strcmp(x->next[i]->key, key) < 0)
			x = x->next[i];
		if (update)
			update[i] = x;
	}
	return x->next[0];
}

int sim_index_insert(struct sim_index *ix, const char *key, void *value)
{
	struct sim_index_node *update[SIM_INDEX_LEVELS];
	struct sim_index_node *n = find(ix, key, update);
	unsigned h, i;

	if (n && strcmp(n->key, key) == 0)
		return -1;
	h = random_height(ix);
	n = node_new(key, value, h);
	for (i = 0; i < h; i++) {
		n->next[i] = update[i]->next[i];
		update[i]->next[i] = n;
	}
	ix->count++;
	ix->bytes += sizeof(*n) + h * sizeof(n->next[0]);
	return 0;
}

void *sim_index_remove(struct sim_index *ix, const char *key)
{
	struct sim_index_node *update[SIM_INDEX_LEVELS];
	struct sim_index_node *n = find(ix, key, update);
	void *v;
	unsigned i;

	if (!n || strcmp(n->key, key) != 0)
		return NULL;
	for (i = 0; i < n->height; i++)
		if (update[i]->next[i] == n)
			update[i]->next[i] = n->next[i];
	v = n->value;
	ix->count--;
	ix->bytes -= sizeof(*n) + n->height * sizeof(n->next[0]);
	free(n);
	return v;
}

void *sim_index_get(const struct sim_index *ix, const char *key)
{
	struct sim_index_node *n = find(ix, key, NULL);

	return n && strcmp(n->key, key) == 0 ? n->value : NULL;
}

struct sim_index_node *sim_index_seek(const struct sim_index *ix, const char *key)
{
	return find(ix, key, NULL);
}
