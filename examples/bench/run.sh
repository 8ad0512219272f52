#!/usr/bin/env bash
# Throughput of libopenstack_dest against curl and python-swiftclient, on the same local Swift,
# in one run, reported as ratios (time of ours / time of theirs: below 1 means we are faster).
#   BENCH_MIB     size of the large object in MiB (default 512)
#   BENCH_SMALL   number of small objects (default 300), BENCH_SMALL_BYTES their size (16384)
#   BENCH_THREADS parallel uploads for the small objects (default 8)
#   BENCH_PROFILE cargo profile of our side (default release)
#   BENCH_SEG_MIB segment size of the large-object comparison (default 64), BENCH_RUNS its runs (3)
#   BENCH_DELAY_MS a realistic network: every client's Swift traffic goes through the project's
#                 relay (examples/rust/relay.rs) with this one-way delay (10 gives a 20 ms round
#                 trip) and BENCH_LINK_MIB MiB/s each way shared by all connections (default 100)
# The test bed is started with a 5 GiB max_file_size for the run (so that curl can send the large
# object whole) and brought back to the tests' 32 MiB at the end.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
MIB=${BENCH_MIB:-512}
COUNT=${BENCH_SMALL:-300}
SMALL=${BENCH_SMALL_BYTES:-16384}
THREADS=${BENCH_THREADS:-8}
PROFILE=${BENCH_PROFILE:-release}   # or dev: dependencies are optimised in dev builds too

bash scripts/install-deps.sh >/dev/null
echo "building the benchmark ($PROFILE profile)…"
cargo build --profile "$PROFILE" --example bench --example relay 2>&1 | tail -1
BIN="$ROOT/target/$([ "$PROFILE" = dev ] && echo debug || echo "$PROFILE")/examples/bench"
RELAY_BIN="$(dirname "$BIN")/relay"
SEG=${BENCH_SEG_MIB:-64}
RUNS=${BENCH_RUNS:-3}
OSD_MAX_FILE_SIZE=5368709122 bash tests/openstack/testbed.sh start >/dev/null
# shellcheck disable=SC1091
source "${OSD_STATE_DIR:-/tmp/openstack-dest-testbed}/env.sh"

work=$(mktemp -d /tmp/osd-bench.XXXXXX)
relay_pid=
trap 'rm -rf "$work"; [ -n "$relay_pid" ] && kill "$relay_pid"; env -u OSD_MAX_FILE_SIZE bash tests/openstack/testbed.sh start >/dev/null' EXIT
# With BENCH_DELAY_MS, $NET is the relay's origin that every client's Swift traffic goes to.
NET=
if [ -n "${BENCH_DELAY_MS:-}" ]; then
  port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  "$RELAY_BIN" "$port" "${OSD_SWIFT1#http://}" "$BENCH_DELAY_MS" "${BENCH_LINK_MIB:-100}" &
  relay_pid=$!
  NET="http://127.0.0.1:$port"
  echo "network: one-way delay $BENCH_DELAY_MS ms, ${BENCH_LINK_MIB:-100} MiB/s each way (relay on $NET)"
fi
# through URL: the same URL with the relay's origin when there is one
through() { if [ -n "$NET" ]; then echo "$NET${1#"$OSD_SWIFT1"}"; else echo "$1"; fi; }
head -c $((MIB * 1048576)) /dev/urandom > "$work/large.bin"
mkdir -p "$work/small"
for i in $(seq 1 "$COUNT"); do head -c "$SMALL" /dev/zero > "$work/small/f$i"; done

now() { date +%s.%N; }
elapsed() { awk -v a="$(now)" -v b="$1" 'BEGIN { printf "%.3f", a - b }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

c_ours="bench-ours-$$"; c_curl="bench-curl-$$"; c_sc="bench-sc-$$"
URL="openstack://$c_ours/?auth-username=$OSD_USER&auth-password=$OSD_PASSWORD&openstack-tenant-name=$OSD_PROJECT&openstack-domain-name=Default&openstack-authuri=$OSD_AUTH_V3"
ACCOUNT=$(/usr/bin/python3 -c 'import sys; sys.path.insert(0, "tests/openstack"); from inventory import connection; print(connection().get_auth()[0])')
[ -n "$NET" ] && URL="$URL&openstack-storage-url=$(through "$ACCOUNT")"

echo "ours: libopenstack_dest ($PROFILE profile)"
"$BIN" "$URL" "$work/large.bin" "$COUNT" "$SMALL" "$THREADS" | tee "$work/ours.txt"
get() { awk -v k="$1" '$1 == k { print $2 }' "$work/ours.txt"; }

echo "curl"
auth_json=$(printf '{"auth":{"identity":{"methods":["password"],"password":{"user":{"name":"%s","domain":{"name":"Default"},"password":"%s"}}},"scope":{"project":{"name":"%s","domain":{"name":"Default"}}}}}' "$OSD_USER" "$OSD_PASSWORD" "$OSD_PROJECT")
curl -s -D "$work/hdr" -o "$work/tok.json" -H 'Content-Type: application/json' -d "$auth_json" "$OSD_AUTH_V3/auth/tokens"
TOKEN=$(awk 'tolower($1) == "x-subject-token:" { print $2 }' "$work/hdr" | tr -d '\r')
STORAGE=$(through "$(/usr/bin/python3 -c 'import json,sys; c=json.load(open(sys.argv[1]))["token"]["catalog"]; print([e["url"] for s in c if s["type"]=="object-store" for e in s["endpoints"] if e["interface"]=="public" and e["region"]==sys.argv[2]][0])' "$work/tok.json" "$OSD_REGION1")")
H="X-Auth-Token: $TOKEN"
curl -sf -X PUT -H "$H" "$STORAGE/$c_curl" -o /dev/null
t=$(now); curl -sf -H "$H" -T "$work/large.bin" "$STORAGE/$c_curl/large" -o /dev/null; curl_put=$(elapsed "$t")
t=$(now); curl -sf -H "$H" "$STORAGE/$c_curl/large" -o "$work/curl.out"; curl_get=$(elapsed "$t")
args=(); for i in $(seq 1 "$COUNT"); do args+=(-T "$work/small/f$i" "$STORAGE/$c_curl/seq-$i"); done
t=$(now); curl -sf -H "$H" -o /dev/null "${args[@]}"; curl_seq=$(elapsed "$t")
args=(); for i in $(seq 1 "$COUNT"); do args+=(-T "$work/small/f$i" "$STORAGE/$c_curl/par-$i"); done
t=$(now); curl -sf --no-progress-meter -H "$H" -o /dev/null --parallel --parallel-max "$THREADS" "${args[@]}" 2>/dev/null; curl_par=$(elapsed "$t")
echo "large_put_seconds $curl_put"; echo "large_get_seconds $curl_get"
echo "small_put_seq_seconds $curl_seq"; echo "small_put_par_seconds $curl_par"

echo "python-swiftclient ($(/usr/bin/python3 -c 'import swiftclient; print(swiftclient.__version__)' 2>/dev/null || echo '?'))"
export OS_AUTH_URL=$OSD_AUTH_V3 OS_IDENTITY_API_VERSION=3 OS_USERNAME=$OSD_USER OS_PASSWORD=$OSD_PASSWORD \
  OS_PROJECT_NAME=$OSD_PROJECT OS_USER_DOMAIN_NAME=Default OS_PROJECT_DOMAIN_NAME=Default OS_REGION_NAME=$OSD_REGION1
SW=(swift); [ -n "$NET" ] && SW=(swift --os-storage-url "$(through "$ACCOUNT")")
cd "$work"
"${SW[@]}" post "$c_sc"
t=$(now); "${SW[@]}" upload --object-name large "$c_sc" large.bin >/dev/null; sc_put=$(elapsed "$t")
t=$(now); "${SW[@]}" download "$c_sc" large -o "$work/sc.out" >/dev/null; sc_get=$(elapsed "$t")
t=$(now); "${SW[@]}" upload --object-threads 1 "$c_sc" small >/dev/null; sc_seq=$(elapsed "$t")
"${SW[@]}" delete "$c_sc" --prefix small >/dev/null
t=$(now); "${SW[@]}" upload --object-threads "$THREADS" "$c_sc" small >/dev/null; sc_par=$(elapsed "$t")
echo "large_put_seconds $sc_put"; echo "large_get_seconds $sc_get"
echo "small_put_seq_seconds $sc_seq"; echo "small_put_par_seconds $sc_par"
cd "$ROOT"

echo
echo "ratios (our time / their time; < 1 = we are faster), $MIB MiB large object, $COUNT x $SMALL B small objects, $THREADS threads:"
printf '%-34s %8s %8s\n' "" "vs curl" "vs swiftclient"
printf '%-34s %8s %8s\n' "large upload" "$(ratio "$(get large_put_seconds)" "$curl_put")" "$(ratio "$(get large_put_seconds)" "$sc_put")"
printf '%-34s %8s %8s\n' "large download" "$(ratio "$(get large_get_seconds)" "$curl_get")" "$(ratio "$(get large_get_seconds)" "$sc_get")"
printf '%-34s %8s %8s\n' "small uploads, sequential" "$(ratio "$(get small_put_seq_seconds)" "$curl_seq")" "$(ratio "$(get small_put_seq_seconds)" "$sc_seq")"
printf '%-34s %8s %8s\n' "small uploads, $THREADS in parallel" "$(ratio "$(get small_put_par_seconds)" "$curl_par")" "$(ratio "$(get small_put_par_seconds)" "$sc_par")"

for c in "$c_sc" "$c_curl" "$c_ours"; do swift delete "$c" >/dev/null 2>&1 || true; done

# ---- A large object over the segment size: ours (the C CLI, segments in parallel) against curl
# sending it whole and python-swiftclient's segmented upload, medians of $RUNS runs, each a whole
# process timed with its peak memory by /usr/bin/time.
echo
echo "large object in $SEG MiB segments (ours: examples/c/oscli.c on the $PROFILE library, 4 threads; swift: --use-slo --segment-threads 4), medians of $RUNS runs:"
cargo build --profile "$PROFILE" --lib 2>&1 | tail -1
LIBDIR="$ROOT/target/$([ "$PROFILE" = dev ] && echo debug || echo "$PROFILE")"
cc -O2 -Iinclude examples/c/oscli.c -L"$LIBDIR" -lopenstack_dest -Wl,-rpath,"$LIBDIR" -o "$work/oscli"
c_seg="bench-seg-$$"
SEG_URL="openstack://$c_seg/?auth-username=$OSD_USER&auth-password=$OSD_PASSWORD&openstack-tenant-name=$OSD_PROJECT&openstack-domain-name=Default&openstack-authuri=$OSD_AUTH_V3&openstack-segment-size=${SEG}MiB&openstack-segment-threads=4"
[ -n "$NET" ] && SEG_URL="$SEG_URL&openstack-storage-url=$(through "$ACCOUNT")"
OPENSTACK_DEST_URL=$SEG_URL "$work/oscli" mkcontainer
curl -sf -X PUT -H "$H" "$STORAGE/$c_seg" -o /dev/null
# measure NAME CMD...: appends "seconds peak_kib" of one run to $work/m-NAME
measure() { local name=$1; shift; /usr/bin/time -f "%e %M" -o "$work/t" "$@" >/dev/null 2>&1 || { echo "bench: $name failed" >&2; exit 1; }; cat "$work/t" >> "$work/m-$name"; }
median() { awk -v col="$2" '{ print $col }' "$work/m-$1" | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
cd "$work"
for _ in $(seq 1 "$RUNS"); do
  measure ours_put env OPENSTACK_DEST_URL="$SEG_URL" "$work/oscli" put big large.bin
  measure ours_get env OPENSTACK_DEST_URL="$SEG_URL" "$work/oscli" get big "$work/ours.big"
  measure curl_put curl -sf -H "$H" -T large.bin "$STORAGE/$c_seg/whole"
  measure curl_get curl -sf -H "$H" "$STORAGE/$c_seg/whole" -o "$work/curl.big"
  measure swift_put "${SW[@]}" upload --use-slo --segment-size "${SEG}M" --segment-threads 4 --object-name sc "$c_seg" large.bin
  measure swift_get "${SW[@]}" download "$c_seg" sc -o "$work/sc.big"
done
cd "$ROOT"
cmp -s "$work/ours.big" "$work/large.bin" && cmp -s "$work/sc.big" "$work/large.bin" || { echo "bench: a download differs from the file" >&2; exit 1; }
printf '%-26s %10s %10s %12s %12s\n' "" "wall s" "peak MiB" "ours/curl" "ours/swift"
for op in put get; do
  for who in ours curl swift; do
    printf '%-26s %10s %10s' "$who $op" "$(median "${who}_$op" 1)" "$(awk -v k="$(median "${who}_$op" 2)" 'BEGIN { printf "%.1f", k / 1024 }')"
    if [ "$who" = ours ]; then
      printf ' %12s %12s' "$(ratio "$(median ours_$op 1)" "$(median curl_$op 1)")" "$(ratio "$(median ours_$op 1)" "$(median swift_$op 1)")"
    fi
    echo
  done
done
swift delete "$c_seg" >/dev/null 2>&1 || true
swift delete "${c_seg}_segments" >/dev/null 2>&1 || true
