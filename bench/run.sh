#!/usr/bin/env bash
# Runs frontdesk's benchmarks and writes bench/RESULTS.md with the machine
# and date. PostgreSQL benchmarks run when FRONTDESK_TEST_DATABASE_URL is set.
set -euo pipefail
cd "$(dirname "$0")/.."
out=bench/RESULTS.md
raw=$(mktemp)
lg=$(mktemp -d)
trap 'rm -f "$raw"; rm -rf "$lg"' EXIT

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
run ./knowledge/index/ 'RetrievalQuality|Search100k|Replace' 1x
# Load benchmarks: the real binary driven from outside by bench/loadgen
# (fakes in its own process, signed webhooks), about 2.5 minutes per binary;
# LOADGEN_FLAGS shortens them (e.g. "-duration 10s -heap-conversations 500").
# The same load runs on the binary built at LOADGEN_BASE (default the commit
# before issue 11's work) in the same run. A lost, doubled or refused message
# is a "--- FAIL" line in the results; at HEAD it also fails the run.
LOADGEN_BASE="${LOADGEN_BASE:-f7b8dff}"
read -r -a loadgen_flags <<< "${LOADGEN_FLAGS:-}"
go build -o bin/frontdesk ./cmd/frontdesk
go build -o "$lg/loadgen" ./bench/loadgen
load_failed=0
"$lg/loadgen" -bin bin/frontdesk ${loadgen_flags[@]+"${loadgen_flags[@]}"} | tee -a "$raw" || load_failed=1
if git cat-file -e "$LOADGEN_BASE^{commit}" 2>/dev/null; then
  wt=$(mktemp -d)
  git worktree add --detach -q "$wt" "$LOADGEN_BASE"
  if (cd "$wt" && go build -o "$lg/frontdesk-base" ./cmd/frontdesk); then
    "$lg/loadgen" -bin "$lg/frontdesk-base" -name "BenchmarkLoadAt${LOADGEN_BASE}" ${loadgen_flags[@]+"${loadgen_flags[@]}"} | tee -a "$raw" || true
  else
    echo "--- FAIL: BenchmarkLoadAt${LOADGEN_BASE}: the binary at ${LOADGEN_BASE} did not build" | tee -a "$raw"
  fi
  git worktree remove --force "$wt"
fi
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
- `ClusterEndToEnd/members=1|3` (PostgreSQL, kfake broker process, separate member processes, the WhatsApp
  send limit lifted): 200 conversations chatting at once, each sending its next message when the previous one
  was answered; messages/s and p50/p99 of webhook → reply at the Graph API. All members share the machine's 2
  cores with the broker, PostgreSQL and the test process.
- `ClusterRecovery`: `kill -9` of one of three members; seconds until every conversation answered its next
  message (p50 and max over the runs), and until those replies reached the Graph API.
- `TurnOverhead`: the whole `serve` process in-process, webhook → Graph API request of the reply with a
  model that answers instantly (SQLite), one message after another (each from a new customer); p50/p99.
  `TurnOverheadAt<commit>` is the same benchmark on the code at that commit (`BASE`, default the last
  commit before the grains held their state), built and run in the same `make bench`. Both are bounded by
  the WhatsApp per-number rate limiter (80 sends/s, and the read receipt takes a token like the reply), not
  by the turn (read receipts have had their own bucket since issue 11): compare the turn itself with
  `Turn/warm|cold` and `Load/single`.
- `Load/single|chat-500|ingest-8|heap-2000` (bench/loadgen): the real binary (`bin/frontdesk serve`, SQLite,
  embedded log, the WhatsApp send limiter lifted with `FRONTDESK_WHATSAPP_RATE`) as its own process, driven
  from outside by a load generator with an instant OpenAI-compatible model fake and a Graph API fake in its
  process, through signed `POST /webhooks/whatsapp`; each scenario starts a fresh frontdesk. `single`: one
  conversation, 200 messages one after another; p50/p90/p99/max from the webhook to the reply's request at
  the Graph fake. `chat-500`: 500 conversations at once, each sending its next message when its previous
  reply reached the Graph fake (closed loop without think time, so mean latency ≈ 500 ÷ turns/s), measured
  30 s after a 5 s warm-up; turns/s (replies per second), latency p50/p99 and frontdesk's CPU in cores busy
  (`/proc/<pid>/stat`). `ingest-8`: while 500 conversations chat, 8 clients hit a bare `net/http` handler in
  the load generator for 10 s, then post signed one-message webhooks (new ids, 1,000 other customers) to
  frontdesk as fast as they can for 10 s; req/s, p99, `ratio-vs-bare`, and the chat's turns/s while webhooks
  pour in. `heap-2000`: frontdesk at `GOGC=20` (a GC cannot be forced from outside, so the heap is kept near
  what is live); the minimum of 3 `/metrics` samples of `go_memstats_heap_inuse_bytes`,
  `go_memstats_heap_alloc_bytes` and `process_resident_memory_bytes` before and after 2,000 conversations of 5
  messages × 200 characters, all answered, per conversation, beside the conversation's text (`text-B/conv`).
  `LoadAt<commit>` is the same load on the binary built at that commit (`LOADGEN_BASE`, default f7b8dff, before
  issue 11's work). A lost, doubled (sent twice to the Graph API) or refused message fails the run
  (`--- FAIL` line). The load generator shares the machine's cores with frontdesk (it prints its own CPU use).
- `RetrievalQuality/bm25|hybrid` (knowledge/index): the Python FAQ test set (169 passages, 75 questions
  in customers' words, 12 it does not answer; `knowledge/index/testdata/faq`); `recall@5` (share of
  answerable questions with an answering passage in the top 5), `MRR` (mean reciprocal rank of the first
  answering passage in the top 10), `threshold` (the best-Relevance cut that best separates answerable
  from unanswerable questions) and `threshold-accuracy` (share of all questions it classifies right).
  `hybrid` fuses BM25 with vectors from a deterministic hashed word + character-trigram embedding (256
  dimensions), a lexical-hashing stand-in, not a neural model: its numbers show the fusion machinery, not
  a real embedding model's quality.
- `Search100k/bm25|hybrid` (knowledge/index): one tenant of 100,000 chunks (the real passages plus
  variants mixing and perturbing them), built once per run: `build-lexical-s` (Replace of 5,000
  20-chunk documents), `build-vectors-s` (LoadVectors of 100,000 256-dimension vectors into the HNSW
  graph, M=16, efConstruction=100), `heap-lexical-MB` / `heap-vectors-MB` (live heap added by each,
  after GC; bleve's index is on disk and mmapped, not counted); `p50-µs` / `p99-µs` of Search (K=5)
  over the 87 test questions three times, and `recall@5` of the real passages among the 100k.
- `Replace` (knowledge/index): replacing one 20-chunk document (with vectors) in that 100k index, 20
  times; `p50-µs` and `max-µs` per Replace.
- `Turn/warm|cold`: one customer message answered on a thread whose grains are active (warm: the turn's
  context comes from memory) or were passivated before each message (cold: the context is read from the
  store, as every turn did before); store reads per turn (counted by a wrapper around the grains' store)
  and µs from delivery to the committed reply, with a model that answers at once.

TXT
  echo '```'
  grep -E '^(Benchmark|goos|goarch|pkg|cpu|--- FAIL)' "$raw"
  echo '```'
} > "$out"
echo "wrote $out"
if [ "$load_failed" = 1 ]; then
  echo "bench/loadgen failed on this tree's binary (see the --- FAIL lines above)" >&2
  exit 1
fi
