#!/usr/bin/env bash
# Checks a running test bed end to end with curl and the swift CLI (python3-swiftclient).
#   bash tests/openstack/testbed.sh start && bash tests/openstack/smoke.sh
# Prints one line per check and, last, "smoke: N passed, N failed". Exit 1 if any failed.
# Secrets (passwords, API keys, tokens) are never printed.
set -uo pipefail

STATE="${OSD_STATE_DIR:-/tmp/openstack-dest-testbed}"
if [[ -z "${OSD_AUTH_V3:-}" ]]; then
    if [[ -f "$STATE/env.sh" ]]; then
        # shellcheck disable=SC1091
        source "$STATE/env.sh"
    else
        echo "smoke: no test bed settings (OSD_AUTH_V3 unset, no $STATE/env.sh): start it first" >&2
        echo "smoke: 0 passed, 1 failed"
        exit 1
    fi
fi

PY=/usr/bin/python3
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
PASS=0
FAIL=0
SUFFIX="$(date +%s)-$$-$RANDOM"

ok()   { PASS=$((PASS + 1)); echo "ok   - $*"; }
bad()  { FAIL=$((FAIL + 1)); echo "FAIL - $*"; }
check() { # check DESCRIPTION EXPECTED ACTUAL
    if [[ "$2" == "$3" ]]; then ok "$1"; else bad "$1 (expected $2, got $3)"; fi
}
json() { # json FILE PYTHON-EXPR-ON-d
    "$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2" 2>/dev/null
}

# v3 token: v3_token USER PASSWORD PROJECT DOMAIN -> sets TOKEN, CODE, BODY file $TMP/v3.json
v3_token() {
    local body
    body="$("$PY" -c 'import json,sys; u,p,pr,d=sys.argv[1:5]; print(json.dumps({"auth":{"identity":{"methods":["password"],"password":{"user":{"name":u,"domain":{"name":d},"password":p}}},"scope":{"project":{"name":pr,"domain":{"name":d}}}}}))' "$1" "$2" "$3" "$4")"
    CODE="$(curl -sS -o "$TMP/v3.json" -D "$TMP/v3.h" -w '%{http_code}' -X POST \
        -H 'Content-Type: application/json' --data-binary @- "$OSD_AUTH_V3/auth/tokens" <<<"$body")"
    TOKEN="$(awk 'tolower($1)=="x-subject-token:" {print $2}' "$TMP/v3.h" | tr -d '\r')"
}

# storage URL of region R from the v3 catalog in $TMP/v3.json
v3_url() {
    json "$TMP/v3.json" "[e['url'] for s in d['token']['catalog'] if s['type']=='object-store' for e in s['endpoints'] if e['interface']=='public' and e['region_id']=='$1'][0]"
}

code() { curl -sS -o /dev/null -w '%{http_code}' "$@"; }

# ---- v3, main user
v3_token "$OSD_USER" "$OSD_PASSWORD" "$OSD_PROJECT" Default
check "v3 token for OSD_USER" 201 "$CODE"
[[ -n "$TOKEN" ]] && ok "X-Subject-Token present" || bad "X-Subject-Token missing"
T1="$TOKEN"
U1="$(v3_url "$OSD_REGION1")"; U2="$(v3_url "$OSD_REGION2")"
check "catalog RegionOne object-store endpoint" "$OSD_SWIFT1/v1/AUTH_" "${U1%AUTH_*}AUTH_"
check "catalog RegionTwo object-store endpoint" "$OSD_SWIFT2/v1/AUTH_" "${U2%AUTH_*}AUTH_"
REGIONS="$(json "$TMP/v3.json" "sorted(set(e['region_id'] for s in d['token']['catalog'] if s['type']=='identity' for e in s['endpoints']))")"
check "identity endpoint in both regions" "['RegionOne', 'RegionTwo']" "$REGIONS"

C1="smoke-$SUFFIX"
head -c 3000000 /dev/urandom > "$TMP/obj"
check "PUT container via proxy1" 201 "$(code -X PUT -H "X-Auth-Token: $T1" "$U1/$C1")"
check "PUT object via proxy1" 201 "$(code -X PUT -H "X-Auth-Token: $T1" -T "$TMP/obj" "$U1/$C1/dir/a%20b+c.bin")"
check "GET object via proxy2" 200 "$(curl -sS -o "$TMP/obj2" -w '%{http_code}' -H "X-Auth-Token: $T1" "$U2/$C1/dir/a%20b+c.bin")"
cmp -s "$TMP/obj" "$TMP/obj2" && ok "object content round-trips across proxies" || bad "object content differs"
C2="smoke2-$SUFFIX"
check "PUT container via proxy2" 201 "$(code -X PUT -H "X-Auth-Token: $T1" "$U2/$C2")"
check "PUT object via proxy2" 201 "$(code -X PUT -H "X-Auth-Token: $T1" --data-binary hello "$U2/$C2/x")"
LIST="$(curl -sS -H "X-Auth-Token: $T1" "$U1/$C2?format=json" | "$PY" -c 'import json,sys; print([o["name"] for o in json.load(sys.stdin)])')"
check "listing via proxy1 sees proxy2's object" "['x']" "$LIST"
check "no token -> 401" 401 "$(code "$U1/$C1")"
check "bad token -> 401" 401 "$(code -H 'X-Auth-Token: gAAAAAnotatoken' "$U1/$C1")"

# ---- reader
v3_token "$OSD_READER_USER" "$OSD_READER_PASSWORD" "$OSD_PROJECT" Default
check "v3 token for reader" 201 "$CODE"
check "reader PUT object -> 403" 403 "$(code -X PUT -H "X-Auth-Token: $TOKEN" --data-binary x "$U1/$C1/reader")"
check "reader PUT container -> 403" 403 "$(code -X PUT -H "X-Auth-Token: $TOKEN" "$U1/reader-$SUFFIX")"

# ---- second domain
v3_token "$OSD_USER2" "$OSD_PASSWORD2" "$OSD_PROJECT2" "$OSD_DOMAIN2"
check "v3 token for second-domain user" 201 "$CODE"
T2="$TOKEN"; U2D="$(v3_url "$OSD_REGION1")"
C3="smoke3-$SUFFIX"
check "second-domain user PUT container" 201 "$(code -X PUT -H "X-Auth-Token: $T2" "$U2D/$C3")"
check "second-domain user PUT object" 201 "$(code -X PUT -H "X-Auth-Token: $T2" --data-binary hi "$U2D/$C3/o")"
check "second-domain user cannot read OSD_USER's account" 403 "$(code -H "X-Auth-Token: $T2" "$U1/$C1")"
check "second-domain user DELETE object" 204 "$(code -X DELETE -H "X-Auth-Token: $T2" "$U2D/$C3/o")"
check "second-domain user DELETE container" 204 "$(code -X DELETE -H "X-Auth-Token: $T2" "$U2D/$C3")"

# ---- wrong credentials (v3)
v3_token "$OSD_USER" "wrong-$SUFFIX" "$OSD_PROJECT" Default
check "v3 wrong password -> 401" 401 "$CODE"

# ---- v2 front end
v2() { # v2 JSON-BODY -> CODE, $TMP/v2.json
    CODE="$(curl -sS -o "$TMP/v2.json" -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
        --data-binary @- "$OSD_AUTH_V2/tokens" <<<"$1")"
}
v2body() { "$PY" -c 'import json,sys; print(json.dumps(eval(sys.argv[1])))' "$1"; }
v2_url() { json "$TMP/v2.json" "[e['publicURL'] for s in d['access']['serviceCatalog'] if s['type']=='object-store' for e in s['endpoints'] if e['region']=='$1'][0]"; }
v2_token() { json "$TMP/v2.json" "d['access']['token']['id']"; }

export OSD_USER OSD_PASSWORD OSD_APIKEY OSD_PROJECT
v2 "$(v2body '{"auth":{"passwordCredentials":{"username":__import__("os").environ["OSD_USER"],"password":__import__("os").environ["OSD_PASSWORD"]},"tenantName":__import__("os").environ["OSD_PROJECT"]}}')"
check "v2 password token" 200 "$CODE"
V2U1="$(v2_url "$OSD_REGION1")"; V2U2="$(v2_url "$OSD_REGION2")"
check "v2 catalog RegionOne publicURL = v3's" "$U1" "$V2U1"
check "v2 catalog RegionTwo publicURL = v3's" "$U2" "$V2U2"
check "v2 token has expires" 1 "$(json "$TMP/v2.json" "int(d['access']['token']['expires'].endswith('Z'))")"
check "v2 token has tenant" "$OSD_PROJECT" "$(json "$TMP/v2.json" "d['access']['token']['tenant']['name']")"
check "v2 endpoint has internalURL/adminURL" True "$(json "$TMP/v2.json" "all('internalURL' in e and 'adminURL' in e for s in d['access']['serviceCatalog'] for e in s['endpoints'])")"
check "v2 user" "$OSD_USER" "$(json "$TMP/v2.json" "d['access']['user']['name']")"
T=$(v2_token)
check "proxy1 accepts v2 password token (GET object)" 200 "$(code -H "X-Auth-Token: $T" "$V2U1/$C1/dir/a%20b+c.bin")"
check "proxy2 accepts v2 password token (PUT object)" 201 "$(code -X PUT -H "X-Auth-Token: $T" --data-binary v2 "$V2U2/$C1/v2obj")"

v2 "$(v2body '{"auth":{"RAX-KSKEY:apiKeyCredentials":{"username":__import__("os").environ["OSD_USER"],"apiKey":__import__("os").environ["OSD_APIKEY"]},"tenantName":__import__("os").environ["OSD_PROJECT"]}}')"
check "v2 API key token" 200 "$CODE"
T=$(v2_token)
check "proxy1 accepts v2 API-key token" 201 "$(code -X PUT -H "X-Auth-Token: $T" --data-binary k "$(v2_url "$OSD_REGION1")/$C1/keyobj")"

v2 "$(v2body '{"auth":{"RAX-KSKEY:apiKeyCredentials":{"username":__import__("os").environ["OSD_USER"],"apiKey":__import__("os").environ["OSD_APIKEY"]}}}')"
check "v2 API key without tenantName" 200 "$CODE"
check "  ... scoped to the user's default project" "$OSD_PROJECT" "$(json "$TMP/v2.json" "d['access']['token']['tenant']['name']")"

v2 "$(v2body '{"auth":{"passwordCredentials":{"username":__import__("os").environ["OSD_USER"],"password":"wrong-pw"},"tenantName":__import__("os").environ["OSD_PROJECT"]}}')"
check "v2 wrong password -> 401" 401 "$CODE"
check "  ... with a v2 error body" 401 "$(json "$TMP/v2.json" "d['error']['code']")"
v2 "$(v2body '{"auth":{"RAX-KSKEY:apiKeyCredentials":{"username":__import__("os").environ["OSD_USER"],"apiKey":__import__("os").environ["OSD_PASSWORD"]},"tenantName":__import__("os").environ["OSD_PROJECT"]}}')"
check "v2 password sent as API key -> 401" 401 "$CODE"
v2 "$(v2body '{"auth":{"passwordCredentials":{"username":__import__("os").environ["OSD_USER"],"password":__import__("os").environ["OSD_APIKEY"]},"tenantName":__import__("os").environ["OSD_PROJECT"]}}')"
check "v2 API key sent as password -> 401" 401 "$CODE"
v2 "$(v2body '{"auth":{"passwordCredentials":{"username":__import__("os").environ["OSD_USER"],"password":__import__("os").environ["OSD_PASSWORD"]},"tenantName":"no-such-project"}}')"
check "v2 unknown tenant -> 401" 401 "$CODE"
v2 '{"auth": '
check "v2 malformed JSON -> 400" 400 "$CODE"
v2 '{"auth":{"passwordCredentials":{"username":"x"}}}'
check "v2 missing password -> 400" 400 "$CODE"
v2 '{"nothing":1}'
check "v2 missing auth -> 400" 400 "$CODE"

# keep-alive: two requests on one connection to the v2 front end and to Keystone
for url in "$OSD_AUTH_V2" "$OSD_AUTH_V3"; do
    n="$(curl -sv -o /dev/null -o /dev/null "$url" "$url" 2>&1 | grep -c 'Re-using existing connection')"
    check "HTTP/1.1 keep-alive on $url" 1 "$n"
done

# ---- swift CLI (python3-swiftclient), v3
if command -v swift >/dev/null; then
    SW=(swift --os-auth-url "$OSD_AUTH_V3" --auth-version 3 --os-username "$OSD_USER"
        --os-password "$OSD_PASSWORD" --os-project-name "$OSD_PROJECT"
        --os-user-domain-name Default --os-project-domain-name Default
        --os-region-name "$OSD_REGION2")
    C4="smoke-cli-$SUFFIX"
    (cd "$TMP" && "${SW[@]}" upload --object-name cli.bin "$C4" obj >/dev/null 2>"$TMP/cli.err") \
        && ok "swift CLI upload (v3, RegionTwo)" || bad "swift CLI upload: $(tail -n 2 "$TMP/cli.err")"
    "${SW[@]}" download "$C4" cli.bin -o "$TMP/cli.bin" >/dev/null 2>"$TMP/cli.err" \
        && cmp -s "$TMP/obj" "$TMP/cli.bin" && ok "swift CLI download round-trips" \
        || bad "swift CLI download: $(tail -n 2 "$TMP/cli.err")"
    check "swift CLI list" "cli.bin" "$("${SW[@]}" list "$C4" 2>/dev/null)"
    "${SW[@]}" delete "$C4" >/dev/null 2>&1 && ok "swift CLI delete container" || bad "swift CLI delete"
else
    bad "swift CLI (python3-swiftclient) not installed"
fi

# ---- TLS: stunnel4 with the test CA in front of Keystone and Swift (RegionTLS)
if [[ -n "${OSD_CA_FILE:-}" ]]; then
    CA=(--cacert "$OSD_CA_FILE")
    check "Keystone over https (test CA)" 200 "$(code "${CA[@]}" "$OSD_AUTH_V3_TLS")"
    v3_token "$OSD_USER" "$OSD_PASSWORD" "$OSD_PROJECT" Default  # the catalog of OSD_USER again
    UT="$(v3_url "$OSD_REGION_TLS")"
    check "catalog RegionTLS object-store endpoint" "$OSD_SWIFT_TLS/v1/AUTH_" "${UT%AUTH_*}AUTH_"
    check "GET container over https (RegionTLS)" 200 "$(code "${CA[@]}" -H "X-Auth-Token: $T1" "$UT/$C1")"
    check "https without the test CA is refused" 000 "$(code "$OSD_SWIFT_TLS/healthcheck" 2>/dev/null)"
    check "https by IP address (in the SAN)" 200 "$(code "${CA[@]}" "${OSD_SWIFT_TLS/localhost/127.0.0.1}/healthcheck")"
    check "wrong-name certificate refused by name" 000 "$(code "${CA[@]}" "$OSD_SWIFT_TLS_OTHER_HOST/healthcheck" 2>/dev/null)"
    check "wrong-name certificate valid for $OSD_TLS_OTHER_HOSTNAME" 200 "$(code "${CA[@]}" \
        --resolve "$OSD_TLS_OTHER_HOSTNAME:${OSD_SWIFT_TLS_OTHER_HOST##*:}:127.0.0.1" \
        "https://$OSD_TLS_OTHER_HOSTNAME:${OSD_SWIFT_TLS_OTHER_HOST##*:}/healthcheck")"
    check "expired certificate refused" 000 "$(code "${CA[@]}" "$OSD_SWIFT_TLS_EXPIRED/healthcheck" 2>/dev/null)"
    FP="$(openssl s_client -connect "127.0.0.1:${OSD_SWIFT_TLS##*:}" -servername localhost </dev/null 2>/dev/null \
        | openssl x509 -outform DER | sha256sum | cut -d' ' -f1)"
    check "OSD_TLS_FINGERPRINT is the :${OSD_SWIFT_TLS##*:} certificate's" "$OSD_TLS_FINGERPRINT" "$FP"
else
    bad "no TLS settings (OSD_CA_FILE unset): start the test bed from a checkout that has them"
fi

# ---- clean up
for o in "$C1/dir/a%20b+c.bin" "$C1/v2obj" "$C1/keyobj" "$C2/x"; do
    check "DELETE $o" 204 "$(code -X DELETE -H "X-Auth-Token: $T1" "$U1/$o")"
done
check "DELETE container $C1" 204 "$(code -X DELETE -H "X-Auth-Token: $T1" "$U1/$C1")"
check "DELETE container $C2" 204 "$(code -X DELETE -H "X-Auth-Token: $T1" "$U2/$C2")"

echo "smoke: $PASS passed, $FAIL failed"
[[ $FAIL == 0 ]]
