#!/usr/bin/env bash
# The tests' Python: a virtual environment in var/venv made with Debian's
# python3 (deps.sh python installs it and its venv module), holding what
# deploy/requirements-test.txt pins, from PyPI. Made again when the list
# changes. Usage: deploy/pyenv.sh   (prints the venv's python)
. "$(dirname "$0")/lib.sh"
"$ROOT/deploy/deps.sh" python
VENV=$VAR/venv
REQ=$ROOT/deploy/requirements-test.txt
STAMP=$VENV/.requirements
if [ ! -x "$VENV/bin/python" ] || ! cmp -s "$REQ" "$STAMP"; then
    say "making the tests' Python environment in $VENV"
    rm -rf "$VENV"
    /usr/bin/python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check -r "$REQ" >"$LOGS/pip.log" 2>&1 \
        || { tail -20 "$LOGS/pip.log" >&2; die "pip install failed (log: $LOGS/pip.log)"; }
    cp "$REQ" "$STAMP"
fi
echo "$VENV/bin/python"
