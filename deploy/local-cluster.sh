#!/usr/bin/env bash
# Starts a three-member frontdesk cluster on this machine for development:
# a kfake Kafka-protocol broker (development and tests only; production uses
# a real Kafka) and three members on loopback ports, sharing PostgreSQL.
#
#   FRONTDESK_DATABASE_URL=postgres://postgres@127.0.0.1:5432/frontdesk_dev?sslmode=disable deploy/local-cluster.sh
#
# Members: HTTP on 127.0.0.1:8081-8083, cluster on 127.0.0.1:7201-7203 (and
# their membership ports 8201-8203); broker on 127.0.0.1:19092 with its data
# in data/cluster/kafka. Ctrl-C stops everything.
set -euo pipefail
cd "$(dirname "$0")/.."

DB="${FRONTDESK_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/frontdesk_dev?sslmode=disable}"
dbname="$(sed -E 's#^[^/]*//[^/]*/([^?]*).*#\1#' <<<"$DB")"
if command -v psql >/dev/null && ! psql "${DB/\/$dbname/\/postgres}" -tAc "SELECT 1 FROM pg_database WHERE datname='$dbname'" 2>/dev/null | grep -q 1; then
  psql "${DB/\/$dbname/\/postgres}" -c "CREATE DATABASE $dbname" >/dev/null
fi

go build -o bin/frontdesk ./cmd/frontdesk
go build -o bin/kfake-dev ./cmd/kfake-dev
mkdir -p data/cluster/kafka

pids=()
trap 'kill "${pids[@]}" 2>/dev/null; wait' EXIT INT TERM

bin/kfake-dev -addr 127.0.0.1:19092 -data-dir data/cluster/kafka &
pids+=($!)
sleep 1

peers=127.0.0.1:7201,127.0.0.1:7202,127.0.0.1:7203
# kfake keeps a killed member in a consumer group until the rebalance timeout
# (Kafka drops it when its session expires): keep that short here.
for i in 1 2 3; do
  FRONTDESK_HTTP_ADDR=127.0.0.1:808$i \
  FRONTDESK_CLUSTER_ADDR=127.0.0.1:720$i FRONTDESK_CLUSTER_PEERS=$peers \
  FRONTDESK_KAFKA_BROKERS=127.0.0.1:19092 FRONTDESK_DATABASE_URL="$DB" \
  FRONTDESK_KAFKA_REBALANCE_TIMEOUT=15s \
  FRONTDESK_DEMO="${FRONTDESK_DEMO:-1}" FRONTDESK_LOG_FORMAT=console \
  bin/frontdesk serve 2>&1 | sed "s/^/[member $i] /" &
  pids+=($!)
done
echo "cluster starting: members on http://127.0.0.1:8081, :8082, :8083 (Ctrl-C to stop)"
wait
