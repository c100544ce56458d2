#!/usr/bin/env bash
# 48 parallel anonymous 32 MiB POSTs to /agent/v1/enroll against a release server; prints
# the answers' status codes and the server's RSS before, at peak and after.
set -euo pipefail
# Usage: bench/anonymous-enrol-flood.sh target/release/rampart 19443
bin=$1; port=$2
dir=$(mktemp -d)
head -c 33554432 /dev/zero | tr '\0' 'a' > "$dir/big.json"
"$bin" server --listen 127.0.0.1:$port --data-dir "$dir/data" > "$dir/log" 2>&1 &
pid=$!
for _ in $(seq 50); do curl -s --cacert "$dir/data/ca.pem" https://localhost:$port/healthz >/dev/null 2>&1 && break; sleep 0.2; done
rss() { grep -E "^$1:" /proc/$pid/status | awk '{print $2}'; }
echo "before: VmRSS $(rss VmRSS) kB"
for round in 1 2; do
  for i in $(seq 48); do
    curl -s -o /dev/null -w '%{http_code}\n' --cacert "$dir/data/ca.pem" -X POST \
      -H 'Content-Type: application/json' --data-binary @"$dir/big.json" \
      https://localhost:$port/agent/v1/enroll &
  done > "$dir/codes.$round"
  wait $(jobs -p | grep -v "^$pid$") 2>/dev/null || true
  sleep 3
  echo "round $round: codes $(sort "$dir/codes.$round" | uniq -c | tr -s ' ' | tr '\n' ';') peak VmHWM $(rss VmHWM) kB, after VmRSS $(rss VmRSS) kB"
done
kill $pid
rm -rf "$dir"
