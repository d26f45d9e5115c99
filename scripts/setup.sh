#!/usr/bin/env bash
# Installs what plan-compliance needs on a fresh Debian/Ubuntu machine: WeasyPrint's system libraries
# (Pango, HarfBuzz-Subset), the DejaVu fonts the memo uses, and a virtual environment in .venv.
# VENV=DIR puts the environment elsewhere; CONSTRAINTS=FILE installs under pip constraints (CI uses
# .ci/floors.txt to prove the lowest versions pyproject.toml allows).
set -euo pipefail
cd "$(dirname "$0")/.."

need_libs() {
  for lib in libpango-1.0.so libpangoft2-1.0.so libharfbuzz-subset.so; do
    ldconfig -p | grep -q "$lib" || return 0
  done
  fc-list 2>/dev/null | grep -qi "DejaVuSans.ttf" || return 0
  return 1
}

if need_libs; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libpango-1.0-0 libpangoft2-1.0-0 \
      libharfbuzz-subset0 fonts-dejavu-core fontconfig >/dev/null
  else
    echo "setup: install Pango, HarfBuzz-Subset and fonts-dejavu-core with your package manager" >&2
    exit 1
  fi
fi

# The site's browser tests (tests/site/test_browser.py) drive Debian's Chromium headless through its driver, and
# run axe-core, vendored from npm at a pinned version into tests/site/.npm (not committed). Nothing is downloaded
# when the tests run; without these they fail, they never skip.
if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
  else
    echo "setup: install chromium and chromium-driver with your package manager (for the site's browser tests)" >&2
  fi
fi
axe_version=4.14.1
if [ ! -f tests/site/.npm/node_modules/axe-core/axe.min.js ] \
    || ! grep -q "\"version\": \"$axe_version\"" tests/site/.npm/node_modules/axe-core/package.json; then
  if ! command -v npm >/dev/null && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm >/dev/null
  fi
  if command -v npm >/dev/null; then
    npm install --no-save --no-package-lock --silent --prefix tests/site/.npm "axe-core@$axe_version" >/dev/null
  else
    echo "setup: install npm (for axe-core, which the site's browser tests run)" >&2
  fi
fi

python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "setup: Python 3.11+ is required" >&2; exit 1; }
venv_dir="${VENV:-.venv}"
[ -x "$venv_dir/bin/python" ] || python3 -m venv "$venv_dir"
"$venv_dir/bin/python" -m pip install -q --disable-pip-version-check ${CONSTRAINTS:+-c "$CONSTRAINTS"} -e '.[test,lint]'
# pip compiles a wheel's modules to bytecode when it installs them; an editable install does not, and with
# PYTHONDONTWRITEBYTECODE set Python never writes it either, so every run would recompile the package.
"$venv_dir/bin/python" -m compileall -q compliance
echo "setup: ready ($venv_dir/bin/compliance $("$venv_dir/bin/compliance" --version | awk '{print $NF}'))"
