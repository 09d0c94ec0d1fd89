#!/usr/bin/python3
"""Random polygons for the hull test (Debian's python: shapely 1.8).

  random_hulls.py gen DIR N SEED   write N STAC items (DIR/*.json) and DIR/ids.txt
  random_hulls.py check DIR AOIS   compare every AOIs/stac_<id>.gpkg with shapely

Items: star-shaped Polygons with full-precision coordinates, grid Polygons
(many duplicate and collinear points), MultiPolygons of 2-6 parts, some with
holes, and a few degenerate ones. Items in usgs-fim-collection get the hull
(auto); shapely's convex_hull must equal the file's polygon vertex for vertex
(order, start point, closing point). Items in test-collection are Polygons
written as they are. Degenerate hulls must be reported, not written."""
import json, math, os, random, sqlite3, sys


def star(rng, cx, cy, n, rmax, grid=None):
    angs = sorted(rng.uniform(0, 2 * math.pi) for _ in range(n))
    pts = []
    for a in angs:
        r = rng.uniform(rmax * 0.1, rmax)
        x, y = cx + r * math.cos(a), cy + r * math.sin(a)
        if grid:
            x, y = round(x / grid) * grid, round(y / grid) * grid
        pts.append([x, y])
    pts.append(list(pts[0]))
    return pts


def gen(d, n, seed):
    rng = random.Random(seed)
    os.makedirs(d, exist_ok=True)
    ids = []
    for i in range(n):
        kind = i % 6
        cx, cy = rng.uniform(-179, 179), rng.uniform(-85, 85)
        coll = 'usgs-fim-collection'
        if kind == 0:
            geom = {'type': 'Polygon', 'coordinates': [star(rng, cx, cy, rng.randint(3, 300), rng.uniform(1e-4, 1))]}
        elif kind == 1:  # integer-ish grid: duplicates and collinear points
            geom = {'type': 'Polygon', 'coordinates': [star(rng, round(cx), round(cy), rng.randint(5, 80), 6, grid=1.0)]}
        elif kind == 2:
            parts = []
            for _ in range(rng.randint(2, 6)):
                ox, oy = cx + rng.uniform(-0.5, 0.5), cy + rng.uniform(-0.5, 0.5)
                parts.append([star(rng, ox, oy, rng.randint(3, 40), 0.05)])
            geom = {'type': 'MultiPolygon', 'coordinates': parts}
        elif kind == 3:  # with a hole, decimal grid of 1e-3
            outer = [[cx - 1, cy - 1], [cx + 1, cy - 1], [cx + 1, cy + 1], [cx, cy + 0.5], [cx - 1, cy + 1], [cx - 1, cy - 1]]
            hole = [[cx - 0.2, cy - 0.2], [cx - 0.2, cy + 0.2], [cx + 0.2, cy + 0.2], [cx - 0.2, cy - 0.2]]
            geom = {'type': 'Polygon', 'coordinates': [outer, hole]}
        elif kind == 4:  # kept as is (no hull)
            coll = 'test-collection'
            geom = {'type': 'Polygon', 'coordinates': [star(rng, cx, cy, rng.randint(3, 60), 0.3)]}
        else:
            if i % 30 == 5:  # degenerate: all on one line
                t = [rng.uniform(0, 1) for _ in range(5)]
                ring = [[cx + v, cy + 2 * v] for v in t]
                ring.append(list(ring[0]))
                geom = {'type': 'Polygon', 'coordinates': [ring]}
            else:  # many points on a circle plus jitter
                ring = [[cx + math.cos(2 * math.pi * k / 97), cy + math.sin(2 * math.pi * k / 97)] for k in range(97)]
                ring.append(list(ring[0]))
                geom = {'type': 'Polygon', 'coordinates': [ring]}
        item_id = 'rnd-%04d' % i
        ids.append(item_id)
        item = {'type': 'Feature', 'stac_version': '1.0.0', 'id': item_id, 'collection': coll,
                'geometry': geom, 'properties': {'datetime': '2024-01-01T00:00:00Z'},
                'links': [], 'assets': {}}
        with open(os.path.join(d, item_id + '.json'), 'w') as f:
            json.dump(item, f)  # repr floats: exact round trip
    with open(os.path.join(d, 'ids.txt'), 'w') as f:
        f.write('\n'.join(ids) + '\n')


def check(d, aois):
    from shapely import wkb
    from shapely.geometry import shape
    bad = checked = degenerate = 0
    for name in sorted(os.listdir(d)):
        if not name.endswith('.json'):
            continue
        with open(os.path.join(d, name)) as f:
            item = json.load(f)
        src = shape(item['geometry'])
        path = os.path.join(aois, 'stac_%s.gpkg' % item['id'])
        if item['collection'] == 'usgs-fim-collection':
            want = src.convex_hull
        else:
            want = src
        if want.geom_type != 'Polygon':
            degenerate += 1
            if os.path.exists(path):
                print('# %s: hull is a %s but a file was written' % (item['id'], want.geom_type))
                bad += 1
            continue
        if not os.path.exists(path):
            print('# %s: no file' % item['id'])
            bad += 1
            continue
        con = sqlite3.connect('file:%s?mode=ro' % path, uri=True)
        blob = con.execute('SELECT geom FROM "stac_%s"' % item['id']).fetchone()[0]
        con.close()
        got = wkb.loads(bytes(blob[40:]))
        checked += 1
        rings_got = [list(got.exterior.coords)] + [list(r.coords) for r in got.interiors]
        rings_want = [list(want.exterior.coords)] + [list(r.coords) for r in want.interiors]
        if rings_got != rings_want:
            bad += 1
            print('# %s: polygon differs from shapely\n#  got  %s\n#  want %s' % (item['id'], rings_got[0][:5], rings_want[0][:5]))
    print('# %d polygons compared, %d degenerate, %d differ' % (checked, degenerate, bad))
    return 1 if bad or checked == 0 else 0


if __name__ == '__main__':
    if sys.argv[1] == 'gen':
        gen(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    else:
        sys.exit(check(sys.argv[2], sys.argv[3]))
