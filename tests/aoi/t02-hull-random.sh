#!/bin/sh
# The convex hull equals shapely's convex_hull, vertex for vertex, for a
# few hundred random polygons and multipolygons (random_hulls.py makes them
# and compares), served by the STAC fixture server. Also a huge ring.
. "$AEDB_SOURCE_ROOT/tests/cli/lib.sh"
. "$AEDB_SOURCE_ROOT/tests/aoi/lib-aoi.sh"

has_gdal || skip_all "Debian python3-shapely/geopandas/gdal not installed"
R="$AEDB_SOURCE_ROOT/tests/aoi/random_hulls.py"
check "generate 300 random items" "$PY" "$R" gen "$T/items" 300 20261129
start_stac rnd "$T/items" || exit 1
run_cmd "$AEDB" aoi --item_list "$T/items/ids.txt" --stac_api_url "$STAC_URL" \
	--output_root "$T/aoiout" --use-local-output --jobs 4
check "aoi ran (exit $rc: degenerate items fail)" [ "$rc" -eq 3 ]
[ "$rc" -eq 3 ] || sed "s/^/# /" "$T/err" | head -5
deg=$(grep -c "convex hull is a line" "$T/out")
check "degenerate hulls are reported ($deg)" [ "$deg" -ge 1 ]
if "$PY" "$R" check "$T/items" "$T/aoiout/AOIs" >"$T/cmp" 2>&1; then
	ok "every hull equals shapely's convex_hull; polygons without hull kept as is"
else
	not_ok "hulls differ from shapely"
fi
sed -n '$p' "$T/cmp"
grep -v '^# [0-9]* polygons' "$T/cmp" | head -20

# a huge ring: 200,000 positions
mkdir -p "$T/huge"
"$PY" - "$T/huge" <<'PY'
import json, math, sys
n = 200000
ring = [[-100 + math.cos(2 * math.pi * k / n) * (1 + 0.01 * math.sin(k)), 40 + math.sin(2 * math.pi * k / n)] for k in range(n)]
ring.append(list(ring[0]))
item = {'type': 'Feature', 'stac_version': '1.0.0', 'id': 'huge', 'collection': 'usgs-fim-collection',
        'geometry': {'type': 'Polygon', 'coordinates': [ring]}, 'properties': {'datetime': '2024-01-01T00:00:00Z'},
        'links': [], 'assets': {}}
json.dump(item, open(sys.argv[1] + '/huge.json', 'w'))
PY
start_stac huge "$T/huge" || exit 1
printf 'huge\n' >"$T/huge.txt"
expect_exit 0 "a 200,000-position ring is prepared" "$AEDB" aoi --item_list "$T/huge.txt" \
	--stac_api_url "$STAC_URL" --output_root "$T/hout" --use-local-output
if "$PY" "$R" check "$T/huge" "$T/hout/AOIs" >"$T/cmp" 2>&1; then
	ok "huge ring: hull equals shapely's"
else
	not_ok "huge ring: hull differs"; head -5 "$T/cmp"
fi
done_testing
