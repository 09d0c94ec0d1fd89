/* Geometry for AOIs: reading GeoJSON polygons, the convex hull, envelopes
 * and WKB. The hull must equal what the upstream Python tool got from
 * shapely (GEOS), vertex for vertex, because the pipeline's results depend
 * on the exact polygon. GEOS decides turns with a robust predicate, so the
 * orientation test here is exact (Shewchuk's expansion arithmetic) rather
 * than a plain double cross product that may misjudge nearly collinear
 * points. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "geom.h"
#include "util.h"

void geom_release(struct geom *g)
{
	size_t i, j;

	if (!g)
		return;
	for (i = 0; i < g->npolys; i++) {
		for (j = 0; j < g->polys[i].nrings; j++)
			free(g->polys[i].rings[j].pts);
		free(g->polys[i].rings);
	}
	free(g->polys);
	memset(g, 0, sizeof(*g));
}

size_t geom_npoints(const struct geom *g)
{
	size_t i, j, n = 0;

	for (i = 0; i < g->npolys; i++)
		for (j = 0; j < g->polys[i].nrings; j++)
			n += g->polys[i].rings[j].n;
	return n;
}

/* --- GeoJSON --- */

struct parse_state {
	size_t points;
	size_t rings;
};

static int parse_ring(const cJSON *arr, struct geom_ring *out, size_t pi, size_t ri,
		      struct parse_state *st, struct aedb_err *err)
{
	const cJSON *pos;
	size_t n, k = 0;

	if (!cJSON_IsArray(arr))
		return aedb_err_set(err, "polygon %zu ring %zu is not an array of positions",
				    pi + 1, ri + 1);
	n = (size_t)cJSON_GetArraySize(arr);
	if (n < 4)
		return aedb_err_set(err, "polygon %zu ring %zu has %zu positions; a ring needs at least 4",
				    pi + 1, ri + 1, n);
	if (n > GEOM_POINTS_MAX - st->points)
		return aedb_err_set(err, "geometry has more than %u positions", GEOM_POINTS_MAX);
	st->points += n;
	out->pts = xcalloc(n, sizeof(*out->pts));
	out->n = n;
	cJSON_ArrayForEach(pos, arr) {
		const cJSON *x, *y;

		if (!cJSON_IsArray(pos) || cJSON_GetArraySize(pos) < 2)
			goto bad;
		x = cJSON_GetArrayItem(pos, 0);
		y = cJSON_GetArrayItem(pos, 1);
		if (!cJSON_IsNumber(x) || !cJSON_IsNumber(y) || !isfinite(x->valuedouble) ||
		    !isfinite(y->valuedouble))
			goto bad;
		out->pts[k].x = x->valuedouble;
		out->pts[k].y = y->valuedouble;
		k++;
	}
	if (out->pts[0].x != out->pts[n - 1].x || out->pts[0].y != out->pts[n - 1].y)
		return aedb_err_set(err, "polygon %zu ring %zu is not closed (its first and last positions differ)",
				    pi + 1, ri + 1);
	return 0;
bad:
	return aedb_err_set(err, "polygon %zu ring %zu position %zu is not a pair of finite numbers",
			    pi + 1, ri + 1, k + 1);
}

static int parse_polygon(const cJSON *arr, struct geom_polygon *out, size_t pi,
			 struct parse_state *st, struct aedb_err *err)
{
	const cJSON *ring;
	size_t n, k = 0;

	if (!cJSON_IsArray(arr))
		return aedb_err_set(err, "polygon %zu is not an array of rings", pi + 1);
	n = (size_t)cJSON_GetArraySize(arr);
	if (n == 0)
		return aedb_err_set(err, "polygon %zu has no rings", pi + 1);
	if (n > GEOM_RINGS_MAX - st->rings)
		return aedb_err_set(err, "geometry has more than %u rings", GEOM_RINGS_MAX);
	st->rings += n;
	out->rings = xcalloc(n, sizeof(*out->rings));
	out->nrings = n;
	cJSON_ArrayForEach(ring, arr) {
		if (parse_ring(ring, &out->rings[k], pi, k, st, err) < 0)
			return -1;
		k++;
	}
	return 0;
}

int geom_from_geojson(const cJSON *g, struct geom *out, struct aedb_err *err)
{
	const cJSON *type, *coords, *poly;
	struct parse_state st = { 0, 0 };
	struct geom r;
	size_t n, k = 0;

	memset(&r, 0, sizeof(r));
	if (!g || cJSON_IsNull(g))
		return aedb_err_set(err, "the item has no geometry");
	if (!cJSON_IsObject(g))
		return aedb_err_set(err, "the item's geometry is not a GeoJSON object");
	type = cJSON_GetObjectItemCaseSensitive(g, "type");
	if (!cJSON_IsString(type))
		return aedb_err_set(err, "the item's geometry has no \"type\"");
	coords = cJSON_GetObjectItemCaseSensitive(g, "coordinates");
	if (strcmp(type->valuestring, "Polygon") == 0) {
		r.type = GEOM_POLYGON;
		r.polys = xcalloc(1, sizeof(*r.polys));
		r.npolys = 1;
		if (parse_polygon(coords, &r.polys[0], 0, &st, err) < 0)
			goto fail;
	} else if (strcmp(type->valuestring, "MultiPolygon") == 0) {
		r.type = GEOM_MULTIPOLYGON;
		if (!cJSON_IsArray(coords)) {
			aedb_err_set(err, "MultiPolygon coordinates are not an array of polygons");
			goto fail;
		}
		n = (size_t)cJSON_GetArraySize(coords);
		if (n == 0) {
			aedb_err_set(err, "the item's geometry is an empty MultiPolygon");
			goto fail;
		}
		if (n > GEOM_RINGS_MAX) {
			aedb_err_set(err, "geometry has more than %u polygons", GEOM_RINGS_MAX);
			goto fail;
		}
		r.polys = xcalloc(n, sizeof(*r.polys));
		r.npolys = n;
		cJSON_ArrayForEach(poly, coords) {
			if (parse_polygon(poly, &r.polys[k], k, &st, err) < 0)
				goto fail;
			k++;
		}
	} else {
		return aedb_err_set(err, "the item's geometry is a %.40s; only Polygon and MultiPolygon are supported",
				    type->valuestring);
	}
	*out = r;
	return 0;
fail:
	aedb_err_prefix(err, "bad %s geometry", r.type == GEOM_POLYGON ? "Polygon" : "MultiPolygon");
	geom_release(&r);
	return -1;
}

/* --- exact orientation --- */

static void two_sum(double a, double b, double *s, double *e)
{
	double x = a + b, bv = x - a, av = x - bv;

	*s = x;
	*e = (a - av) + (b - bv);
}

/* Add b to the expansion e[0..*n) (nonoverlapping, increasing magnitude):
 * Shewchuk's Grow-Expansion. */
static void grow(double *e, size_t *n, double b)
{
	double q = b, h;
	size_t i;

	for (i = 0; i < *n; i++) {
		two_sum(q, e[i], &q, &h);
		e[i] = h;
	}
	e[(*n)++] = q;
}

int geom_orient(struct geom_pt a, struct geom_pt b, struct geom_pt c)
{
	double left = (b.x - a.x) * (c.y - a.y), right = (b.y - a.y) * (c.x - a.x);
	double det = left - right, bound;
	double terms[6][2], e[12];
	size_t i, n = 0;

	/* Shewchuk's ccwerrboundA: when |det| is above it, its sign is right */
	bound = (3.0 + 16.0 * 0x1p-53) * 0x1p-53 * (fabs(left) + fabs(right));
	if (det > bound)
		return 1;
	if (-det > bound)
		return -1;
	/* exact: det = bx*cy - bx*ay - ax*cy - by*cx + by*ax + ay*cx, each
	 * product split into a double and its exact rounding error by fma */
	terms[0][0] = b.x * c.y;
	terms[1][0] = -(b.x * a.y);
	terms[2][0] = -(a.x * c.y);
	terms[3][0] = -(b.y * c.x);
	terms[4][0] = b.y * a.x;
	terms[5][0] = a.y * c.x;
	terms[0][1] = fma(b.x, c.y, -terms[0][0]);
	terms[1][1] = -fma(b.x, a.y, terms[1][0]);
	terms[2][1] = -fma(a.x, c.y, terms[2][0]);
	terms[3][1] = -fma(b.y, c.x, terms[3][0]);
	terms[4][1] = fma(b.y, a.x, -terms[4][0]);
	terms[5][1] = fma(a.y, c.x, -terms[5][0]);
	for (i = 0; i < 6; i++) {
		grow(e, &n, terms[i][1]);
		grow(e, &n, terms[i][0]);
	}
	while (n-- > 0) {
		if (e[n] > 0)
			return 1;
		if (e[n] < 0)
			return -1;
	}
	return 0;
}

/* --- convex hull --- */

static int pt_cmp(const void *pa, const void *pb)
{
	const struct geom_pt *a = pa, *b = pb;

	if (a->x != b->x)
		return a->x < b->x ? -1 : 1;
	if (a->y != b->y)
		return a->y < b->y ? -1 : 1;
	return 0;
}

int geom_convex_hull(const struct geom *g, struct geom *out, struct aedb_err *err)
{
	size_t total = geom_npoints(g), n = 0, i, j, k = 0, start, lower;
	struct geom_pt *p = NULL, *h = NULL;
	struct geom r;
	int ret = -1;

	if (total == 0)
		return aedb_err_set(err, "the geometry has no positions, so it has no convex hull");
	p = xmalloc(total * sizeof(*p));
	for (i = 0; i < g->npolys; i++)
		for (j = 0; j < g->polys[i].nrings; j++) {
			memcpy(p + n, g->polys[i].rings[j].pts, g->polys[i].rings[j].n * sizeof(*p));
			n += g->polys[i].rings[j].n;
		}
	qsort(p, n, sizeof(*p), pt_cmp);
	for (i = 1, j = 1; i < n; i++)
		if (pt_cmp(&p[i], &p[j - 1]) != 0)
			p[j++] = p[i];
	n = j;
	if (n < 3) {
		aedb_err_set(err, "the convex hull is a %s, not a polygon", n == 1 ? "point" : "line");
		goto out;
	}
	/* Andrew's monotone chain: lower chain left to right, upper right to
	 * left; "<= 0" pops collinear points too */
	h = xmalloc((2 * n + 1) * sizeof(*h));
	for (i = 0; i < n; i++) {
		while (k >= 2 && geom_orient(h[k - 2], h[k - 1], p[i]) <= 0)
			k--;
		h[k++] = p[i];
	}
	lower = k + 1;
	for (i = n - 1; i-- > 0;) {
		while (k >= lower && geom_orient(h[k - 2], h[k - 1], p[i]) <= 0)
			k--;
		h[k++] = p[i];
	}
	k--; /* the last point repeats the first */
	if (k < 3) {
		aedb_err_set(err, "the convex hull is a line (all positions are collinear), not a polygon");
		goto out;
	}
	/* h[0..k) is counter-clockwise; GEOS gives it clockwise, starting at
	 * the lowest y (then lowest x) */
	start = 0;
	for (i = 1; i < k; i++)
		if (h[i].y < h[start].y || (h[i].y == h[start].y && h[i].x < h[start].x))
			start = i;
	memset(&r, 0, sizeof(r));
	r.type = GEOM_POLYGON;
	r.npolys = 1;
	r.polys = xcalloc(1, sizeof(*r.polys));
	r.polys[0].nrings = 1;
	r.polys[0].rings = xcalloc(1, sizeof(*r.polys[0].rings));
	r.polys[0].rings[0].n = k + 1;
	r.polys[0].rings[0].pts = xmalloc((k + 1) * sizeof(struct geom_pt));
	for (i = 0; i < k; i++)
		r.polys[0].rings[0].pts[i] = h[(start + k - i) % k];
	r.polys[0].rings[0].pts[k] = r.polys[0].rings[0].pts[0];
	*out = r;
	ret = 0;
out:
	free(p);
	free(h);
	return ret;
}

void geom_simplify_single(struct geom *g)
{
	if (g->type == GEOM_MULTIPOLYGON && g->npolys == 1)
		g->type = GEOM_POLYGON;
}

void geom_envelope(const struct geom *g, struct geom_env *out)
{
	struct geom_env e = { INFINITY, -INFINITY, INFINITY, -INFINITY };
	size_t i, j, k;

	for (i = 0; i < g->npolys; i++)
		for (j = 0; j < g->polys[i].nrings; j++)
			for (k = 0; k < g->polys[i].rings[j].n; k++) {
				const struct geom_pt *p = &g->polys[i].rings[j].pts[k];

				if (p->x < e.minx)
					e.minx = p->x;
				if (p->x > e.maxx)
					e.maxx = p->x;
				if (p->y < e.miny)
					e.miny = p->y;
				if (p->y > e.maxy)
					e.maxy = p->y;
			}
	*out = e;
}

/* --- WKB --- */

static int polygon_wkb(const struct geom_polygon *p, struct buf *out, struct aedb_err *err)
{
	size_t j, k;

	if (buf_putc(out, 1, err) < 0 || buf_put_le32(out, GEOM_POLYGON, err) < 0 ||
	    buf_put_le32(out, (uint32_t)p->nrings, err) < 0)
		return -1;
	for (j = 0; j < p->nrings; j++) {
		if (buf_put_le32(out, (uint32_t)p->rings[j].n, err) < 0)
			return -1;
		for (k = 0; k < p->rings[j].n; k++)
			if (buf_put_le_double(out, p->rings[j].pts[k].x, err) < 0 ||
			    buf_put_le_double(out, p->rings[j].pts[k].y, err) < 0)
				return -1;
	}
	return 0;
}

int geom_to_wkb(const struct geom *g, struct buf *out, struct aedb_err *err)
{
	size_t i;

	if (g->type == GEOM_POLYGON)
		return polygon_wkb(&g->polys[0], out, err);
	if (g->type != GEOM_MULTIPOLYGON)
		return aedb_err_set(err, "no geometry to encode");
	if (buf_putc(out, 1, err) < 0 || buf_put_le32(out, GEOM_MULTIPOLYGON, err) < 0 ||
	    buf_put_le32(out, (uint32_t)g->npolys, err) < 0)
		return -1;
	for (i = 0; i < g->npolys; i++)
		if (polygon_wkb(&g->polys[i], out, err) < 0)
			return -1;
	return 0;
}

const char *geom_type_name(const struct geom *g)
{
	return g->type == GEOM_MULTIPOLYGON ? "MULTIPOLYGON" : "POLYGON";
}
