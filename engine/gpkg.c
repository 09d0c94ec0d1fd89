/* The GeoPackage writer: one feature per file, byte-compatible with what
 * geopandas (through GDAL) wrote for the upstream tool, so GDAL, geopandas
 * and validate_gpkg.py read it without a warning. The DDL below is the
 * GeoPackage spec's own (Annex C, as GDAL writes it); it describes a file
 * format, not aedb's database, so it lives here rather than in sql/.
 *
 * No spatial index and no gpkg_ogr_contents: neither is needed to read a
 * one-feature file, and the R-tree triggers call ST_* functions that plain
 * SQLite lacks. */
#include <errno.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gpkg.h"
#include "caps.h"
#include "util.h"

static const char wgs84_wkt[] =
	"GEOGCS[\"WGS 84\",DATUM[\"WGS_1984\",SPHEROID[\"WGS 84\",6378137,298.257223563,"
	"AUTHORITY[\"EPSG\",\"7030\"]],AUTHORITY[\"EPSG\",\"6326\"]],PRIMEM[\"Greenwich\",0,"
	"AUTHORITY[\"EPSG\",\"8901\"]],UNIT[\"degree\",0.0174532925199433,"
	"AUTHORITY[\"EPSG\",\"9122\"]],AXIS[\"Latitude\",NORTH],AXIS[\"Longitude\",EAST],"
	"AUTHORITY[\"EPSG\",\"4326\"]]";

static const char schema_sql[] =
	"CREATE TABLE gpkg_spatial_ref_sys (srs_name TEXT NOT NULL, srs_id INTEGER NOT NULL PRIMARY KEY,"
	" organization TEXT NOT NULL, organization_coordsys_id INTEGER NOT NULL,"
	" definition TEXT NOT NULL, description TEXT);"
	"CREATE TABLE gpkg_contents (table_name TEXT NOT NULL PRIMARY KEY, data_type TEXT NOT NULL,"
	" identifier TEXT UNIQUE, description TEXT DEFAULT '',"
	" last_change DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),"
	" min_x DOUBLE, min_y DOUBLE, max_x DOUBLE, max_y DOUBLE, srs_id INTEGER,"
	" CONSTRAINT fk_gc_r_srs_id FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys(srs_id));"
	"CREATE TABLE gpkg_geometry_columns (table_name TEXT NOT NULL, column_name TEXT NOT NULL,"
	" geometry_type_name TEXT NOT NULL, srs_id INTEGER NOT NULL, z TINYINT NOT NULL,"
	" m TINYINT NOT NULL, CONSTRAINT pk_geom_cols PRIMARY KEY (table_name, column_name),"
	" CONSTRAINT uk_gc_table_name UNIQUE (table_name),"
	" CONSTRAINT fk_gc_tn FOREIGN KEY (table_name) REFERENCES gpkg_contents(table_name),"
	" CONSTRAINT fk_gc_srs FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys (srs_id));"
	"INSERT INTO gpkg_spatial_ref_sys VALUES ('Undefined Cartesian SRS', -1, 'NONE', -1,"
	" 'undefined', 'undefined Cartesian coordinate reference system');"
	"INSERT INTO gpkg_spatial_ref_sys VALUES ('Undefined geographic SRS', 0, 'NONE', 0,"
	" 'undefined', 'undefined geographic coordinate reference system');";

int gpkg_geometry_blob(const struct geom *g, int srs_id, struct buf *out, struct aedb_err *err)
{
	/* 'G' 'P', version 0, flags: B=1 (little-endian), E=1 (xy envelope) */
	static const unsigned char head[4] = { 0x47, 0x50, 0x00, 0x03 };
	struct geom_env env;

	if (g->npolys == 0)
		return aedb_err_set(err, "no geometry to encode");
	geom_envelope(g, &env);
	if (buf_append(out, head, 4, err) < 0 || buf_put_le32(out, (uint32_t)srs_id, err) < 0 ||
	    buf_put_le_double(out, env.minx, err) < 0 || buf_put_le_double(out, env.maxx, err) < 0 ||
	    buf_put_le_double(out, env.miny, err) < 0 || buf_put_le_double(out, env.maxy, err) < 0)
		return -1;
	return geom_to_wkb(g, out, err);
}

static int exec(sqlite3 *db, const char *sql, const char *tmp, struct aedb_err *err)
{
	char *msg = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		aedb_err_set(err, "cannot write GeoPackage '%s': %s", tmp, msg ? msg : "unknown error");
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

static int fill(sqlite3 *db, const char *tmp, const char *table, const struct geom *g,
		const char *item_id, const char *collection, struct aedb_err *err)
{
	struct buf blob;
	struct geom_env env;
	sqlite3_stmt *st = NULL;
	char *sql = NULL;
	int rc, ret = -1;

	buf_init(&blob, (size_t)GEOM_POINTS_MAX * 16 + (size_t)GEOM_RINGS_MAX * 16 + 4096,
		 "GeoPackage geometry");
	if (gpkg_geometry_blob(g, GPKG_SRS_WGS84, &blob, err) < 0)
		goto out;
	geom_envelope(g, &env);
	sql = sqlite3_mprintf(
		"PRAGMA application_id = %d; PRAGMA user_version = %d; BEGIN; %s"
		"INSERT INTO gpkg_spatial_ref_sys VALUES ('WGS 84 geodetic', 4326, 'EPSG', 4326, %Q,"
		" 'longitude/latitude coordinates in decimal degrees on the WGS 84 spheroid');"
		"CREATE TABLE \"%w\" (\"fid\" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,"
		" \"geom\" %s, \"item_id\" TEXT, \"collection\" TEXT);"
		"INSERT INTO gpkg_contents (table_name, data_type, identifier, description,"
		" last_change, min_x, min_y, max_x, max_y, srs_id) VALUES (%Q, 'features', %Q, '',"
		" strftime('%%Y-%%m-%%dT%%H:%%M:%%fZ','now'), %.17g, %.17g, %.17g, %.17g, 4326);"
		"INSERT INTO gpkg_geometry_columns VALUES (%Q, 'geom', '%s', 4326, 0, 0);",
		GPKG_APPLICATION_ID, GPKG_USER_VERSION, schema_sql, wgs84_wkt, table,
		geom_type_name(g), table, table, env.minx, env.miny, env.maxx, env.maxy, table,
		geom_type_name(g));
	if (!sql) {
		aedb_err_set(err, "out of memory building GeoPackage '%s'", tmp);
		goto out;
	}
	if (exec(db, sql, tmp, err) < 0)
		goto out;
	sqlite3_free(sql);
	sql = sqlite3_mprintf("INSERT INTO \"%w\" (\"geom\", \"item_id\", \"collection\")"
			      " VALUES (?1, ?2, ?3)", table);
	if (!sql || sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		aedb_err_set(err, "cannot write GeoPackage '%s': %s", tmp, sqlite3_errmsg(db));
		goto out;
	}
	sqlite3_bind_blob(st, 1, blob.data, (int)blob.len, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, item_id, -1, SQLITE_STATIC);
	if (collection)
		sqlite3_bind_text(st, 3, collection, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 3);
	rc = sqlite3_step(st);
	if (rc != SQLITE_DONE) {
		aedb_err_set(err, "cannot write GeoPackage '%s': %s", tmp, sqlite3_errmsg(db));
		goto out;
	}
	if (exec(db, "COMMIT", tmp, err) < 0)
		goto out;
	ret = 0;
out:
	sqlite3_finalize(st);
	sqlite3_free(sql);
	buf_release(&blob);
	return ret;
}

int gpkg_write(const char *path, const char *table, const struct geom *g, const char *item_id,
	       const char *collection, struct aedb_err *err)
{
	char *tmp = NULL;
	sqlite3 *db = NULL;
	int fd, ret = -1;

	if (strlen(path) + 16 > AEDB_PATH_MAX)
		return aedb_err_set(err, "GeoPackage path '%s' is too long", path);
	tmp = xasprintf("%s.tmp-XXXXXX", path);
	fd = mkstemp(tmp);
	if (fd < 0) {
		aedb_err_set(err, "cannot create '%s': %s", tmp, strerror(errno));
		free(tmp);
		return -1;
	}
	/* readable by the pipeline's task, which may run as another user */
	if (fchmod(fd, 0644) < 0 || close(fd) < 0) {
		aedb_err_set(err, "cannot prepare '%s': %s", tmp, strerror(errno));
		close(fd);
		goto out;
	}
	if (sqlite3_open_v2(tmp, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) !=
	    SQLITE_OK) {
		aedb_err_set(err, "cannot open '%s' with SQLite: %s", tmp,
			     db ? sqlite3_errmsg(db) : "out of memory");
		goto out;
	}
	if (fill(db, tmp, table, g, item_id, collection, err) < 0)
		goto out;
	if (sqlite3_close(db) != SQLITE_OK) {
		aedb_err_set(err, "cannot close '%s': %s", tmp, sqlite3_errmsg(db));
		goto out;
	}
	db = NULL;
	if (rename(tmp, path) < 0) {
		aedb_err_set(err, "cannot rename '%s' to '%s': %s", tmp, path, strerror(errno));
		goto out;
	}
	ret = 0;
out:
	if (db)
		sqlite3_close(db);
	if (ret < 0)
		unlink(tmp);
	free(tmp);
	return ret;
}
