#!/bin/sh
# What cdk.json's "app" runs: app.py with the project's own Python (.venv). Before `make install`
# has created .venv, `npx cdk ...` says so in one line instead of ".venv/bin/python: not found".
here=$(dirname "$0")
if [ ! -x "$here/.venv/bin/python" ]; then
    echo "error: no .venv yet: run \`make install\` first (creates .venv and installs the pinned CDK CLI, 2-3 minutes), then run npx cdk again" >&2
    exit 1
fi
exec "$here/.venv/bin/python" "$here/app.py" "$@"
