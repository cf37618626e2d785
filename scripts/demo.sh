#!/usr/bin/env bash
# Sets everything up, then runs the local demo.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export PATH="$PWD/.venv/bin:$PATH"
flink-operator validate examples/
