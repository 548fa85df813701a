#!/usr/bin/env bash
# Runs every test of the solution against local services:
#   infra/test.sh [extra dotnet test arguments, e.g. --filter FullyQualifiedName~BlobStorage]
# Starts redis and Azurite (infra/services.sh), exports where they are, runs `dotnet test Cluster.sln`, stops the
# services it started itself (ones that were already running are left running), and exits with dotnet test's code.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
services="$root/infra/services.sh"
redis_port="${SCM_REDIS_PORT:-6390}"
azurite_port="${SCM_AZURITE_PORT:-10000}"

started_here=()
for service in redis azurite; do
  "$services" status "$service" >/dev/null 2>&1 || started_here+=("$service")
done
stop_started_services() {
  if [ ${#started_here[@]} -gt 0 ]; then
    "$services" stop "${started_here[@]}" || true
  fi
}
trap stop_started_services EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

"$services" start

export SCM_TEST_REDIS="127.0.0.1:$redis_port"
# Azurite's published development account; the key is public and only valid for the emulator.
export SCM_TEST_AZURITE_CONNECTION="DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;BlobEndpoint=http://127.0.0.1:$azurite_port/devstoreaccount1;"
export SCM_TEST_AZURITE_BIN="$root/.tools/azurite/node_modules/.bin/azurite-blob"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

log="$(mktemp "${TMPDIR:-/tmp}/scm-test.XXXXXX.log")"
set +e
dotnet test Cluster.sln "$@" 2>&1 | tee "$log"
test_exit=${PIPESTATUS[0]}
set -e

# One closing line over all test assemblies (dotnet test prints one per assembly).
awk '
  /(Passed|Failed)! +- +Failed: +[0-9]+, +Passed: +[0-9]+, +Skipped: +[0-9]+/ {
    line = $0
    gsub(/[^0-9,]/, " ", line)
    split(line, counts, ",")
    failed += counts[1]; passed += counts[2]; skipped += counts[3]; found = 1
  }
  END { if (found) printf "Tests: %d passed, %d failed, %d skipped\n", passed, failed, skipped }
' "$log"
rm -f "$log"
exit "$test_exit"
