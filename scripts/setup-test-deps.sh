#!/usr/bin/env bash
# Installs the Debian packages the test suite runs on: the project's Python model code under Debian's
# python3-xgboost (the library of SageMaker's XGBoost 1.7-1 container) and python3-torch/torchvision, and
# Debian's chromium for the browser tests. Runs before `npm test`; fails (never skips) when it cannot install.
# On macOS or another OS, set ML_BLUEPRINT_PYTHON (a venv with xgboost==1.7.4, torch, torchvision, pytest) and
# CHROME_PATH (a Chrome or Chromium binary); see CONTRIBUTING.md. Nothing is installed when both are usable.
set -euo pipefail
PY="${ML_BLUEPRINT_PYTHON:-/usr/bin/python3}"
BROWSER="${CHROME_PATH:-chromium}"
missing() {
  need=()
  "$PY" -c 'import xgboost' 2>/dev/null || need+=(python3-xgboost)
  "$PY" -c 'import torch, torchvision' 2>/dev/null || need+=(python3-torch python3-torchvision)
  "$PY" -c 'import pytest' 2>/dev/null || need+=(python3-pytest)
  "$PY" -c 'import numpy, scipy' 2>/dev/null || need+=(python3-numpy python3-scipy)
  command -v "$BROWSER" >/dev/null 2>&1 || need+=(chromium)
}
missing
[ ${#need[@]} -eq 0 ] && exit 0
if ! command -v apt-get >/dev/null 2>&1; then
  echo "ml-blueprint: the tests need ${need[*]} and this machine has no apt-get; see CONTRIBUTING.md for other systems" >&2
  exit 1
fi
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
echo "ml-blueprint: installing Debian packages for the tests: ${need[*]}" >&2
$SUDO apt-get update -qq >&2
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >&2
missing
if [ ${#need[@]} -gt 0 ]; then
  echo "ml-blueprint: still missing after the install: ${need[*]} (interpreter $PY, browser $BROWSER); set ML_BLUEPRINT_PYTHON / CHROME_PATH to ones that have them" >&2
  exit 1
fi
