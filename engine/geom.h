/* Planar geometry for areas of interest: GeoJSON Polygon / MultiPolygon
 * rings, the convex hull as shapely/GEOS returns it, the envelope, and ISO
 * WKB. Coordinates are 2D doubles, x = longitude, y = latitude; a third
 * GeoJSON ordinate (elevation) is dropped on parse. */
#ifndef AEDB_GEOM_H
#define AEDB_GEOM_H

#include <stddef.h>

#include "buf.h"
#include "err.h"

/* Caps on what one geometry may hold (hitting one is a per-item error). */
#define GEOM_POINTS_MAX (16u << 20)  /* positions in one geometry, all rings */
#define GEOM_RINGS_MAX (1u << 20)    /* rings in one geometry */

struct geom_pt {
	double x, y;
};

/* A closed ring: pts[0] == pts[n - 1], n >= 4. */
struct geom_ring {
	struct geom_pt *pts;
	size_t n;
};

/* rings[0] is the exterior ring, the others are holes. */
struct geom_polygon {
	struct geom_ring *rings;
	size_t nrings;
};

enum geom_type {
	GEOM_NONE = 0,
	GEOM_POLYGON = 3,      /* the WKB type codes */
	GEOM_MULTIPOLYGON = 6,
};

/* A Polygon (npolys == 1) or a MultiPolygon (npolys >= 1). */
struct geom {
	enum geom_type type;
	struct geom_polygon *polys;
	size_t npolys;
};

/* [minx, maxx] x [miny, maxy], the order of a GeoPackage envelope. */
struct geom_env {
	double minx, maxx, miny, maxy;
};

struct cJSON;

/* Read a GeoJSON geometry object (Polygon or MultiPolygon). Every ring
 * must have at least 4 positions, be closed, and hold finite numbers; a
 * null geometry, another type, or a malformed one is an error whose
 * message says what is wrong. *out is written only on success (release it
 * with geom_release). */
int geom_from_geojson(const struct cJSON *g, struct geom *out, struct aedb_err *err);

void geom_release(struct geom *g);

/* Number of positions in all rings. */
size_t geom_npoints(const struct geom *g);

/* The convex hull of every position of g, as shapely's convex_hull gives
 * it: a Polygon with one ring, clockwise, starting and ending at the point
 * with the lowest y (then lowest x), collinear points dropped. Computed
 * with Andrew's monotone chain and an exact orientation test. A hull that
 * is a point or a line (fewer than 3 non-collinear positions) is an error.
 * *out is written only on success. */
int geom_convex_hull(const struct geom *g, struct geom *out, struct aedb_err *err);

/* A MultiPolygon of exactly one part becomes that Polygon (in place);
 * anything else is left alone. */
void geom_simplify_single(struct geom *g);

/* The bounds of every position (g must hold at least one). */
void geom_envelope(const struct geom *g, struct geom_env *out);

/* Append g as little-endian ISO WKB (type 3 or 6) to out. */
int geom_to_wkb(const struct geom *g, struct buf *out, struct aedb_err *err);

/* "POLYGON" or "MULTIPOLYGON": the GeoPackage geometry type name. */
const char *geom_type_name(const struct geom *g);

/* The sign of the orientation of (a, b, c), computed exactly: 1 for a
 * counter-clockwise turn, -1 for clockwise, 0 for collinear. */
int geom_orient(struct geom_pt a, struct geom_pt b, struct geom_pt c);

#endif
