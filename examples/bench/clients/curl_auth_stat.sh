#!/usr/bin/env bash
# curl: authenticate (POST /v3/auth/tokens, Keystone v3 password) then HEAD one object, as one
# process. usage: curl_auth_stat.sh AUTH_URL OBJECT_URL; OS_USERNAME, OS_PASSWORD and
# OS_PROJECT_NAME give the credentials (Default domain). The storage URL is given, not read from
# the catalog (that would need a JSON parser); prints the HEAD's headers.
set -euo pipefail
auth=$1 object=$2
body=$(printf '{"auth":{"identity":{"methods":["password"],"password":{"user":{"name":"%s","domain":{"name":"Default"},"password":"%s"}}},"scope":{"project":{"name":"%s","domain":{"name":"Default"}}}}}' \
  "$OS_USERNAME" "$OS_PASSWORD" "$OS_PROJECT_NAME")
token=$(curl -sf -D - -o /dev/null -H 'Content-Type: application/json' -d "$body" "$auth/auth/tokens" \
  | awk 'tolower($1) == "x-subject-token:" { print $2 }' | tr -d '\r')
[ -n "$token" ] || { echo "curl_auth_stat.sh: no token" >&2; exit 1; }
curl -sfI -H "X-Auth-Token: $token" "$object"
