#!/usr/bin/env bash
# Runs frontdesk's benchmarks and writes bench/RESULTS.md with the machine
# and date. PostgreSQL benchmarks run when FRONTDESK_TEST_DATABASE_URL is set.
set -euo pipefail
cd "$(dirname "$0")/.."
out=bench/RESULTS.md
raw=$(mktemp)
trap 'rm -f "$raw"' EXIT

export FRONTDESK_TEST_DATABASE_URL="${FRONTDESK_TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test?sslmode=disable}"
pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null || unset FRONTDESK_TEST_DATABASE_URL

# Each benchmark package with its -benchtime (iterations keep runs short on
# a shared 2-core machine).
run() { go test -run '^$' -bench "$2" -benchtime "$3" -count "${COUNT:-1}" -timeout 20m "$1" | tee -a "$raw"; }
run ./persistence/sqlstore/ 'Log' 2000x
run ./actors/ 'GrainActivation' 2000x
run ./actors/ 'GrainMemory' 1x
run ./gateway/ 'WebhookIngest' 4000x
run ./cmd/frontdesk/ 'TurnOverhead' 300x

{
  echo "# Benchmark results"
  echo
  echo "Written by \`make bench\` (bench/run.sh). Compare ratios within one run, not absolute numbers across runs: the machine is shared and noisy."
  echo
  echo "- date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "- machine: $(uname -srm), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(free -g | awk '/Mem:/{print $2}') GiB"
  echo "- go: $(go version | cut -d' ' -f3)"
  echo "- commit: $(git rev-parse --short HEAD)"
  echo "- PostgreSQL: ${FRONTDESK_TEST_DATABASE_URL:+yes}${FRONTDESK_TEST_DATABASE_URL:-no (FRONTDESK_TEST_DATABASE_URL unset)}"
  echo
  echo '```'
  grep -E '^(Benchmark|goos|goarch|pkg|cpu)' "$raw"
  echo '```'
} > "$out"
echo "wrote $out"
