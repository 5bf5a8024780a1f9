#!/usr/bin/env bash
# Sets up a Python environment for the MixQ training companion and runs it.
#   bash training/run.sh all    install, train the float network, QAT-train and export
#                               every example model under data/models/, verify them
#   bash training/run.sh test   install, then run the pytest tests in training/tests
# Setup is idempotent: training/.venv is created once (it also sees packages already
# installed for the system Python) and `pip install -r requirements.txt` is a no-op
# when everything is present.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$HERE"
what="${1:-}"
shift || true
case "$what" in all|test) ;; *) echo "usage: bash training/run.sh all|test [extra args]" >&2; exit 2 ;; esac

if ! command -v python3 >/dev/null 2>&1 || ! python3 -c "import venv, ensurepip" >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3 python3-venv python3-pip >/dev/null
    else
        echo "need python3 with the venv module (Debian: apt-get install python3-venv)" >&2
        exit 1
    fi
fi
if [ ! -x .venv/bin/python ]; then
    python3 -m venv --system-site-packages .venv
fi
PY="$HERE/.venv/bin/python"
"$PY" -m pip install -q --disable-pip-version-check -r requirements.txt

if [ "$what" = all ]; then
    mkdir -p build
    "$PY" -m mixq_training all "$@" 2>&1 | tee build/train_all.log
    "$PY" -m mixq_training verify ../data/models/*.onnx
else
    "$PY" -m pytest -q tests "$@"
fi
