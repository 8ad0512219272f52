#!/usr/bin/env bash
# curl: list a whole container as plain text to standard output, one page (up to the cluster's
# listing limit) at a time, ?marker= the last name until a page comes back empty.
# usage: curl_list.sh CONTAINER_URL; the token comes from BENCH_TOKEN. The bench's names need no
# percent-encoding.
set -euo pipefail
url=$1 marker=
page=$(mktemp)
trap 'rm -f "$page"' EXIT
while :; do
  curl -sf -H "X-Auth-Token: $BENCH_TOKEN" -o "$page" "$url?marker=$marker"
  [ -s "$page" ] || break
  cat "$page"
  marker=$(tail -n 1 "$page")
done
