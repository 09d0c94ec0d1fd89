#!/bin/sh
# aedb aoi into S3, against @20minutes/s3rver, which checks SigV4 signatures:
# upload with a session token, HEAD, GET, paginated ListObjectsV2 (all signed
# by engine/s3.c, through tests/aoi/s3-tool), a key with spaces and unicode,
# a wrong secret refused by the server, a 403 for one item while the others
# are prepared (through a fault proxy), a missing bucket.
. "$AEDB_SOURCE_ROOT/tests/cli/lib.sh"
. "$AEDB_SOURCE_ROOT/tests/aoi/lib-aoi.sh"

start_s3
case $? in
0) ;;
1) skip_all "the npm S3 server is not installed (cd tests/s3 && npm ci)" ;;
*) echo "not ok 1 - s3rver starts"; echo "1..1"; exit 1 ;;
esac
start_stac main "$DATA" --fail-ids boom || exit 1
ROOT="s3://test-bucket/batch one/ü"
PFX="batch one/ü/AOIs/"

printf '01080203-shvm3-usgs\npoly-holes\ncafé aoi ü\nmulti-two\nnope\nboom\n' >"$T/items.txt"
expect_exit 3 "aoi to S3 with a session token (some items fail)" \
	"$AEDB" aoi --item_list "$T/items.txt" --stac_api_url "$STAC_URL" --output_root "$ROOT" \
	--jobs 3 --temp_dir "$T"
expect_line "3 prepared, 3 failed" '^3 prepared, 3 failed$'
expect_line "the S3 path is reported" \
	"^prepared '01080203-shvm3-usgs' (usgs-fim-collection) -> s3://test-bucket/batch one/ü/AOIs/stac_01080203-shvm3-usgs.gpkg$"
expect_line "unicode item id, key with spaces" "^prepared 'café aoi ü' (test-collection) -> s3://test-bucket/batch one/ü/AOIs/stac_café aoi ü.gpkg$"
expect_line "STAC failures still reported by item" "^failed   item 'boom': STAC API"
check "no build files left in --temp_dir" sh -c "! ls -d '$T'/aedb-aoi.* 2>/dev/null | grep -q ."

expect_exit 0 "HEAD the fixture's AOI" "$S3_TOOL" head test-bucket "${PFX}stac_01080203-shvm3-usgs.gpkg"
size=$(cut -d' ' -f1 "$T/out")
check "HEAD gives its size ($size)" [ "${size:-0}" -gt 1024 ]
expect_exit 4 "HEAD of a missing key says missing" "$S3_TOOL" head test-bucket "${PFX}stac_nope.gpkg"
expect_exit 0 "GET it back" "$S3_TOOL" get test-bucket "${PFX}stac_01080203-shvm3-usgs.gpkg" "$T/fixture.gpkg"
check "downloaded size equals HEAD's" [ "$(wc -c <"$T/fixture.gpkg")" -eq "$size" ]
if has_gdal; then
	if "$PY" "$AEDB_SOURCE_ROOT/tests/aoi/check_gpkg.py" "$T/fixture.gpkg" 01080203-shvm3-usgs \
		usgs-fim-collection --hull-of "$DATA/01080203-shvm3-usgs.json" >"$T/chk" 2>&1; then
		ok "the uploaded file passes GDAL, validate_gpkg.py, geopandas, shapely's hull"
	else
		not_ok "the uploaded file fails the GDAL checks"; head -10 "$T/chk"
	fi
else
	ok "GDAL checks # SKIP Debian GDAL/geopandas not installed"
fi
expect_exit 0 "list the AOIs one per page" "$S3_TOOL" list test-bucket "$PFX" 1
check "three keys listed" [ "$(wc -l <"$T/out")" -eq 3 ]
grep_file "three pages (continuation tokens signed)" "^pages 3$" "$T/err"
grep_file "listed key with spaces and unicode" "^batch one/ü/AOIs/stac_café aoi ü.gpkg	" "$T/out"

# a key with spaces, unicode and reserved characters round-trips
KEY="dir one/ünï cödé ~ (x) [1] +=.bin"
head -c 70000 /dev/urandom >"$T/blob.bin"
expect_exit 0 "PUT a key with spaces and unicode" "$S3_TOOL" put test-bucket "$KEY" "$T/blob.bin"
expect_exit 0 "HEAD it" "$S3_TOOL" head test-bucket "$KEY"
expect_exit 0 "GET it" "$S3_TOOL" get test-bucket "$KEY" "$T/blob.back"
check "the bytes are the same" cmp -s "$T/blob.bin" "$T/blob.back"
for i in 1 2 3 4; do "$S3_TOOL" put test-bucket "dir one/more $i" "$T/items.txt" || not_ok "put more $i"; done
expect_exit 0 "list 'dir one/' two per page" "$S3_TOOL" list test-bucket "dir one/" 2
check "five keys" [ "$(wc -l <"$T/out")" -eq 5 ]
grep_file "three pages" "^pages 3$" "$T/err"
grep_file "the unicode key listed exactly" "^dir one/ünï cödé ~ (x) \[1\] +=.bin	70000$" "$T/out"

# a wrong secret: the server refuses (SignatureDoesNotMatch comes from its
# reply), nothing is stored, and the secret appears nowhere
printf '01080203-shvm3-usgs\npoly-holes\nno-collection\n' >"$T/three.txt"
AWS_SECRET_ACCESS_KEY="wrong-SECRET-value-42" \
	expect_exit 3 "wrong secret: every item fails" \
	"$AEDB" aoi --item_list "$T/three.txt" --stac_api_url "$STAC_URL" --output_root "s3://test-bucket/wrong" --jobs 1
expect_line "the message says the credentials were refused" \
	"^failed   item '01080203-shvm3-usgs': upload to s3://test-bucket/wrong/AOIs/stac_01080203-shvm3-usgs.gpkg: S3 refused the credentials (SignatureDoesNotMatch)"
expect_line "later items fail at once with the same reason" \
	"^failed   item 'poly-holes': not prepared, S3 refused the credentials earlier"
check "the secret is in no message" sh -c "! grep -q 'wrong-SECRET' '$T/out' '$T/err'"
check "the session token is in no message" sh -c "! grep -q 'FwoGZXIv' '$T/out' '$T/err'"
expect_exit 0 "list s3://test-bucket/wrong/ with the right secret" "$S3_TOOL" list test-bucket "wrong/" 0
check "the server stored nothing for the refused uploads" [ ! -s "$T/out" ]
AWS_SECRET_ACCESS_KEY="wrong-SECRET-value-42" \
	expect_exit 1 "a GET signed with the wrong secret is refused by the server" \
	"$S3_TOOL" get test-bucket "$KEY" "$T/x"
grep_file "the server's own code: SignatureDoesNotMatch" "SignatureDoesNotMatch" "$T/err"
printf 'poly-holes\n' >"$T/one.txt"
AWS_ACCESS_KEY_ID=AKIANOSUCHKEY \
	expect_exit 3 "unknown access key id is refused" \
	"$AEDB" aoi --item_list "$T/one.txt" --stac_api_url "$STAC_URL" --output_root "s3://test-bucket/wrong"
expect_line "InvalidAccessKeyId named" "S3 refused the credentials (InvalidAccessKeyId)"

# a 403 for one item (a proxy answers AccessDenied for that key, as a bucket
# policy would); the other items are still prepared
rm -f "$T/proxy.port"
"$S3_TOOL" proxy "http://127.0.0.1:$S3_PORT" "$T/proxy.port" "stac_poly-holes" >"$T/proxy.log" 2>&1 &
_pids="$_pids $!"
wait_file "$T/proxy.port" 20 || { not_ok "fault proxy starts"; done_testing; exit 1; }
AWS_ENDPOINT_URL_S3=$(cat "$T/proxy.port") \
	expect_exit 3 "one item gets 403, the run goes on" \
	"$AEDB" aoi --item_list "$T/three.txt" --stac_api_url "$STAC_URL" --output_root "s3://test-bucket/mixed" --jobs 2
expect_line "the 403 is reported with the item and reason" \
	"^failed   item 'poly-holes': upload to s3://test-bucket/mixed/AOIs/stac_poly-holes.gpkg: S3 denied access (AccessDenied)"
expect_line "2 prepared, 1 failed" '^2 prepared, 1 failed$'
expect_exit 0 "list the mixed run" "$S3_TOOL" list test-bucket "mixed/" 0
check "the two other AOIs are in the bucket" [ "$(wc -l <"$T/out")" -eq 2 ]

# a missing bucket
expect_exit 3 "a missing bucket" \
	"$AEDB" aoi --item_list "$T/one.txt" --stac_api_url "$STAC_URL" --output_root "s3://no-such-bucket/x"
expect_line "NoSuchBucket named with what to check" "bucket 'no-such-bucket' does not exist (NoSuchBucket): check --output_root"

# missing credentials: a usage error before any work
expect_exit 2 "no credentials: usage error" env -u AWS_ACCESS_KEY_ID \
	"$AEDB" aoi --item_list "$T/one.txt" --stac_api_url "$STAC_URL" --output_root "s3://test-bucket/x"
grep_file "names AWS_ACCESS_KEY_ID" "AWS_ACCESS_KEY_ID" "$T/err"

done_testing
