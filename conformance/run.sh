#!/usr/bin/env bash
# Autobahn|Testsuite conformance run of trio_venues.RawWebSocket over both transports.
#
#   bash conformance/run.sh [--cases 1-100,250] [--transport default|trio-websocket|both]
#                           [--case-timeout 60] [--total-timeout 1500] [--setup-only]
#
# `make conformance` runs it with no arguments (all 517 cases, both transports).
#
# 1. Builds conformance/.venv-py27 from the image's pyenv Python 2.7 if missing:
#    wstest (autobahntestsuite 25.10.1) is Python-2.7-only code. The virtualenv tool
#    that can still create 2.7 environments (20.21.1) goes to conformance/.tools/.
# 2. Starts wstest's fuzzing server on 127.0.0.1:9001 only (wstest_loopback.py).
# 3. Runs conformance/driver.py with the project's .venv, once per transport, as agents
#    trio-venues-default and trio-venues-trio-websocket.
# 4. Stops the server by its PID and prints the per-group summary of each agent.
#
# Reports: conformance/reports/ (index.json, index.html, per-case files,
# client_outcomes-<transport>.json, summary-<transport>.txt).
# Exit status: 0 = no FAILED case and no close problem on any transport, 1 = some,
# 2 = a client run hit its time-box or crashed, 3 = no report, 4 = no Python 2.7,
# 5 = port 9001 busy, 6 = the fuzzing server did not start.
# Env: PYTHON3 (default .venv/bin/python), PYTHON27, SERVER_WAIT_S (30).
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(dirname "$HERE")"
cd "$ROOT"

PORT=9001
PY3=${PYTHON3:-$ROOT/.venv/bin/python}
VENV27=$HERE/.venv-py27
TOOLS=$HERE/.tools/virtualenv
OUT=$HERE/reports
SERVER_WAIT_S=${SERVER_WAIT_S:-30}
CASES=""
TRANSPORT=both
CASE_TIMEOUT=60
TOTAL_TIMEOUT=1500
SETUP_ONLY=0

usage() { sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
  case "$1" in
    --cases) CASES=$2; shift 2 ;;
    --transport) TRANSPORT=$2; shift 2 ;;
    --case-timeout) CASE_TIMEOUT=$2; shift 2 ;;
    --total-timeout) TOTAL_TIMEOUT=$2; shift 2 ;;
    --setup-only) SETUP_ONLY=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "unknown argument: $1"; usage; exit 64 ;;
  esac
done
case "$TRANSPORT" in
  both) TRANSPORTS="default trio-websocket" ;;
  default|trio-websocket) TRANSPORTS=$TRANSPORT ;;
  *) echo "--transport must be default, trio-websocket or both"; exit 64 ;;
esac

if ! "$PY3" -c 'import trio_venues, trio_websocket' >/dev/null 2>&1; then
  echo "$PY3 cannot import trio_venues: run 'make install' first"; exit 64
fi

find_py27() {
  local c
  for c in "${PYTHON27:-}" python2.7 python2; do
    [ -n "$c" ] || continue
    if "$c" -c 'import sys; assert sys.version_info[:2] == (2, 7)' >/dev/null 2>&1; then
      command -v "$c" || echo "$c"; return 0
    fi
  done
  if command -v pyenv >/dev/null 2>&1; then
    for c in "$(pyenv root)"/versions/2.7*/bin/python2.7; do
      [ -x "$c" ] && { echo "$c"; return 0; }
    done
  fi
  return 1
}

# The stamp file marks a complete build; a half-built environment is rebuilt.
if [ ! -f "$VENV27/.installed" ]; then
  if ! PY27=$(find_py27); then
    echo "ERROR: no Python 2.7 interpreter found (tried \$PYTHON27, python2.7, python2 and"
    echo "pyenv's versions/2.7*). Autobahn|Testsuite (wstest) is Python-2.7-only code, so the"
    echo "conformance run cannot start. Install one (e.g. 'pyenv install 2.7.18') or set PYTHON27."
    exit 4
  fi
  echo "[setup] building $VENV27 from $PY27"
  if ! PYTHONPATH=$TOOLS "$PY3" -c 'import virtualenv' >/dev/null 2>&1; then
    # virtualenv 20.21.1 is the last release that can create Python 2.7 environments.
    "$PY3" -m pip install -q --target "$TOOLS" virtualenv==20.21.1
  fi
  rm -rf "$VENV27"
  PYTHONPATH=$TOOLS "$PY3" -m virtualenv -q -p "$PY27" "$VENV27"
  "$VENV27/bin/pip" install -q -r "$HERE/requirements-wstest-py27.txt"
  # 25.10.1 declares no dependencies; the pins above are its egg-info requires.txt.
  "$VENV27/bin/pip" install -q --no-deps autobahntestsuite==25.10.1
  touch "$VENV27/.installed"
fi
[ "$SETUP_ONLY" = 1 ] && { echo "[setup] $VENV27 ready"; exit 0; }

if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
  echo "something already listens on 127.0.0.1:$PORT; stop it first"; exit 5
fi

rm -rf "$OUT" && mkdir -p "$OUT"
sed "s#\"./conformance/reports/clients\"#\"$OUT\"#" "$HERE/fuzzingserver.json" > "$OUT/spec.json"
"$VENV27/bin/python" "$HERE/wstest_loopback.py" -m fuzzingserver -s "$OUT/spec.json" -u 0 \
  > "$OUT/fuzzingserver.log" 2>&1 &
SERVER_PID=$!
stop_server() {
  if kill -0 "$SERVER_PID" 2>/dev/null; then
    kill "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 1 20); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.25; done
    kill -9 "$SERVER_PID" 2>/dev/null || true
  fi
}
trap stop_server EXIT

for i in $(seq 1 $((SERVER_WAIT_S * 2))); do
  (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break
  kill -0 "$SERVER_PID" 2>/dev/null || { echo "fuzzingserver died:"; cat "$OUT/fuzzingserver.log"; exit 6; }
  sleep 0.5
  [ "$i" -eq $((SERVER_WAIT_S * 2)) ] && { echo "fuzzingserver did not listen within ${SERVER_WAIT_S}s"; exit 6; }
done
echo "[run] fuzzingserver pid $SERVER_PID on 127.0.0.1:$PORT"

STATUS=0
for T in $TRANSPORTS; do
  echo "[run] transport $T: agent trio-venues-$T"
  set +e
  timeout --signal=INT $((TOTAL_TIMEOUT + 120)) "$PY3" "$HERE/driver.py" --transport "$T" \
    --server "ws://127.0.0.1:$PORT" --cases "$CASES" --case-timeout "$CASE_TIMEOUT" \
    --total-timeout "$TOTAL_TIMEOUT" --log "$OUT/client_outcomes-$T.json"
  RC=$?
  set -e
  echo "[run] transport $T: client exit $RC"
  [ "$RC" -ne 0 ] && STATUS=2
done
stop_server
trap - EXIT
echo "[run] server stopped"

for T in $TRANSPORTS; do
  echo
  set +e
  "$PY3" "$HERE/summarise.py" --outdir "$OUT" --agent "trio-venues-$T" | tee "$OUT/summary-$T.txt"
  RC=${PIPESTATUS[0]}
  set -e
  if [ "$RC" -ne 0 ] && [ "$STATUS" -lt "$RC" ]; then STATUS=$RC; fi
done
exit "$STATUS"
