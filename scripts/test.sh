#!/usr/bin/env bash
# Sets everything up, then runs every check CI runs: lint, types, all test tiers.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --tests
export PATH="$PWD/.venv/bin:$PATH"

echo "== ruff"
ruff check src tests benchmarks
echo "== mypy --strict src"
mypy src
echo "== pytest"
# Any non-zero status fails the run, including 5 (no tests collected).
pytest -p no:cacheprovider tests
echo "== all checks passed"
