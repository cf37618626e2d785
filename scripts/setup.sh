#!/usr/bin/env bash
# Prepares this checkout on a fresh Debian machine: system packages (Java 17 JDK, kubectl) when missing,
# the project virtualenv with the operator and the local Flink runtime, and, with --tests, what the tests
# need on top (the sample plugin package, a Flink 1.20 distribution in its own virtualenv). Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."

want_tests=0
for arg in "$@"; do
  case "$arg" in
    --tests) want_tests=1 ;;
    *) echo "usage: $0 [--tests]" >&2; exit 2 ;;
  esac
done

apt_pkgs=()
if ! command -v java >/dev/null 2>&1 || ! command -v javac >/dev/null 2>&1; then
  apt_pkgs+=(openjdk-17-jdk-headless)
fi
if ! command -v kubectl >/dev/null 2>&1; then
  apt_pkgs+=(kubernetes-client)
fi
if ((${#apt_pkgs[@]})); then
  sudo_cmd=()
  [ "$(id -u)" = 0 ] || sudo_cmd=(sudo)
  echo "setup: installing ${apt_pkgs[*]}"
  "${sudo_cmd[@]}" apt-get update -y -q
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -q "${apt_pkgs[@]}"
fi

python_bin=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv"
  "$python_bin" -m venv .venv
  .venv/bin/pip install -q --upgrade pip
fi
echo "setup: installing the project into .venv"
.venv/bin/pip install -q -e ".[test,local]"

if ((want_tests)); then
  for pkg in tests/plugin_packages/*/; do
    [ -f "$pkg/pyproject.toml" ] || continue
    .venv/bin/pip install -q -e "$pkg"
  done
  if [ ! -x .venv-flink120/bin/python ] || ! .venv-flink120/bin/python -c 'import pyflink' 2>/dev/null; then
    echo "setup: installing Flink 1.20 into .venv-flink120 (for the flink120 test group)"
    "$python_bin" -m venv .venv-flink120
    .venv-flink120/bin/pip install -q --upgrade pip
    .venv-flink120/bin/pip install -q "apache-flink==1.20.5"
  fi
fi
echo "setup: done"
