#!/usr/bin/env bash
# The main job on the bundled example: install, check the plan (findings with file:line and citations),
# and write the fiduciary memo to out/acme-401k-memo.pdf. Exit code 1 means findings at error level.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
mkdir -p out
.venv/bin/compliance memo examples/acme-401k.yaml -o out/acme-401k-memo.pdf \
  --prepared-by "Plan consultant" --for "Investment Committee"
.venv/bin/compliance check examples/acme-401k.yaml
