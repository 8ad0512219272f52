# shellcheck shell=bash
# The oscli command-line tool against the real server: every command, --help per command, exit
# codes, the OS_* and clouds.yaml settings, the progress bar (only on a terminal) and that no
# password appears in any output. Sourced by tests/c/run.sh, which provides check, ok, bad, skip
# and the OSD_* variables; cli_tests BINARY runs them (BINARY: the oscli to test).
# shellcheck disable=SC2317,SC2329,SC2016 # helpers called through check; bash -c scripts

cli_tests() {
  local cli=$1 run=$$-$RANDOM t q c url cmd osenv
  if [ -n "${OSD_SERVER_SKIP:-}" ]; then echo "skip cli: $OSD_SERVER_SKIP"; skip=$((skip + 1)); return; fi
  t=$(mktemp -d)
  q="auth-username=$OSD_USER&auth-password=$OSD_PASSWORD&openstack-tenant-name=$OSD_PROJECT&openstack-domain-name=Default&openstack-authuri=$OSD_AUTH_V3&openstack-region=$OSD_REGION1"
  c=osdc-cli-$run            # a container of its own: rmcontainer -f deletes it at the end
  url="openstack://$c/cli?$q"
  : > "$t/all"
  # run WANT CMD...: runs CMD with stdout in $t/out and stderr in $t/err (both also kept in $t/all),
  # no OPENSTACK_DEST_URL nor OS_* variable; fails unless it exits with WANT.
  run() {
    local want=$1 rc; shift
    env -u OPENSTACK_DEST_URL -u OS_AUTH_URL -u OS_USERNAME -u OS_PASSWORD -u OS_PROJECT_NAME \
      -u OS_USER_DOMAIN_NAME -u OS_PROJECT_DOMAIN_NAME -u OS_REGION_NAME -u OS_CLOUD "$@" \
      > "$t/out" 2> "$t/err" < /dev/null; rc=$?
    cat "$t/out" "$t/err" >> "$t/all"
    [ "$rc" -eq "$want" ] || { echo "    exit $rc, expected $want: $(head -c 300 "$t/err")"; return 1; }
  }
  # The OpenStack environment of an openrc, from the test bed's variables.
  osenv=(OS_AUTH_URL="$OSD_AUTH_V3" OS_USERNAME="$OSD_USER" OS_PASSWORD="$OSD_PASSWORD"
    OS_PROJECT_NAME="$OSD_PROJECT" OS_USER_DOMAIN_NAME=Default OS_PROJECT_DOMAIN_NAME=Default
    OS_REGION_NAME="$OSD_REGION1")
  names() { cut -c39- "$t/out"; } # the name column of ls (after "%14s  %-20s  ")
  is_names() { diff <(names | LC_ALL=C sort) <(printf '%s\n' "$@" | LC_ALL=C sort) > /dev/null || { echo "    ls gave:"; sed 's/^/      /' "$t/out"; return 1; }; }

  # --- help and usage, before any network ---
  check cli-help run 0 "$cli" --help
  check cli-help-lists-commands bash -c 'for c in ls put get rm mv stat quota sweep versions restore-version test mkcontainer rmcontainer; do grep -qE "^  $c( |\$)" "$1" || exit 1; done' _ "$t/out"
  for cmd in ls put get rm mv stat quota sweep versions restore-version test mkcontainer rmcontainer; do
    check "cli-help-$cmd" run 0 "$cli" "$cmd" --help
    check "cli-help-$cmd-usage-line" grep -q "^usage: oscli \[OPTIONS\] \[URL\] $cmd" "$t/out"
    check "cli-help-$cmd-only" bash -c '[ "$(grep -c "^usage:" "$1")" -eq 1 ]' _ "$t/out"
  done
  check cli-help-h run 0 "$cli" get -h
  check cli-help-h-get grep -q "^usage: oscli .* get \[-r \[-j N\]\]" "$t/out"
  check cli-help-word run 0 "$cli" help rmcontainer
  check cli-help-word-text grep -q -- "-f " "$t/out"
  check cli-usage-none run 2 "$cli"
  check cli-usage-unknown-command run 2 "$cli" "$url" frobnicate
  check cli-usage-unknown-option run 2 "$cli" "$url" ls -x
  check cli-usage-unknown-option-shows-usage grep -q "^usage: oscli .* ls" "$t/err"
  check cli-usage-stat-no-name run 2 "$cli" "$url" stat
  check cli-usage-mv-one run 2 "$cli" "$url" mv a
  check cli-usage-quota-extra run 2 "$cli" "$url" quota x
  check cli-usage-rm-none run 2 "$cli" "$url" rm
  check cli-usage-put-r-no-dir run 2 "$cli" "$url" put -r name
  check cli-usage-get-r-stdout run 2 "$cli" "$url" get -r name -
  check cli-usage-f-not-for-ls run 2 "$cli" "$url" ls -f
  check cli-usage-container-value run 2 "$cli" ls --container
  check cli-usage-container-no-value run 2 "$cli" --container
  check cli-usage-url-and-container run 2 "$cli" --container "$c" "$url" ls
  check cli-usage-no-destination run 2 "$cli" ls
  check cli-usage-no-destination-says grep -q -- "--container" "$t/err"

  # --- the commands with a URL ---
  check cli-test-missing-container run 16 "$cli" "$url" test
  check cli-mkcontainer run 0 "$cli" "$url" mkcontainer
  check cli-test run 0 "$cli" "$url" test
  check cli-test-ok grep -qx ok "$t/out"
  head -c 1500001 /dev/urandom > "$t/f.bin"
  check cli-put run 0 "$cli" "$url" put f.bin "$t/f.bin"
  check cli-put-no-progress-off-tty test ! -s "$t/err"
  check cli-stat run 0 "$cli" "$url" stat f.bin
  check cli-stat-size grep -qx 'size: *1500001' "$t/out"
  check cli-stat-etag grep -qx "etag: *$(md5sum < "$t/f.bin" | cut -d' ' -f1)" "$t/out"
  check cli-stat-file-time grep -q '^file time: *[0-9]' "$t/out"
  check cli-stat-kind grep -qx 'kind: *object' "$t/out"
  # The same file in 1 MiB segments: a Static Large Object, whose ETag stat marks as no MD5.
  check cli-put-slo run 0 "$cli" "$url&openstack-segment-size=1MiB" put f-slo.bin "$t/f.bin"
  check cli-stat-slo run 0 "$cli" "$url" stat f-slo.bin
  check cli-stat-slo-kind grep -qx 'kind: *static_large' "$t/out"
  check cli-stat-slo-etag grep -qx 'etag: *[0-9a-f]\{32\} (a large object.s: not the content.s MD5)' "$t/out"
  check cli-rm-slo run 0 "$cli" "$url" rm f-slo.bin
  # What python-swiftclient stores with an object (metadata, expiry), stat shows.
  printf x > "$t/m.txt"
  check cli-meta-by-swift run 0 env -C "$t" "${osenv[@]}" swift upload --object-name cli/m.txt "$c" m.txt \
    -H 'X-Object-Meta-Color: blue' -H 'X-Delete-At: 4102444800'
  check cli-stat-meta run 0 "$cli" "$url" stat m.txt
  check cli-stat-meta-line grep -qx 'meta color: blue' "$t/out"
  check cli-stat-expires grep -qx 'expires: *2100-01-01T00:00:00Z' "$t/out"
  check cli-rm-meta run 0 "$cli" "$url" rm m.txt
  check cli-get run 0 "$cli" "$url" get f.bin "$t/f.back"
  check cli-get-no-progress-off-tty test ! -s "$t/err"
  check cli-get-bytes cmp -s "$t/f.bin" "$t/f.back"
  check cli-get-stdout run 0 "$cli" "$url" get f.bin -
  check cli-get-stdout-bytes cmp -s "$t/f.bin" "$t/out"
  check cli-put-stdin run 0 sh -c 'printf "from stdin" | "$@"' _ "$cli" "$url" put stdin.txt
  check cli-get-stdin-back run 0 "$cli" "$url" get stdin.txt
  check cli-get-stdin-bytes test "$(cat "$t/out")" = "from stdin"
  check cli-put-dir-without-r run 2 "$cli" "$url" put d "$t"

  # A tree: sub-directories, a name with a space and a '+', an empty file, a symbolic link (skipped).
  mkdir -p "$t/src/sub dir/deeper" "$t/src/emptydir"
  cp "$t/f.bin" "$t/src/sub dir/a+b.bin"
  echo top > "$t/src/top.txt"; echo deep > "$t/src/sub dir/deeper/c.txt"; : > "$t/src/empty"
  ln -s top.txt "$t/src/link"
  check cli-put-r run 0 "$cli" "$url" put -r tree "$t/src"
  check cli-put-r-skips-link grep -q "skipping .*link: not a regular file" "$t/err"
  check cli-put-r-no-progress-off-tty bash -c '! grep -q "MiB" "$1"' _ "$t/err"
  check cli-ls run 0 "$cli" "$url" ls
  check cli-ls-top is_names f.bin stdin.txt tree/
  check cli-ls-folder-line grep -qE '^ +-  -  +tree/$' "$t/out"
  check cli-ls-file-line grep -qE '^ +1500001  [0-9-]{10}T[0-9:]{8}Z  f\.bin$' "$t/out"
  check cli-ls-prefix run 0 "$cli" "$url" ls tree/
  check cli-ls-prefix-names is_names "tree/sub dir/" tree/empty tree/top.txt
  check cli-ls-r run 0 "$cli" "$url" ls -r tree/
  check cli-ls-r-names is_names "tree/empty" "tree/sub dir/a+b.bin" "tree/sub dir/deeper/c.txt" tree/top.txt
  check cli-ls-r-no-folders bash -c '! grep -qE "^ +-  " "$1"' _ "$t/out"
  check cli-ls-r-all run 0 "$cli" "$url" ls -r
  check cli-ls-r-all-count bash -c '[ "$(wc -l < "$1")" -eq 6 ]' _ "$t/out"
  check cli-ls-name-prefix run 0 "$cli" "$url" ls -r tree/t
  check cli-ls-name-prefix-names is_names tree/top.txt
  check cli-get-r run 0 "$cli" "$url" get -r tree "$t/restore"
  check cli-get-r-no-progress-off-tty test ! -s "$t/err"
  check cli-get-r-tree bash -c '[ "$(diff -r "$1/src" "$1/restore")" = "Only in $1/src: emptydir
Only in $1/src: link" ]' _ "$t"
  mkdir "$t/cwd"
  check cli-get-r-default-dir run 0 sh -c 'cd "$1" && shift && "$@"' _ "$t/cwd" "$cli" "$url" get -r "tree/sub dir/"
  check cli-get-r-default-dir-tree diff -r "$t/src/sub dir" "$t/cwd/sub dir"
  check cli-get-r-into-existing run 0 "$cli" "$url" get -r tree/ "$t/restore"
  check cli-get-r-missing run 15 "$cli" "$url" get -r nothing "$t/none"
  check cli-get-r-missing-made-nothing test ! -e "$t/none"

  # Names that would leave the directory (written past the library, straight to Swift).
  mkdir -p "$t/jail"
  if cli_raw PUT "$c" "cli/evil/../escape" && cli_raw PUT "$c" "cli/evil//abs" && cli_raw PUT "$c" "cli/evil/ok"; then
    check cli-get-r-refuses-escape run 3 "$cli" "$url" get -r evil "$t/jail/in"
    check cli-get-r-refuses-escape-says grep -q "refusing 'evil/\.\./escape'" "$t/err"
    check cli-get-r-refuses-absolute grep -q "refusing 'evil//abs'" "$t/err"
    check cli-get-r-refuses-escape-wrote-nothing-outside bash -c '[ "$(cd "$1/jail" && find . | sort | tr "\n" " ")" = ". ./in ./in/ok " ]' _ "$t"
    check cli-get-r-refuses-keeps-good grep -qx "data" "$t/jail/in/ok"
  else
    bad cli-get-r-refuses-escape "could not write the names straight to Swift"
  fi

  # rm of several names, mv, missing objects.
  check cli-rm-several run 0 "$cli" "$url" rm tree/top.txt "tree/sub dir/deeper/c.txt" tree/empty
  check cli-rm-several-gone run 0 "$cli" "$url" ls -r tree/
  check cli-rm-several-left is_names "tree/sub dir/a+b.bin"
  check cli-rm-missing-and-present run 15 "$cli" "$url" rm tree/none "tree/sub dir/a+b.bin"
  check cli-rm-missing-and-present-counts-it grep -q "OS_ERR_NOT_FOUND: 1 of the 2 names did not exist" "$t/err"
  check cli-rm-one-missing-names-it run 15 "$cli" "$url" rm tree/none
  check cli-rm-one-missing-names-it-line grep -q "OS_ERR_NOT_FOUND: .*tree/none" "$t/err"
  check cli-rm-bad-name run 11 "$cli" "$url" rm tree/none "a/../b"
  check cli-rm-bad-name-line grep -q "OS_ERR_INVALID_ARGUMENT: .*a/\.\./b" "$t/err"
  check cli-rm-missing-and-present-deleted run 15 "$cli" "$url" stat "tree/sub dir/a+b.bin"
  check cli-mv run 0 "$cli" "$url" mv f.bin g.bin
  check cli-mv-from-gone run 15 "$cli" "$url" stat f.bin
  check cli-mv-to-there run 0 "$cli" "$url" stat g.bin
  check cli-mv-to-size grep -qx 'size: *1500001' "$t/out"
  check cli-mv-missing run 15 "$cli" "$url" mv f.bin h.bin
  check cli-get-missing run 15 "$cli" "$url" get f.bin "$t/missing"
  check cli-get-missing-made-nothing test ! -e "$t/missing"
  check cli-stat-missing run 15 "$cli" "$url" stat nothing
  check cli-stat-missing-line grep -q '^oscli: OS_ERR_NOT_FOUND: .' "$t/err"
  check cli-sweep run 0 "$cli" "$url" sweep --older-than 7d
  check cli-sweep-line grep -qE "^removed 0 objects \(0 bytes\)" "$t/out"
  check cli-sweep-bad-duration run 2 "$cli" "$url" sweep --older-than 7x
  # Versions, in a container of their own with versioning (removed with python-swiftclient).
  local vurl="openstack://$c-v/?$q&openstack-versioning=true" vid
  check cli-versions-mkcontainer run 0 "$cli" "$vurl" mkcontainer
  printf one > "$t/v1"; printf two2 > "$t/v2"
  check cli-versions-put1 run 0 "$cli" "$vurl" put v "$t/v1"
  check cli-versions-put2 run 0 "$cli" "$vurl" put v "$t/v2"
  check cli-versions run 0 "$cli" "$vurl" versions v
  check cli-versions-lines bash -c '[ "$(wc -l < "$1")" -eq 2 ] && head -1 "$1" | grep -qE "^[0-9.]+ +4 [0-9T:-]+Z current$" && tail -1 "$1" | grep -qE "^[0-9.]+ +3 [0-9T:-]+Z$"' _ "$t/out"
  vid=$(tail -1 "$t/out" | cut -d' ' -f1)
  check cli-get-version run 0 "$cli" "$vurl" get --version "$vid" v -
  check cli-get-version-bytes cmp "$t/out" "$t/v1"
  check cli-get-version-file run 0 "$cli" "$vurl" get --version="$vid" v "$t/v.back"
  check cli-get-version-file-bytes cmp "$t/v.back" "$t/v1"
  check cli-get-version-with-r run 2 "$cli" "$vurl" get -r --version "$vid" v "$t/vdir"
  check cli-get-version-bad-id run 11 "$cli" "$vurl" get --version 'a&b' v -
  check cli-get-version-missing run 15 "$cli" "$vurl" get --version 1796585440.42492 v -
  check cli-rm-versioned run 0 "$cli" "$vurl" rm v
  check cli-restore-version run 0 "$cli" "$vurl" restore-version v "$vid"
  check cli-restore-version-reads run 0 "$cli" "$vurl" get v -
  check cli-restore-version-bytes cmp "$t/out" "$t/v1"
  check cli-restore-version-missing run 15 "$cli" "$vurl" restore-version v 1796585440.42492
  env "${osenv[@]}" OS_IDENTITY_API_VERSION=3 swift post -H 'X-Versions-Enabled: false' "$c-v" > /dev/null 2>&1
  env "${osenv[@]}" OS_IDENTITY_API_VERSION=3 swift delete --versions "$c-v" > /dev/null 2>&1
  check cli-quota run 0 "$cli" "$url" quota
  check cli-quota-lines bash -c 'grep -qE "^bytes used: +[0-9]+$" "$1" && grep -qE "^objects: +[0-9]+$" "$1" && grep -qE "^containers: +[0-9]+$" "$1"' _ "$t/out"

  # The progress bar: on a terminal (script gives stderr a pseudo-terminal), none with -q.
  if command -v script > /dev/null; then
    # (The URL goes through the environment: script records its command line.)
    check cli-progress-on-tty run 0 env OPENSTACK_DEST_URL="$url" script -qec "\"$cli\" put big.bin '$t/f.bin'" /dev/null
    check cli-progress-bar grep -qaE 'big\.bin  [0-9.]+ / 1\.4 MiB  100%  [0-9.]+ MiB/s  in [0-9]+:[0-9]{2}' "$t/out"
    check cli-progress-redrawn grep -qa $'\r' "$t/out"
    check cli-progress-get-on-tty run 0 env OPENSTACK_DEST_URL="$url" script -qec "\"$cli\" get big.bin '$t/big.back'" /dev/null
    check cli-progress-get-bar grep -qaE 'big\.bin  .*MiB/s' "$t/out"
    check cli-progress-quiet run 0 env OPENSTACK_DEST_URL="$url" script -qec "\"$cli\" -q get big.bin '$t/big.back'" /dev/null
    check cli-progress-quiet-none bash -c '! grep -qa "MiB" "$1"' _ "$t/out"
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
  check cli-env-wrong-password-line grep -q '^oscli: OS_ERR_AUTH: .' "$t/err"
  check cli-env-url-wins run 0 env "${osenv[@]}" OS_PASSWORD=Wrong-4711 "$cli" "$url" test
  check cli-env-dest-url run 0 env OPENSTACK_DEST_URL="$url" "$cli" stat g.bin
  cat > "$t/clouds.yaml" <<EOF
clouds:
  osdc:
    auth:
      auth_url: $OSD_AUTH_V3
      username: $OSD_USER
      password: $OSD_PASSWORD
      project_name: $OSD_PROJECT
      user_domain_name: Default
      project_domain_name: Default
    region_name: $OSD_REGION1
EOF
  check cli-os-cloud run 0 env OS_CLIENT_CONFIG_FILE="$t/clouds.yaml" "$cli" --os-cloud osdc --container "$c/envp" stat "e f.bin"
  check cli-os-cloud-missing run 12 env OS_CLIENT_CONFIG_FILE="$t/clouds.yaml" "$cli" --os-cloud nosuch --container "$c" test
  check cli-env-verbose run 0 env "${osenv[@]}" "$cli" -vv --container "$c" test

  # --- rmcontainer ---
  # (The library cannot delete a name with a '..' segment, so rmcontainer -f could not empty the
  # container: those go the way they came.)
  check cli-raw-cleanup-dotdot cli_raw DELETE "$c" "cli/evil/../escape"
  check cli-raw-cleanup-empty-segment cli_raw DELETE "$c" "cli/evil//abs"
  check cli-rmcontainer-not-empty run 28 "$cli" "$url" rmcontainer
  check cli-rmcontainer-not-empty-line grep -q '^oscli: OS_ERR_CONTAINER_NOT_EMPTY: .' "$t/err"
  check cli-rmcontainer-f run 0 env "${osenv[@]}" "$cli" --container "$c" rmcontainer -f
  check cli-rmcontainer-gone run 16 "$cli" "$url" test
  check cli-rmcontainer-missing run 16 "$cli" "$url" rmcontainer

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
