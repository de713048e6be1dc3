# Sourced by scripts/start (`run`: the runtime) and scripts/test (`test`: the runtime, every
# optional backend and the development tools). Creates or refreshes .venv from the locks, so the
# tests run on the versions the image ships.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

python_bin=""
for candidate in python3.11 python3.12 python3.13 python3; do
  if command -v "$candidate" >/dev/null 2>&1 &&
     "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    python_bin=$candidate
    break
  fi
done
if [ -z "$python_bin" ]; then
  echo "Python 3.11 or newer is needed" >&2
  exit 2
fi

purpose=${1:-run}
locks=(requirements.lock)
[ "$purpose" = test ] && locks+=(requirements-dev.lock)
digest() { cat pyproject.toml "$@" | sha256sum | cut -d' ' -f1; }
wanted=$(digest "${locks[@]}")
# A test environment holds everything the runtime needs as well.
if [ "$(cat .venv/.installed-test 2>/dev/null)" = "$(digest requirements.lock requirements-dev.lock)" ] ||
   [ "$(cat ".venv/.installed-$purpose" 2>/dev/null)" = "$wanted" ] && [ -x .venv/bin/python ]; then
  :
else
  echo "Setting up .venv for $purpose (first run: a few minutes)…" >&2
  "$python_bin" -m venv .venv
  .venv/bin/python -m pip install --quiet --upgrade pip
  # The pinned set (the dev lock pins the CPU build of torch, which the sentence-transformers
  # backend needs), then the project itself without resolving anything.
  .venv/bin/python -m pip install --quiet "${locks[@]/#/-r}"
  .venv/bin/python -m pip install --quiet --no-deps -e .
  echo "$wanted" > ".venv/.installed-$purpose"
fi
export PATH="$PWD/.venv/bin:$PATH"
