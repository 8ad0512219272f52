#!/usr/bin/env bash
# curl: list a whole container as plain text, one page (10,000 names) at a time, ?marker= the
# last name until a page comes back empty. usage: curl_list.sh CONTAINER_URL OUTPUT
# The token comes from BENCH_TOKEN. Names in the bench need no percent-encoding.
set -euo pipefail
url=$1 out=$2 page=$2.page marker=
: > "$out"
while :; do
  curl -sf -H "X-Auth-Token: $BENCH_TOKEN" -o "$page" "$url?marker=$marker"
  [ -s "$page" ] || break
  cat "$page" >> "$out"
  marker=$(tail -n 1 "$page")
done
rm -f "$page"
