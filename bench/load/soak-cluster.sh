#!/usr/bin/env bash
# soak-cluster.sh: bench/load against the split deployment of issue 15 on
# one machine — three nats-server processes clustered with JetStream (the bus
# stream on all three, bus-replicas 3), the PostgreSQL store in a schema of
# its own (dropped at the end), one `vigil serve --role ingest,api` and two
# `--role detect` workers with the SigmaHQ Windows rules. Every argument is
# passed to bench/load, e.g.
#
#   bench/load/soak-cluster.sh -find-max -start-rate 2000 -step 45s
#   bench/load/soak-cluster.sh -rate 3000 -duration 30m -sample 10s
#
# Run it from the repository root. docs/benchmarks.md describes the run and
# its settings (environment variables below); everything it starts is
# stopped, and the schema dropped, when it exits.
set -euo pipefail

# High, unusual ports, away from the 4222/5432/8080 defaults that tests on a
# shared machine use: NATS clients BASE+1..3, routes BASE+11..13, monitoring
# BASE+21..23, vigil BASE+31 (ingest,api), BASE+32..33 (detect).
BASE=${SOAK_BASE_PORT:-47300}
PG_URL=${SOAK_PG_URL:-postgres://postgres@127.0.0.1:5432/test}
RULES=${SOAK_RULES:-../shared/data/sigma/rules/windows}
TAG=${SOAK_TAG:-$(date -u +%Y%m%dt%H%M%S)}
WORK=${SOAK_DIR:-load-out/soak-cluster-$TAG}
SCHEMA=${SOAK_SCHEMA:-vigil_soak_$TAG}
NATS=${VIGIL_NATS_SERVER:-$(command -v nats-server || echo /usr/sbin/nats-server)}
PROCSAMPLE=${SOAK_PROC_SAMPLE:-10}

[ -f go.mod ] && [ -d bench/load ] || { echo "soak-cluster: run it from the repository root" >&2; exit 2; }
[ -x "$NATS" ] || { echo "soak-cluster: no nats-server at $NATS (set VIGIL_NATS_SERVER)" >&2; exit 2; }
[ -d "$RULES" ] || { echo "soak-cluster: rules directory $RULES missing (set SOAK_RULES)" >&2; exit 2; }
mkdir -p "$WORK"
WORK=$(cd "$WORK" && pwd)
echo "soak-cluster: work dir $WORK, schema $SCHEMA, ports $((BASE + 1))-$((BASE + 33))"

pids=()
cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	# vigil first (it drains to the bus and store), then the NATS nodes.
	for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
		kill -TERM "${pids[i]}" 2>/dev/null || true
		for _ in $(seq 1 300); do kill -0 "${pids[i]}" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "${pids[i]}" 2>/dev/null || true
	done
	psql "$PG_URL" -q -c "DROP SCHEMA IF EXISTS $SCHEMA CASCADE" >/dev/null 2>&1 ||
		echo "soak-cluster: could not drop schema $SCHEMA" >&2
	echo "soak-cluster: stopped; logs in $WORK"
	exit "$rc"
}
trap cleanup EXIT INT TERM

# The binaries, built before the load so that compiling does not share the run.
VIGIL=${SOAK_VIGIL:-}
if [ -z "$VIGIL" ]; then
	go build -o "$WORK/vigil" ./cmd/vigil
	VIGIL=$WORK/vigil
fi
go build -o "$WORK/load" ./bench/load

# Three nats-server nodes, one cluster. max_payload stays the stock 1 MiB:
# vigil sizes its batches from it.
routes=""
for i in 1 2 3; do routes+="${routes:+, }nats-route://127.0.0.1:$((BASE + 10 + i))"; done
for i in 1 2 3; do
	d=$WORK/nats$i
	mkdir -p "$d"
	cat >"$d/nats.conf" <<EOF
server_name: soak$i
listen: 127.0.0.1:$((BASE + i))
http: 127.0.0.1:$((BASE + 20 + i))
jetstream { store_dir: "$d/js" }
cluster {
  name: vigilsoak
  listen: 127.0.0.1:$((BASE + 10 + i))
  routes: [$routes]
}
EOF
	"$NATS" -c "$d/nats.conf" >"$d/server.log" 2>&1 &
	pids+=($!)
done
NATS_URL="nats://127.0.0.1:$((BASE + 1)),nats://127.0.0.1:$((BASE + 2)),nats://127.0.0.1:$((BASE + 3))"

# Ready when every node is healthy and the meta group has a leader with
# both followers current (a stream of three replicas can then be placed).
for _ in $(seq 1 120); do
	ok=1
	for i in 1 2 3; do
		curl -fsS "http://127.0.0.1:$((BASE + 20 + i))/healthz" >/dev/null 2>&1 || ok=0
	done
	if [ $ok = 1 ]; then
		jsz=$(curl -fsS "http://127.0.0.1:$((BASE + 21))/jsz" 2>/dev/null || true)
		cur=$(grep -c -o '"current": *true' <<<"$jsz" || true)
		grep -q '"leader"' <<<"$jsz" && [ "$cur" -ge 2 ] && break
	fi
	sleep 0.5
done
[ "${ok:-0}" = 1 ] || { echo "soak-cluster: NATS cluster not ready (logs in $WORK/nats*)" >&2; exit 1; }

export VIGIL_STORE=postgres VIGIL_STORE_URL=$PG_URL VIGIL_STORE_SCHEMA=$SCHEMA
export VIGIL_NATS_URL=$NATS_URL VIGIL_BUS_REPLICAS=3

"$VIGIL" workspaces create load --data-dir "$WORK/vigil-front" >/dev/null
VIGIL_KEY=$("$VIGIL" keys create --workspace load --scope admin --json --data-dir "$WORK/vigil-front" |
	sed -n 's/.*"secret": *"\([^"]*\)".*/\1/Ip')
[ -n "$VIGIL_KEY" ] || { echo "soak-cluster: vigil keys create gave no secret" >&2; exit 1; }
export VIGIL_KEY

# serve ROLE NAME PORT: one vigil process with a data dir and log of its own.
serve() {
	"$VIGIL" serve --role "$1" --listen "127.0.0.1:$3" --data-dir "$WORK/vigil-$2" \
		--rules "$RULES" --log-level warn >"$WORK/vigil-$2.log" 2>&1 &
	pids+=($!)
	local pid=$!
	for _ in $(seq 1 180); do
		kill -0 "$pid" 2>/dev/null || { echo "soak-cluster: vigil $2 exited (log $WORK/vigil-$2.log):" >&2; tail -5 "$WORK/vigil-$2.log" >&2; exit 1; }
		[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$3/readyz")" = 200 ] && return 0
		sleep 0.5
	done
	echo "soak-cluster: vigil $2 not ready after 90s (log $WORK/vigil-$2.log)" >&2
	exit 1
}
serve ingest,api front $((BASE + 31))
serve detect detect1 $((BASE + 32))
serve detect detect2 $((BASE + 33))

# The bus stream as the cluster holds it: its replicas, for the record.
curl -fsS "http://127.0.0.1:$((BASE + 21))/jsz?streams=true&config=true" >"$WORK/jsz-start.json" || true
echo "soak-cluster: bus stream replicas: $(grep -o '"num_replicas": *[0-9]*' "$WORK/jsz-start.json" | head -1 | grep -o '[0-9]*$' || echo unknown)"

# The NATS nodes' memory and CPU, which vigil's /metrics do not show: a
# row every SOAK_PROC_SAMPLE seconds (RSS KiB, CPU seconds of each node).
(
	echo "t_s,rss_kib_nats1,cpu_s_nats1,rss_kib_nats2,cpu_s_nats2,rss_kib_nats3,cpu_s_nats3,load1"
	t0=$(date +%s)
	while :; do
		row="$(($(date +%s) - t0))"
		for p in "${pids[@]:0:3}"; do
			read -r rss < <(ps -o rss= -p "$p" || echo 0)
			ticks=$(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0)
			row+=",$rss,$(awk -v t="$ticks" -v hz="$(getconf CLK_TCK)" 'BEGIN{printf "%.1f", t / hz}')"
		done
		echo "$row,$(cut -d' ' -f1 /proc/loadavg)"
		sleep "$PROCSAMPLE"
	done
) >"$WORK/nats-procs.csv" &
pids+=($!)

f=$((BASE + 31))
"$WORK/load" -tag "$TAG" -out "$WORK" \
	-ingest "http://127.0.0.1:$f" -api "http://127.0.0.1:$f" \
	-metrics "http://127.0.0.1:$f/metrics,http://127.0.0.1:$((BASE + 32))/metrics,http://127.0.0.1:$((BASE + 33))/metrics" \
	"$@"
