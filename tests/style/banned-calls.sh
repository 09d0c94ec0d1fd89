#!/bin/sh
# Calls we do not use (docs/development.md says why and what instead):
# unbounded copies and formats, strtok's hidden state, atoi's silent
# failure, system()'s shell.
set -u
cd "$AEDB_SOURCE_ROOT" || exit 1
n=0
failed=0
for fn in sprintf vsprintf strcpy strcat strtok atoi atol atoll gets system; do
	n=$((n + 1))
	hits=$(grep -rnE "(^|[^a-zA-Z0-9_.>])$fn[[:space:]]*\(" --include='*.c' --include='*.h' \
		engine cmd tools tests 2>/dev/null | grep -v '^tests/style/')
	if [ -n "$hits" ]; then
		echo "not ok $n - no $fn()"
		echo "$hits" | sed 's/^/# /'
		failed=$((failed + 1))
	else
		echo "ok $n - no $fn()"
	fi
done
echo "1..$n"
[ "$failed" -eq 0 ]
