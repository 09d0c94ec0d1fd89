#!/bin/sh
# aedb aoi into a local folder against the STAC fixture server: the real
# fixture item and its variants, GDAL's and geopandas' verdicts on every
# file, per-item failures next to prepared items, STAC faults and
# fallbacks, the path map, usage errors.
. "$AEDB_SOURCE_ROOT/tests/cli/lib.sh"
. "$AEDB_SOURCE_ROOT/tests/aoi/lib-aoi.sh"

start_stac main "$DATA" --fail-ids boom --flaky-ids flaky --malformed-ids garbled || exit 1
# a flaky copy of a real item, so the retry has something to find
mkdir -p "$T/extra"
sed 's/"id": "poly-holes"/"id": "flaky"/' "$DATA/poly-holes.json" >"$T/extra/flaky.json"
cp "$DATA"/*.json "$T/extra/"
kill $(echo $_pids) 2>/dev/null; _pids=""
start_stac main "$T/extra" --fail-ids boom --flaky-ids flaky --malformed-ids garbled || exit 1

cat >"$T/items.txt" <<LIST
01080203-shvm3-usgs
poly-holes

multi-one
multi-two
ble-concave
no-collection
z-coords
bad-unclosed
bad-linestring
bad-null-geometry
degenerate-line
café aoi ü
nope
boom
flaky
garbled
LIST
# CRLF and a BOM are accepted
printf '\357\273\277' | cat - "$T/items.txt" | sed 's/$/\r/' >"$T/items-crlf.txt"

mkdir -p "$T/host/batches"
expect_exit 3 "aoi run with failing items exits 3" \
	"$AEDB" aoi --item_list "$T/items-crlf.txt" --stac_api_url "$STAC_URL/" \
	--output_root "$T/host/batches/b1" --use-local-output --jobs 4 \
	--aoi_path_map "$T/host=/local-batches"
expect_line "final count" '^8 prepared, 8 failed$'
expect_line "fixture prepared, path mapped for the task" \
	"^prepared '01080203-shvm3-usgs' (usgs-fim-collection) -> /local-batches/batches/b1/AOIs/stac_01080203-shvm3-usgs.gpkg$"
expect_line "unknown id names the item" "^failed   item 'nope': no STAC item found with this id at $STAC_URL/$"
expect_line "STAC 500s name the item, after 3 attempts" \
	"^failed   item 'boom': STAC API POST /search answered 500 DatabaseError: .*(3 attempts)$"
expect_line "MultiPolygon without hull is refused, naming --hull always" \
	"^failed   item 'multi-two': the geometry is a MultiPolygon of 2 parts and the pipeline accepts only a single Polygon; use --hull always"
expect_line "a LineString is refused" "^failed   item 'bad-linestring': .*LineString; only Polygon and MultiPolygon"
expect_line "a null geometry is refused" "^failed   item 'bad-null-geometry': the item has no geometry$"
expect_line "an unclosed ring is refused" "^failed   item 'bad-unclosed': .*not closed"
expect_line "a hull that is a line is refused" "^failed   item 'degenerate-line': the convex hull is a line"
expect_line "a broken body is reported" "^failed   item 'garbled': .*not JSON"
expect_line "503s are retried until the item comes" "^prepared 'flaky' (test-collection)"
expect_line "an item without collection is prepared" "^prepared 'no-collection' (no collection)"
expect_line "a unicode id with spaces is prepared" "^prepared 'café aoi ü' (test-collection)"
n=$(ls "$T/host/batches/b1/AOIs" | wc -l)
check "exactly the 8 prepared files exist, no temp files ($n)" [ "$n" -eq 8 ]

if ! has_gdal; then
	diag "GDAL/geopandas/shapely (Debian packages) not installed"
	ok "GDAL checks # SKIP gdal-bin python3-gdal python3-geopandas python3-shapely missing"
else
	A="$T/host/batches/b1/AOIs"
	chk() { # DESCRIPTION FILE ID COLLECTION [MODE ITEMFILE]
		_d=$1; shift
		if "$PY" "$AEDB_SOURCE_ROOT/tests/aoi/check_gpkg.py" "$@" >"$T/chk" 2>&1; then ok "$_d"
		else not_ok "$_d"; head -20 "$T/chk"; fi
	}
	chk "fixture: GDAL, validator, geopandas; hull equals shapely's convex_hull" \
		"$A/stac_01080203-shvm3-usgs.gpkg" 01080203-shvm3-usgs usgs-fim-collection --hull-of "$DATA/01080203-shvm3-usgs.json"
	chk "polygon with holes kept as is (hull auto, other collection)" \
		"$A/stac_poly-holes.gpkg" poly-holes test-collection --same-as "$DATA/poly-holes.json"
	chk "one-part MultiPolygon written as its Polygon" \
		"$A/stac_multi-one.gpkg" multi-one test-collection --same-as "$DATA/multi-one.json"
	chk "ble-collection gets the hull" \
		"$A/stac_ble-concave.gpkg" ble-concave ble-collection --hull-of "$DATA/ble-concave.json"
	chk "z coordinates: the hull in 2D" \
		"$A/stac_z-coords.gpkg" z-coords nws-fim-collection --hull-of "$DATA/z-coords.json"
	chk "no collection: NULL collection column" \
		"$A/stac_no-collection.gpkg" no-collection - --same-as "$DATA/no-collection.json"
	chk "unicode id: layer and item_id" \
		"$A/stac_café aoi ü.gpkg" "café aoi ü" test-collection --same-as "$DATA/unicode-id.json"
	# byte oracle (reference 3.4): the fixture's hull blob as GDAL wrote it
	hex=$(sqlite3 "$A/stac_01080203-shvm3-usgs.gpkg" \
		'SELECT hex(substr(geom,1,53)), length(geom) FROM "stac_01080203-shvm3-usgs"')
	check "fixture hull blob matches GDAL's bytes" [ "$hex" = \
		"47500003E6100000EE8FF79B332F52C0596502748E2D52C0C25D4F834D504540F7A55AEDE454454001030000000100000015000000|389" ] ||
		diag "blob: $hex"
fi

printf '01080203-shvm3-usgs\n' >"$T/one.txt"
expect_exit 3 "--hull never: the fixture fails" \
	"$AEDB" aoi --item_list "$T/one.txt" --stac_api_url "$STAC_URL" --output_root "$T/never" \
	--use-local-output --hull never
expect_line "--hull never names --hull always" "use --hull always to take its convex hull$"
printf 'multi-two\n' >"$T/two.txt"
expect_exit 0 "--hull always takes the hull of a test-collection MultiPolygon" \
	"$AEDB" aoi --item_list "$T/two.txt" --stac_api_url "$STAC_URL" --output_root "$T/always" \
	--use-local-output --hull always
expect_line "summary 1 prepared" '^1 prepared, 0 failed$'

# --collection restricts the search
expect_exit 3 "--collection: an item of another collection is not found" \
	"$AEDB" aoi --item_list "$T/one.txt" --stac_api_url "$STAC_URL" --output_root "$T/c" \
	--use-local-output --collection test-collection
expect_line "not found in that collection" "no STAC item found with this id in collection 'test-collection'"

# servers that refuse POST /search, or have no /search at all
start_stac nopost "$DATA" --no-post || exit 1
expect_exit 0 "POST refused: falls back to GET /search" \
	"$AEDB" aoi --item_list "$T/one.txt" --stac_api_url "$STAC_URL" --output_root "$T/np" --use-local-output
stats=$(curl -s "$STAC_URL/_mgmt/stats")
check "GET /search was used after one refused POST" sh -c "echo '$stats' | grep -q '\"post_search\":1,\"get_search\":1'"
start_stac nosearch "$DATA" --no-search || exit 1
expect_exit 0 "no /search: /collections/{c}/items/{id} with --collection" \
	"$AEDB" aoi --item_list "$T/one.txt" --stac_api_url "$STAC_URL" --output_root "$T/ns" \
	--use-local-output --collection usgs-fim-collection
printf 'nope\n' >"$T/nope.txt"
expect_exit 3 "no /search: a 404 NotFoundError names the item and collection" \
	"$AEDB" aoi --item_list "$T/nope.txt" --stac_api_url "$STAC_URL" --output_root "$T/ns" \
	--use-local-output --collection usgs-fim-collection
expect_line "404 text" "^failed   item 'nope': not found (404 NotFoundError: Item nope in Collection usgs-fim-collection does not exist.)$"
expect_exit 3 "no /search and no --collection: a clear message" \
	"$AEDB" aoi --item_list "$T/one.txt" --stac_api_url "$STAC_URL" --output_root "$T/ns" --use-local-output
expect_line "says --collection is needed" "without --collection"

# a STAC API that is not there: per-item failure, not a crash
expect_exit 3 "connection refused is a per-item failure" \
	"$AEDB" aoi --item_list "$T/one.txt" --stac_api_url "http://127.0.0.1:1" --output_root "$T/x" --use-local-output
expect_line "names the item and the attempts" "^failed   item '01080203-shvm3-usgs': STAC API: POST http://127.0.0.1:1/search: .*(3 attempts)$"

# usage errors: exit 2, nothing done
expect_exit 2 "missing --item_list" "$AEDB" aoi --stac_api_url "$STAC_URL" --output_root "$T/u" --use-local-output
expect_exit 2 "bad --hull" "$AEDB" aoi --item_list "$T/one.txt" --stac_api_url "$STAC_URL" --output_root "$T/u" --use-local-output --hull maybe
expect_exit 2 "local folder without --use-local-output" "$AEDB" aoi --item_list "$T/one.txt" --stac_api_url "$STAC_URL" --output_root "$T/u"
grep_file "says to add --use-local-output" "add --use-local-output" "$T/err"
expect_exit 2 "path map that does not cover the output" "$AEDB" aoi --item_list "$T/one.txt" --stac_api_url "$STAC_URL" --output_root "$T/u" --use-local-output --aoi_path_map /elsewhere=/x
expect_exit 2 "--jobs 0" "$AEDB" aoi --item_list "$T/one.txt" --stac_api_url "$STAC_URL" --output_root "$T/u" --use-local-output --jobs 0
: >"$T/empty.txt"
expect_exit 2 "an empty item list" "$AEDB" aoi --item_list "$T/empty.txt" --stac_api_url "$STAC_URL" --output_root "$T/u" --use-local-output
expect_exit 2 "a missing item list" "$AEDB" aoi --item_list "$T/none.txt" --stac_api_url "$STAC_URL" --output_root "$T/u" --use-local-output
check "usage errors created nothing" [ ! -e "$T/u" ]
expect_exit 0 "--help" "$AEDB" aoi --help
for f in --item_list --stac_api_url --output_root --collection --hull --use-local-output --aoi_path_map --jobs --temp_dir AWS_SESSION_TOKEN AWS_ENDPOINT_URL_S3; do
	grep -q -e "$f" "$T/out" || not_ok "--help explains $f"
done
ok "--help explains every flag and the AWS variables"

done_testing
