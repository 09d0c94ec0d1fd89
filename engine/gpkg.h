/* One-feature GeoPackage files, as geopandas/GDAL write them for an AOI:
 * table named after the file stem, columns fid, geom, item_id, collection,
 * EPSG:4326. SQLite only (no GDAL). */
#ifndef AEDB_GPKG_H
#define AEDB_GPKG_H

#include "buf.h"
#include "err.h"
#include "geom.h"

#define GPKG_APPLICATION_ID 0x47504B47 /* "GPKG" */
#define GPKG_USER_VERSION 10200        /* GeoPackage 1.2, GDAL's default */
#define GPKG_SRS_WGS84 4326

/* Append the GeoPackageBinary blob of g (header "GP", version 0, flags
 * little-endian with an xy envelope, srs_id, envelope minx,maxx,miny,maxy,
 * then ISO WKB) to out. */
int gpkg_geometry_blob(const struct geom *g, int srs_id, struct buf *out, struct aedb_err *err);

/* Write a GeoPackage at path holding one feature: table `table` (use the
 * file stem, e.g. "stac_<item>"), geometry g in EPSG:4326, item_id and
 * collection (may be NULL) as text. The file is built under a temporary
 * name in the same folder and renamed over path only when complete, so a
 * crash never leaves a partial file at path. Returns 0 or -1 with err set
 * (no file left behind). */
int gpkg_write(const char *path, const char *table, const struct geom *g, const char *item_id,
	       const char *collection, struct aedb_err *err);

#endif
