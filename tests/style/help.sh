#!/bin/sh
# Every command in the table answers --help with exit 0 and a usage line,
# and `aedb help NAME` prints the same text.
set -u
n=0
failed=0
cmds=$("$AEDB" --help | sed -n '/^Commands:/,/^$/p' | awk 'NR > 1 && NF { print $1 }')
if [ -z "$cmds" ]; then
	echo "not ok 1 - aedb --help lists commands"
	echo "1..1"
	exit 1
fi
for c in $cmds; do
	n=$((n + 1))
	out=$("$AEDB" "$c" --help 2>&1)
	rc=$?
	if [ "$rc" -eq 0 ] && printf '%s\n' "$out" | grep -q "^usage: aedb $c"; then
		echo "ok $n - aedb $c --help"
	else
		echo "not ok $n - aedb $c --help (exit $rc)"
		printf '%s\n' "$out" | head -5 | sed 's/^/# /'
		failed=$((failed + 1))
	fi
	n=$((n + 1))
	if [ "$("$AEDB" help "$c" 2>&1)" = "$out" ]; then
		echo "ok $n - aedb help $c matches --help"
	else
		echo "not ok $n - aedb help $c matches --help"
		failed=$((failed + 1))
	fi
done
echo "1..$n"
[ "$failed" -eq 0 ]
