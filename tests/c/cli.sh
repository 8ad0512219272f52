# shellcheck shell=bash
# The oscli command-line tool (examples/c/oscli.c; tested nowhere else) against the real server:
# every command, --help per command, exit codes, the OS_* and clouds.yaml settings, the progress
# bar (only on a terminal) and that no password appears in any output. Sourced by tests/c/run.sh,
# which provides check, bad, skip and the OSD_* variables; cli_tests BINARY runs them.
# shellcheck disable=SC2317,SC2329,SC2016 # helpers called through check; bash -c scripts

cli_tests() {
  local cli=$1 run=$$-$RANDOM t q c url vurl vid cmd osenv
  if [ -n "${OSD_SERVER_SKIP:-}" ]; then echo "skip cli: $OSD_SERVER_SKIP"; skip=$((skip + 1)); return; fi
  t=$(mktemp -d)
  q="auth-username=$OSD_USER&auth-password=$OSD_PASSWORD&openstack-tenant-name=$OSD_PROJECT&openstack-domain-name=Default&openstack-authuri=$OSD_AUTH_V3&openstack-region=$OSD_REGION1"
  c=osdc-cli-$run url="openstack://$c/cli?$q" vurl="openstack://$c-v/?$q&openstack-versioning=true"
  : > "$t/all"
  # run WANT CMD...: CMD with stdout in $t/out, stderr in $t/err (both kept in $t/all), no
  # OPENSTACK_DEST_URL nor OS_* variable; fails unless it exits with WANT.
  run() {
    local want=$1 rc; shift
    env -u OPENSTACK_DEST_URL -u OS_AUTH_URL -u OS_USERNAME -u OS_PASSWORD -u OS_PROJECT_NAME \
      -u OS_USER_DOMAIN_NAME -u OS_PROJECT_DOMAIN_NAME -u OS_REGION_NAME -u OS_CLOUD "$@" \
      > "$t/out" 2> "$t/err" < /dev/null; rc=$?
    cat "$t/out" "$t/err" >> "$t/all"
    [ "$rc" -eq "$want" ] || { echo "    exit $rc, expected $want: $(head -c 300 "$t/err")"; return 1; }
  }
  # has FILE ERE...: every pattern matches a line of $t/FILE ('!ERE': none does).
  has() {
    local f=$t/$1 p; shift
    for p in "$@"; do
      if [ "${p#!}" != "$p" ]; then
        if grep -qaE -- "${p#!}" "$f"; then echo "    $(basename "$f") shows '${p#!}'"; return 1; fi
      elif ! grep -qaE -- "$p" "$f"; then echo "    no '$p' in $(basename "$f"): $(head -c 300 "$f")"; return 1; fi
    done
  }
  # o NAME WANT ARGS... [-- ERE...]: oscli ARGS exits with WANT and its stdout has every ERE
  # ('err:ERE': its stderr; 'quiet': stderr empty).
  o() {
    local name=$1 want=$2 args=() p; shift 2
    while [ $# -gt 0 ] && [ "$1" != -- ]; do args+=("$1"); shift; done
    [ $# -gt 0 ] && shift
    run "$want" "$cli" "${args[@]}" || { bad "$name"; return; }
    for p in "$@"; do
      case $p in
        quiet) [ -s "$t/err" ] && { bad "$name" "stderr: $(head -c 200 "$t/err")"; return; } ;;
        err:*) has err "${p#err:}" || { bad "$name"; return; } ;;
        *) has out "$p" || { bad "$name"; return; } ;;
      esac
    done
    ok "$name"
  }
  osenv=(OS_AUTH_URL="$OSD_AUTH_V3" OS_USERNAME="$OSD_USER" OS_PASSWORD="$OSD_PASSWORD"
    OS_PROJECT_NAME="$OSD_PROJECT" OS_USER_DOMAIN_NAME=Default OS_PROJECT_DOMAIN_NAME=Default
    OS_REGION_NAME="$OSD_REGION1")
  # The name column of ls (after "%14s  %-20s  ") is exactly these names.
  is_names() { diff <(cut -c39- "$t/out" | LC_ALL=C sort) <(printf '%s\n' "$@" | LC_ALL=C sort) > /dev/null || { echo "    ls gave:"; sed 's/^/      /' "$t/out"; return 1; }; }

  # --- help and usage (exit 2), before any network ---
  o cli-help 0 --help
  check cli-help-lists-commands bash -c 'for c in ls put get rm mv stat quota sweep versions restore-version test mkcontainer rmcontainer; do grep -qE "^  $c( |\$)" "$1" || exit 1; done' _ "$t/out"
  for cmd in ls put get rm mv stat quota sweep versions restore-version test mkcontainer rmcontainer; do
    o "cli-help-$cmd" 0 "$cmd" --help -- "^usage: oscli \[OPTIONS\] \[URL\] $cmd"
    check "cli-help-$cmd-only" bash -c '[ "$(grep -c "^usage:" "$1")" -eq 1 ]' _ "$t/out"
  done
  o cli-help-h 0 get -h -- '^usage: oscli .* get \[-r \[-j N\]\]'
  o cli-help-word 0 help rmcontainer -- '-f '
  o cli-usage-none 2
  o cli-usage-unknown-option 2 "$url" ls -x -- 'err:^usage: oscli .* ls'
  for cmd in "frobnicate" "stat" "mv a" "quota x" "rm" "put -r name" "get -r name -" "ls -f"; do
    # shellcheck disable=SC2086 # the words of cmd
    o "cli-usage-$cmd" 2 "$url" $cmd
  done
  o cli-put-dir-without-r 2 "$url" put d "$t"
  o cli-usage-container-value 2 ls --container
  o cli-usage-container-no-value 2 --container
  o cli-usage-url-and-container 2 --container "$c" "$url" ls
  o cli-usage-no-destination 2 ls -- 'err:--container'
  o cli-bad-url 12 "openstack://x/?auth-username=u" test -- 'err:^oscli: OS_ERR_INVALID_URL: .'
  o cli-wrong-password 13 "${url/auth-password=$OSD_PASSWORD/auth-password=Wrong-4711}" test -- 'err:^oscli: OS_ERR_AUTH: .'

  # --- the commands with a URL ---
  o cli-test-missing-container 16 "$url" test
  o cli-mkcontainer 0 "$url" mkcontainer
  o cli-test 0 "$url" test -- '^ok$'
  head -c 1500001 /dev/urandom > "$t/f.bin"
  o cli-put 0 "$url" put f.bin "$t/f.bin" -- quiet # no progress off a terminal
  o cli-stat 0 "$url" stat f.bin -- '^size: *1500001$' "^etag: *$(md5sum < "$t/f.bin" | cut -d' ' -f1)\$" '^file time: *[0-9]' '^kind: *object$'
  # The same file in 1 MiB segments: a Static Large Object, whose ETag stat marks as no MD5.
  o cli-put-slo 0 "$url&openstack-segment-size=1MiB" put f-slo.bin "$t/f.bin"
  o cli-stat-slo 0 "$url" stat f-slo.bin -- '^kind: *static_large$' '^etag: *[0-9a-f]{32} \(a large object.s: not the content.s MD5\)$'
  o cli-rm-slo 0 "$url" rm f-slo.bin
  # What python-swiftclient stores with an object (metadata, expiry), stat shows.
  printf x > "$t/m.txt"
  check cli-meta-by-swift run 0 env -C "$t" "${osenv[@]}" swift upload --object-name cli/m.txt "$c" m.txt \
    -H 'X-Object-Meta-Color: blue' -H 'X-Delete-At: 4102444800'
  o cli-stat-meta 0 "$url" stat m.txt -- '^meta color: blue$' '^expires: *2100-01-01T00:00:00Z$'
  o cli-rm-meta 0 "$url" rm m.txt
  o cli-get 0 "$url" get f.bin "$t/f.back" -- quiet
  check cli-get-bytes cmp -s "$t/f.bin" "$t/f.back"
  o cli-get-stdout 0 "$url" get f.bin -
  check cli-get-stdout-bytes cmp -s "$t/f.bin" "$t/out"
  check cli-put-stdin run 0 sh -c 'printf "from stdin" | "$@"' _ "$cli" "$url" put stdin.txt
  o cli-get-stdin-back 0 "$url" get stdin.txt
  check cli-get-stdin-bytes test "$(cat "$t/out")" = "from stdin"
  check cli-put-pipe-dash run 0 sh -c 'cat "$1" | OPENSTACK_DEST_URL="$2" "$3" put pipe.bin -' _ "$t/f.bin" "$url" "$cli"
  o cli-get-pipe-back 0 "$url" get pipe.bin -
  check cli-get-pipe-bytes cmp -s "$t/f.bin" "$t/out"
  o cli-rm-pipe 0 "$url" rm pipe.bin

  # A tree: sub-directories, a name with a space and a '+', an empty file, a symbolic link (skipped).
  mkdir -p "$t/src/sub dir/deeper" "$t/src/emptydir" "$t/cwd" "$t/jail"
  cp "$t/f.bin" "$t/src/sub dir/a+b.bin"
  echo top > "$t/src/top.txt"; echo deep > "$t/src/sub dir/deeper/c.txt"; : > "$t/src/empty"
  ln -s top.txt "$t/src/link"
  o cli-put-r 0 "$url" put -r tree "$t/src" -- 'err:skipping .*link: not a regular file' 'err:!MiB'
  o cli-ls 0 "$url" ls -- '^ +-  -  +tree/$' '^ +1500001  [0-9-]{10}T[0-9:]{8}Z  f\.bin$'
  check cli-ls-top is_names f.bin stdin.txt tree/
  o cli-ls-prefix 0 "$url" ls tree/
  check cli-ls-prefix-names is_names "tree/sub dir/" tree/empty tree/top.txt
  o cli-ls-r 0 "$url" ls -r tree/ -- '!^ +-  '
  check cli-ls-r-names is_names "tree/empty" "tree/sub dir/a+b.bin" "tree/sub dir/deeper/c.txt" tree/top.txt
  o cli-ls-r-all 0 "$url" ls -r
  check cli-ls-r-all-count bash -c '[ "$(wc -l < "$1")" -eq 6 ]' _ "$t/out"
  o cli-ls-name-prefix 0 "$url" ls -r tree/t
  check cli-ls-name-prefix-names is_names tree/top.txt
  o cli-get-r 0 "$url" get -r tree "$t/restore" -- quiet
  check cli-get-r-tree bash -c '[ "$(diff -r "$1/src" "$1/restore")" = "Only in $1/src: emptydir
Only in $1/src: link" ]' _ "$t"
  check cli-get-r-default-dir run 0 sh -c 'cd "$1" && shift && "$@"' _ "$t/cwd" "$cli" "$url" get -r "tree/sub dir/"
  check cli-get-r-default-dir-tree diff -r "$t/src/sub dir" "$t/cwd/sub dir"
  o cli-get-r-into-existing 0 "$url" get -r tree/ "$t/restore"
  o cli-get-r-missing 15 "$url" get -r nothing "$t/none"
  check cli-get-r-missing-made-nothing test ! -e "$t/none"

  # Names that would leave the directory (written past the library, straight to Swift).
  if cli_raw PUT "$c" "cli/evil/../escape" && cli_raw PUT "$c" "cli/evil//abs" && cli_raw PUT "$c" "cli/evil/ok"; then
    o cli-get-r-refuses-escape 3 "$url" get -r evil "$t/jail/in" -- "err:refusing 'evil/\.\./escape'" "err:refusing 'evil//abs'"
    check cli-get-r-refuses-escape-wrote-nothing-outside bash -c '[ "$(cd "$1/jail" && find . | sort | tr "\n" " ")" = ". ./in ./in/ok " ]' _ "$t"
    check cli-get-r-refuses-keeps-good grep -qx "data" "$t/jail/in/ok"
  else
    bad cli-get-r-refuses-escape "could not write the names straight to Swift"
  fi

  # rm of several names, mv, missing objects (exit 15), sweep.
  o cli-rm-several 0 "$url" rm tree/top.txt "tree/sub dir/deeper/c.txt" tree/empty
  o cli-rm-several-gone 0 "$url" ls -r tree/
  check cli-rm-several-left is_names "tree/sub dir/a+b.bin"
  o cli-rm-missing-and-present 15 "$url" rm tree/none "tree/sub dir/a+b.bin" -- 'err:OS_ERR_NOT_FOUND: 1 of the 2 names did not exist'
  o cli-rm-missing-and-present-deleted 15 "$url" stat "tree/sub dir/a+b.bin"
  o cli-rm-one-missing 15 "$url" rm tree/none -- 'err:OS_ERR_NOT_FOUND: .*tree/none'
  o cli-rm-bad-name 11 "$url" rm tree/none "a/../b" -- 'err:OS_ERR_INVALID_ARGUMENT: .*a/\.\./b'
  o cli-mv 0 "$url" mv f.bin g.bin
  o cli-mv-from-gone 15 "$url" stat f.bin
  o cli-mv-to-there 0 "$url" stat g.bin -- '^size: *1500001$'
  o cli-mv-missing 15 "$url" mv f.bin h.bin
  o cli-get-missing 15 "$url" get f.bin "$t/missing"
  check cli-get-missing-made-nothing test ! -e "$t/missing"
  o cli-stat-missing 15 "$url" stat nothing -- 'err:^oscli: OS_ERR_NOT_FOUND: .'
  o cli-sweep 0 "$url" sweep --older-than 7d -- '^removed 0 objects \(0 bytes\)'
  o cli-sweep-bad-duration 2 "$url" sweep --older-than 7x
  # Versions, in a container of their own with versioning (removed with python-swiftclient).
  o cli-versions-mkcontainer 0 "$vurl" mkcontainer
  printf one > "$t/v1"; printf two2 > "$t/v2"
  o cli-versions-put1 0 "$vurl" put v "$t/v1"
  o cli-versions-put2 0 "$vurl" put v "$t/v2"
  o cli-versions 0 "$vurl" versions v
  check cli-versions-lines bash -c '[ "$(wc -l < "$1")" -eq 2 ] && head -1 "$1" | grep -qE "^[0-9.]+ +4 [0-9T:-]+Z current$" && tail -1 "$1" | grep -qE "^[0-9.]+ +3 [0-9T:-]+Z$"' _ "$t/out"
  vid=$(tail -1 "$t/out" | cut -d' ' -f1)
  o cli-get-version 0 "$vurl" get --version "$vid" v -
  check cli-get-version-bytes cmp "$t/out" "$t/v1"
  o cli-get-version-file 0 "$vurl" get --version="$vid" v "$t/v.back"
  check cli-get-version-file-bytes cmp "$t/v.back" "$t/v1"
  o cli-get-version-with-r 2 "$vurl" get -r --version "$vid" v "$t/vdir"
  o cli-get-version-bad-id 11 "$vurl" get --version 'a&b' v -
  o cli-get-version-missing 15 "$vurl" get --version 1796585440.42492 v -
  o cli-rm-versioned 0 "$vurl" rm v
  o cli-restore-version 0 "$vurl" restore-version v "$vid"
  o cli-restore-version-reads 0 "$vurl" get v -
  check cli-restore-version-bytes cmp "$t/out" "$t/v1"
  o cli-restore-version-missing 15 "$vurl" restore-version v 1796585440.42492
  env "${osenv[@]}" OS_IDENTITY_API_VERSION=3 swift post -H 'X-Versions-Enabled: false' "$c-v" > /dev/null 2>&1
  env "${osenv[@]}" OS_IDENTITY_API_VERSION=3 swift delete --versions "$c-v" > /dev/null 2>&1
  o cli-quota 0 "$url" quota -- '^bytes used: +[0-9]+$' '^objects: +[0-9]+$' '^containers: +[0-9]+$'

  # The progress bar: on a terminal (script gives stderr a pseudo-terminal; the URL goes through
  # the environment, script records its command line), none with -q.
  if command -v script > /dev/null; then
    check cli-progress-on-tty run 0 env OPENSTACK_DEST_URL="$url" script -qec "\"$cli\" put big.bin '$t/f.bin'" /dev/null
    check cli-progress-bar has out 'big\.bin  [0-9.]+ / 1\.4 MiB  100%  [0-9.]+ MiB/s  in [0-9]+:[0-9]{2}' $'\r'
    check cli-progress-get-on-tty run 0 env OPENSTACK_DEST_URL="$url" script -qec "\"$cli\" get big.bin '$t/big.back'" /dev/null
    check cli-progress-get-bar has out 'big\.bin  .*MiB/s'
    check cli-progress-quiet run 0 env OPENSTACK_DEST_URL="$url" script -qec "\"$cli\" -q get big.bin '$t/big.back'" /dev/null
    check cli-progress-quiet-none has out '!MiB'
  fi

  # --- the OpenStack environment (OS_*) and clouds.yaml instead of a URL ---
  check cli-env-test run 0 env "${osenv[@]}" "$cli" --container "$c/envp" test
  check cli-env-put run 0 env "${osenv[@]}" "$cli" --container "$c/envp" put "e f.bin" "$t/f.bin"
  check cli-env-ls run 0 env "${osenv[@]}" "$cli" --container "$c/envp" ls
  check cli-env-ls-names is_names "e f.bin"
  check cli-env-ls-container run 0 env "${osenv[@]}" "$cli" --container="$c" ls -r
  check cli-env-ls-container-names is_names "cli/evil//abs" "cli/evil/../escape" "cli/evil/ok" cli/g.bin cli/stdin.txt cli/big.bin "envp/e f.bin"
  check cli-env-get run 0 env "${osenv[@]}" "$cli" --container "$c" get "envp/e f.bin" "$t/e.back"
  check cli-env-get-bytes cmp -s "$t/f.bin" "$t/e.back"
  check cli-env-wrong-password run 13 env "${osenv[@]}" OS_PASSWORD=Wrong-4711 "$cli" --container "$c" test
  check cli-env-wrong-password-line has err '^oscli: OS_ERR_AUTH: .'
  check cli-env-url-wins run 0 env "${osenv[@]}" OS_PASSWORD=Wrong-4711 "$cli" "$url" test
  check cli-env-dest-url run 0 env OPENSTACK_DEST_URL="$url" "$cli" stat g.bin
  printf 'clouds:\n  osdc:\n    auth:\n      auth_url: %s\n      username: %s\n      password: %s\n      project_name: %s\n      user_domain_name: Default\n      project_domain_name: Default\n    region_name: %s\n' \
    "$OSD_AUTH_V3" "$OSD_USER" "$OSD_PASSWORD" "$OSD_PROJECT" "$OSD_REGION1" > "$t/clouds.yaml"
  check cli-os-cloud run 0 env OS_CLIENT_CONFIG_FILE="$t/clouds.yaml" "$cli" --os-cloud osdc --container "$c/envp" stat "e f.bin"
  check cli-os-cloud-missing run 12 env OS_CLIENT_CONFIG_FILE="$t/clouds.yaml" "$cli" --os-cloud nosuch --container "$c" test
  check cli-env-verbose run 0 env "${osenv[@]}" "$cli" -vv --container "$c" test

  # --- rmcontainer --- (The library cannot delete a name with a '..' segment, so rmcontainer -f
  # could not empty the container: those go the way they came.)
  check cli-raw-cleanup-dotdot cli_raw DELETE "$c" "cli/evil/../escape"
  check cli-raw-cleanup-empty-segment cli_raw DELETE "$c" "cli/evil//abs"
  o cli-rmcontainer-not-empty 28 "$url" rmcontainer -- 'err:^oscli: OS_ERR_CONTAINER_NOT_EMPTY: .'
  check cli-rmcontainer-f run 0 env "${osenv[@]}" "$cli" --container "$c" rmcontainer -f
  o cli-rmcontainer-gone 16 "$url" test
  o cli-rmcontainer-missing 16 "$url" rmcontainer
  check cli-no-password-in-output bash -c '! grep -qaF -e "$1" -e Wrong-4711 "$2"' _ "$OSD_PASSWORD" "$t/all"
  rm -rf "$t"
}

# cli_raw METHOD CONTAINER NAME: sends METHOD (PUT: the 5 bytes "data\n"; DELETE) for the object
# NAME straight to Swift with curl and a Keystone v3 token, so that names the library refuses can
# be tested; succeeds on a 2xx answer.
cli_raw() {
  local body hdr tok pid code data=()
  command -v curl > /dev/null && command -v python3 > /dev/null || return 1
  body=$(printf '{"auth":{"identity":{"methods":["password"],"password":{"user":{"name":"%s","domain":{"name":"Default"},"password":"%s"}}},"scope":{"project":{"name":"%s","domain":{"name":"Default"}}}}}' \
    "$OSD_USER" "$OSD_PASSWORD" "$OSD_PROJECT")
  hdr=$(mktemp) || return 1
  pid=$(curl -s --max-time 20 -D "$hdr" -H 'Content-Type: application/json' -d @- "$OSD_AUTH_V3/auth/tokens" <<< "$body" |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["token"]["project"]["id"])')
  tok=$(awk -F': ' 'tolower($1) == "x-subject-token" { print $2 }' "$hdr" | tr -d '\r')
  rm -f "$hdr"
  [ -n "$pid" ] && [ -n "$tok" ] || return 1
  [ "$1" = PUT ] && data=(--data-binary $'data\n')
  code=$(curl -s --max-time 20 --path-as-is -o /dev/null -w '%{http_code}' -X "$1" -H @- \
    "${data[@]}" "$OSD_SWIFT1/v1/AUTH_$pid/$2/$3" <<< "X-Auth-Token: $tok")
  [ "${code#2}" != "$code" ]
}
