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
run ./actors/ 'Turn$' 300x
run ./gateway/ 'WebhookIngest' 4000x
run ./cmd/frontdesk/ 'TurnOverhead' 300x
# Before and after in one run: the same benchmark on the code at BASE (by
# default the last commit before the grains held their state), built in a
# temporary worktree.
BASE="${BASE:-6f604e0}"
if git cat-file -e "$BASE^{commit}" 2>/dev/null; then
  wt=$(mktemp -d)
  git worktree add --detach -q "$wt" "$BASE"
  (cd "$wt" && go test -run '^$' -bench 'TurnOverhead' -benchtime 300x -count "${COUNT:-1}" -timeout 20m ./cmd/frontdesk/) |
    sed "s/^BenchmarkTurnOverhead/BenchmarkTurnOverheadAt${BASE}/" | tee -a "$raw"
  git worktree remove --force "$wt"
fi
run ./cmd/frontdesk/ 'Replay' 1x
run ./llmrouter/service/ 'RouterOverhead' 3000x
run ./dashboard/ 'Fanout' 20x
if [ -n "${FRONTDESK_TEST_DATABASE_URL:-}" ]; then
  go test -tags cluster -run '^$' -bench 'ClusterEndToEnd' -benchtime 1x -timeout 20m ./cmd/frontdesk/ | tee -a "$raw"
  go test -tags cluster -run '^$' -bench 'ClusterRecovery' -benchtime 3x -timeout 20m ./cmd/frontdesk/ | tee -a "$raw"
fi

{
  echo "# Benchmark results"
  echo
  echo "Written by \`make bench\` (bench/run.sh). Compare ratios within one run, not absolute numbers across runs: the machine is shared and noisy."
  echo
  echo "- date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "- machine: $(uname -srm), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(free -g | awk '/Mem:/{print $2}') GiB"
  echo "- go: $(go version | cut -d' ' -f3)"
  echo "- commit: $(git rev-parse --short HEAD)"
  if [ -n "${FRONTDESK_TEST_DATABASE_URL:-}" ]; then echo "- PostgreSQL: local server (PostgreSQL $(psql --version | awk '{print $3}'))"; else echo "- PostgreSQL: not run (FRONTDESK_TEST_DATABASE_URL unset)"; fi
  echo
  cat <<'TXT'
What each benchmark measures:

- `LogAppend/<db>/batch1|batch100`: appends to the embedded event log (200-byte records), one record or
  100 per transaction; events/s and p50/p99 per append call.
- `LogConsume/<db>`: poll + commit of a prefilled topic by one consumer group; events/s, p50/p99 per poll.
- `GrainActivation/activate`: activating a conversation grain (placement, spawn, checkpoint load with a
  30-message hot context, one request/response), one per iteration; `baseline-active` sends the same
  request to a grain already active: the ratio of the two is the activation cost.
- `GrainMemory`: heap held per active conversation grain with a hot context of 30 messages × 200
  characters (2,000 grains).
- `WebhookIngest/<db>`: signed one-message `POST /webhooks/whatsapp` (verify, parse, dedupe, append, 200)
  from 8 concurrent clients, beside a bare `net/http` handler that only answers 200 in the same run;
  `ratio-vs-bare` is ingest req/s ÷ bare req/s.
- `RouterOverhead`: `/v1/chat/completions` through the `frontdesk llmrouter` service and router to an
  instant fake backend, beside calling the fake directly in the same run; p50/p99 added latency and req/s
  with 8 clients.
- `Fanout`: 5,000 WebSocket clients of one tenant on one member; latency from the commit notification to each
  client having the frame (p50/p99 over all deliveries), and heap per connection (both ends are in the
  benchmark process, so the client side is counted too).
- `Replay` / `ReplayKafka`: `frontdesk replay` of 200,000 envelopes from the SQLite log / from Kafka (kfake in process, 12 partitions) to a discarding writer.
- `ClusterEndToEnd/members=1|3` (PostgreSQL, kfake broker process, separate member processes): 200
  conversations chatting at once, each sending its next message when the previous one was answered; messages/s
  and p50/p99 of webhook → reply at the Graph API.
- `ClusterRecovery`: `kill -9` of one of three members; seconds until every conversation answered its next
  message (p50 and max over the runs).
- `TurnOverhead`: the whole `serve` process in-process, webhook → Graph API request of the reply with a
  model that answers instantly (SQLite), one message after another (each from a new customer); p50/p99.
  `TurnOverheadAt<commit>` is the same benchmark on the code at that commit (`BASE`, default the last
  commit before the grains held their state), built and run in the same `make bench`. Both are bounded by
  the WhatsApp per-number rate limiter (80 sends/s, and the read receipt takes a token like the reply), not
  by the turn: compare the turn itself with `Turn/warm|cold`.
- `Turn/warm|cold`: one customer message answered on a thread whose grains are active (warm: the turn's
  context comes from memory) or were passivated before each message (cold: the context is read from the
  store, as every turn did before); store reads per turn (counted by a wrapper around the grains' store)
  and µs from delivery to the committed reply, with a model that answers at once.

TXT
  echo '```'
  grep -E '^(Benchmark|goos|goarch|pkg|cpu)' "$raw"
  echo '```'
} > "$out"
echo "wrote $out"
