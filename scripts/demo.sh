#!/usr/bin/env bash
# Sets everything up, then runs the local demo.
set -euo pipefail
cd "$(dirname "$0")/.."
setup_started=$(date +%s%N)
bash scripts/setup.sh
export PATH="$PWD/.venv/bin:$PATH"
flink-operator validate examples/
setup_ms=$(( ($(date +%s%N) - setup_started) / 1000000 ))
setup_seconds=$(printf '%d.%03d' $((setup_ms / 1000)) $((setup_ms % 1000)))
echo "set-up and validation took ${setup_seconds} s"
# The demo: the API emulator, the operator and real Flink on this machine; examples/basic-flink2.yaml
# (the counter job, built from examples/jobs/counter) runs to STABLE, then everything stops again.
exec flink-operator local demo --earlier-phase "set-up=${setup_seconds}" "$@"
