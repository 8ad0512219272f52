# shellcheck shell=bash disable=SC2153 # (the OSD_* names come from env.sh)
# The one place that decides whether the real-server tests of the C, Python and C# layers run.
# Sourced by tests/c/run.sh, bindings/python/run-tests.sh and bindings/csharp/run-tests.sh:
#
#   . tests/openstack/server-env.sh || exit 1
#
# - Test bed up: its OSD_* variables are exported (kept from the caller's environment, else read
#   from ${OSD_STATE_DIR:-/tmp/openstack-dest-testbed}/env.sh) and OSD_SERVER_SKIP is unset.
# - No test bed, CI or OSD_REQUIRE_SERVER set: prints why and returns 1 (the run fails).
# - No test bed otherwise: exports OSD_SERVER_SKIP=<why>; the test programs skip their
#   real-server tests and print that reason. They fail when neither OSD_SERVER_SKIP nor
#   OSD_AUTH_V3 is set (nobody asked this file).
# A half-configured environment (OSD_AUTH_V3 without the rest) always fails.
# The Rust tests apply the same rule in tests/support/real.rs.
unset OSD_SERVER_SKIP
if [ -z "${OSD_AUTH_V3:-}" ] && [ -f "${OSD_STATE_DIR:-/tmp/openstack-dest-testbed}/env.sh" ]; then
  # shellcheck disable=SC1091
  . "${OSD_STATE_DIR:-/tmp/openstack-dest-testbed}/env.sh"
fi
osd_why=
osd_broken=
if [ -z "${OSD_AUTH_V3:-}" ]; then
  osd_why="no test bed: OSD_AUTH_V3 is unset and there is no ${OSD_STATE_DIR:-/tmp/openstack-dest-testbed}/env.sh (start it: bash tests/openstack/testbed.sh start)"
else
  for osd_v in OSD_AUTH_V2 OSD_SWIFT1 OSD_REGION1 OSD_REGION2 OSD_USER OSD_PASSWORD OSD_APIKEY \
    OSD_PROJECT OSD_DOMAIN2 OSD_USER2 OSD_PASSWORD2 OSD_PROJECT2 OSD_READER_USER OSD_READER_PASSWORD; do
    if [ -z "${!osd_v:-}" ]; then osd_broken="OSD_AUTH_V3 is set but $osd_v is not"; break; fi
  done
  if [ -z "$osd_broken" ]; then
    for osd_u in "$OSD_AUTH_V3" "$OSD_AUTH_V2" "$OSD_SWIFT1/healthcheck"; do
      curl -s -o /dev/null --max-time 10 -f "$osd_u" ||
        { osd_why="the test bed does not answer at $osd_u (bash tests/openstack/testbed.sh status)"; break; }
    done
  fi
fi
if [ -n "$osd_broken" ]; then
  echo "server-env: FAIL: $osd_broken (source the test bed's env.sh whole)" >&2
  unset osd_why osd_broken osd_v osd_u
  return 1
elif [ -z "$osd_why" ]; then
  echo "server-env: real-server tests run against $OSD_AUTH_V3"
elif [ -n "${CI+x}" ] || [ -n "${OSD_REQUIRE_SERVER+x}" ]; then
  echo "server-env: FAIL: $osd_why; CI or OSD_REQUIRE_SERVER is set, so a real server is required" >&2
  unset osd_why osd_broken osd_v osd_u
  return 1
else
  export OSD_SERVER_SKIP="$osd_why"
  echo "server-env: real-server tests are skipped: $osd_why"
fi
unset osd_why osd_broken osd_v osd_u
