#!/usr/bin/python3
"""Check one AOI GeoPackage with GDAL's own tools and geopandas.

usage: check_gpkg.py FILE ID COLLECTION [--hull-of ITEM.json | --same-as ITEM.json]

COLLECTION '-' means none. Prints '# ...' lines for each problem and
exits 1 when there is one. Checks: ogrinfo -ro -al -so without warnings,
validate_gpkg.py, geopandas CRS/columns/type/values, the blob envelope as
GDAL reads it, and the geometry: shapely's convex_hull of the item's
geometry (vertex for vertex) or the item's own polygon."""
import json, subprocess, sys

VALIDATE = '/usr/lib/python3/dist-packages/osgeo_utils/samples/validate_gpkg.py'
problems = []


def bad(msg):
    problems.append(msg)


def ring2d(coords):
    return [(float(c[0]), float(c[1])) for c in coords]


def main():
    path, item_id, coll = sys.argv[1], sys.argv[2], sys.argv[3]
    mode = sys.argv[4] if len(sys.argv) > 4 else None
    item_file = sys.argv[5] if len(sys.argv) > 5 else None
    layer = 'stac_' + item_id

    r = subprocess.run(['ogrinfo', '-ro', '-al', '-so', path], capture_output=True, text=True)
    out = r.stdout + r.stderr
    if r.returncode != 0:
        bad('ogrinfo exit %d' % r.returncode)
    for line in out.splitlines():
        if line.startswith('Warning') or line.startswith('ERROR'):
            bad('ogrinfo: ' + line)
    for want in ('Layer name: ' + layer, 'Geometry: Polygon', 'Feature Count: 1', 'FID Column = fid',
                 'Geometry Column = geom', 'item_id: String', 'collection: String', 'ID["EPSG",4326]'):
        if want not in out:
            bad('ogrinfo output lacks %r' % want)

    r = subprocess.run(['/usr/bin/python3', VALIDATE, path], capture_output=True, text=True)
    if r.returncode != 0 or r.stdout.strip() or r.stderr.strip():
        bad('validate_gpkg.py exit %d: %s %s' % (r.returncode, r.stdout.strip(), r.stderr.strip()))

    import geopandas
    df = geopandas.read_file(path)
    if str(df.crs) != 'EPSG:4326':
        bad('crs is %s' % df.crs)
    if df.columns.tolist() != ['item_id', 'collection', 'geometry']:
        bad('columns are %s' % df.columns.tolist())
    if len(df) != 1:
        bad('%d features' % len(df))
        return
    if df.geom_type[0] != 'Polygon':
        bad('geometry type %s' % df.geom_type[0])
    if df.item_id[0] != item_id:
        bad('item_id is %r' % df.item_id[0])
    want_coll = None if coll == '-' else coll
    got_coll = df.collection[0]
    if want_coll is None:
        if not (got_coll is None or got_coll != got_coll):  # None or NaN
            bad('collection is %r, expected NULL' % got_coll)
    elif got_coll != want_coll:
        bad('collection is %r, expected %r' % (got_coll, want_coll))
    g = df.geometry[0]

    # the header envelope, as GDAL's SQL functions read it
    sql = 'SELECT ST_MinX(geom), ST_MaxX(geom), ST_MinY(geom), ST_MaxY(geom), ST_SRID(geom) FROM "%s"' % layer.replace('"', '""')
    r = subprocess.run(['ogrinfo', '-ro', '-q', path, '-sql', sql], capture_output=True, text=True)
    vals = {}
    for line in r.stdout.splitlines():
        line = line.strip()
        if ' = ' in line and '(' in line:
            k, v = line.split(' = ', 1)
            vals[k.split('(')[0]] = float(v)
    minx, miny, maxx, maxy = g.bounds
    want = {'ST_MinX': minx, 'ST_MaxX': maxx, 'ST_MinY': miny, 'ST_MaxY': maxy, 'ST_SRID': 4326}
    for k, v in want.items():  # ogrinfo prints 15 significant digits
        if k not in vals or abs(vals[k] - v) > 1e-12 * max(1.0, abs(v)):
            bad('%s is %r, expected %r' % (k, vals.get(k), v))

    if mode:
        from shapely.geometry import shape
        with open(item_file) as f:
            item = json.load(f)
        src = shape(item['geometry'])
        if mode == '--hull-of':
            hull = src.convex_hull
            want_ext = ring2d(hull.exterior.coords)
            want_holes = []
        else:
            if src.geom_type == 'MultiPolygon':
                src = list(src.geoms)[0]
            want_ext = ring2d(src.exterior.coords)
            want_holes = [ring2d(h.coords) for h in src.interiors]
        # exact coordinates from the blob itself (GeoPackage header, then
        # WKB); geopandas through fiona rounds to 15 significant digits,
        # so its copy is compared with a tolerance only
        import sqlite3
        from shapely import wkb
        con = sqlite3.connect('file:%s?mode=ro' % path, uri=True)
        blob = con.execute('SELECT geom FROM "%s"' % layer.replace('"', '""')).fetchone()[0]
        con.close()
        if blob[:2] != b'GP' or blob[3] != 0x03:
            bad('blob header %r' % blob[:4])
        exact = wkb.loads(bytes(blob[40:]))
        for a, b in zip(ring2d(g.exterior.coords), ring2d(exact.exterior.coords)):
            if abs(a[0] - b[0]) > 1e-12 or abs(a[1] - b[1]) > 1e-12:
                bad('geopandas reads %r where the file holds %r' % (a, b))
                break
        g = exact
        got_ext = ring2d(g.exterior.coords)
        if got_ext != want_ext:
            bad('exterior ring differs:\n#  got  %s\n#  want %s' % (got_ext[:6], want_ext[:6]))
        got_holes = [ring2d(h.coords) for h in g.interiors]
        if got_holes != want_holes:
            bad('holes differ: %d vs %d' % (len(got_holes), len(want_holes)))


main()
for p in problems:
    print('# ' + p)
sys.exit(1 if problems else 0)
