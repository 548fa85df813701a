#!/usr/bin/env bash
# Local services for tests and development: redis-server and Azurite (Azure Blob emulator).
#
#   infra/services.sh start  [redis] [azurite]   install if missing, start, wait until they answer
#   infra/services.sh stop   [redis] [azurite]   stop what this script started (by pid: TERM, then KILL)
#   infra/services.sh status [redis] [azurite]   exit 0 only if every named service is running
#
# Without service names, both. Ports: redis 127.0.0.1:6390 (SCM_REDIS_PORT), Azurite blob 127.0.0.1:10000
# (SCM_AZURITE_PORT). Data lives in temp dirs that stop removes; pid files and logs in .tools/run/.
# Starting an already running service is a no-op. If another program already answers on a port, it is used as is
# and never stopped by this script.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
tools="$root/.tools"
run_dir="$tools/run"
redis_port="${SCM_REDIS_PORT:-6390}"
azurite_port="${SCM_AZURITE_PORT:-10000}"
azurite_version="3.37.0"
azurite_home="$tools/azurite"
azurite_bin="$azurite_home/node_modules/.bin/azurite-blob"
stop_grace_seconds=10
start_timeout_seconds=60

log() { echo "[services] $*" >&2; }

# ---------- installation ----------

apt_updated=0
apt_install() {
  if [ "$(id -u)" -ne 0 ]; then
    log "need root to apt-get install $*; install them yourself (sudo apt-get install -y $*)"
    return 1
  fi
  if [ "$apt_updated" -eq 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    apt_updated=1
  fi
  # No auto-started system redis on 6379: policy-rc.d is not needed, we never use that instance.
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

ensure_redis_installed() {
  if ! command -v redis-server >/dev/null || ! command -v redis-cli >/dev/null; then
    log "installing redis-server (apt)"
    apt_install redis-server redis-tools
  fi
}

ensure_ffmpeg_installed() {
  if ! command -v ffmpeg >/dev/null; then
    log "installing ffmpeg (apt)"
    apt_install ffmpeg
  fi
}

ensure_node_installed() {
  if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    log "installing nodejs and npm (apt)"
    apt_install nodejs npm
  fi
}

installed_azurite_version() {
  local manifest="$azurite_home/node_modules/azurite/package.json"
  [ -f "$manifest" ] && node -p "require('$manifest').version" 2>/dev/null || true
}

ensure_azurite_installed() {
  ensure_node_installed
  if [ -x "$azurite_bin" ] && [ "$(installed_azurite_version)" = "$azurite_version" ]; then
    return
  fi
  log "installing azurite@$azurite_version into $azurite_home (npm)"
  mkdir -p "$azurite_home"
  # A private package.json keeps npm from walking up and treating the repo as a package.
  [ -f "$azurite_home/package.json" ] || echo '{ "name": "scm-tools-azurite", "private": true }' >"$azurite_home/package.json"
  (cd "$azurite_home" && npm install --no-audit --no-fund --loglevel=error --save-exact "azurite@$azurite_version" >/dev/null)
  [ -x "$azurite_bin" ] || { log "npm install finished but $azurite_bin is missing"; return 1; }
}

# ---------- process bookkeeping ----------

pid_file() { echo "$run_dir/$1.pid"; }
data_dir_file() { echo "$run_dir/$1.datadir"; }

# Our pid, if the recorded process is still alive and still the program we started (pids get reused).
running_pid() {
  local service="$1" file pid expected
  file="$(pid_file "$service")"
  [ -f "$file" ] || return 1
  pid="$(cat "$file")"
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
  case "$service" in
    redis) expected="redis-server" ;;
    azurite) expected="azurite" ;;
  esac
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q "$expected" || return 1
  echo "$pid"
}

redis_answers() { [ "$(redis-cli -h 127.0.0.1 -p "$redis_port" ping 2>/dev/null)" = "PONG" ]; }

# Any HTTP status means the server is up; curl prints 000 when nothing answered.
azurite_answers() {
  local code
  code="$(curl -s -o /dev/null -m 2 -w '%{http_code}' "http://127.0.0.1:$azurite_port/devstoreaccount1?comp=list" || true)"
  [ -n "$code" ] && [ "$code" != "000" ]
}

answers() {
  case "$1" in
    redis) redis_answers ;;
    azurite) azurite_answers ;;
  esac
}

wait_until_answering() {
  local service="$1" pid="$2" log_file="$3" waited=0
  while ! answers "$service"; do
    if ! kill -0 "$pid" 2>/dev/null; then
      log "$service exited during start-up; last lines of $log_file:"
      tail -n 20 "$log_file" >&2 || true
      return 1
    fi
    if [ "$waited" -ge $((start_timeout_seconds * 5)) ]; then
      log "$service did not answer within ${start_timeout_seconds}s; last lines of $log_file:"
      tail -n 20 "$log_file" >&2 || true
      stop_pid "$service" "$pid"
      return 1
    fi
    sleep 0.2
    waited=$((waited + 1))
  done
}

# TERM, then KILL after a grace period: Azurite has been seen ignoring TERM.
stop_pid() {
  local service="$1" pid="$2" waited=0
  kill -TERM "$pid" 2>/dev/null || return 0
  while kill -0 "$pid" 2>/dev/null; do
    if [ "$waited" -ge $((stop_grace_seconds * 5)) ]; then
      log "$service (pid $pid) ignored TERM for ${stop_grace_seconds}s; sending KILL"
      kill -KILL "$pid" 2>/dev/null || true
      break
    fi
    sleep 0.2
    waited=$((waited + 1))
  done
  # A killed process may still be a zombie for a moment; wait for it to be gone for real.
  for _ in $(seq 1 25); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
}

# ---------- services ----------

start_redis() {
  ensure_redis_installed
  local pid
  if pid="$(running_pid redis)"; then
    log "redis already running (pid $pid) on 127.0.0.1:$redis_port"
    return
  fi
  if redis_answers; then
    log "something else already answers redis on 127.0.0.1:$redis_port; using it (it will not be stopped by this script)"
    return
  fi
  local data_dir log_file
  data_dir="$(mktemp -d "${TMPDIR:-/tmp}/scm-redis.XXXXXX")"
  log_file="$run_dir/redis.log"
  echo "$data_dir" >"$(data_dir_file redis)"
  # No RDB snapshots, no AOF: test data must not survive into the next run or fill the disk.
  setsid redis-server --bind 127.0.0.1 --port "$redis_port" --dir "$data_dir" \
    --save "" --appendonly no --daemonize no --protected-mode yes --logfile "$log_file" \
    </dev/null >>"$log_file" 2>&1 &
  pid=$!
  echo "$pid" >"$(pid_file redis)"
  wait_until_answering redis "$pid" "$log_file"
  log "redis started (pid $pid) on 127.0.0.1:$redis_port, data in $data_dir"
}

start_azurite() {
  ensure_azurite_installed
  local pid
  if pid="$(running_pid azurite)"; then
    log "azurite already running (pid $pid) on 127.0.0.1:$azurite_port"
    return
  fi
  if azurite_answers; then
    log "something else already answers HTTP on 127.0.0.1:$azurite_port; using it (it will not be stopped by this script)"
    return
  fi
  local data_dir log_file
  data_dir="$(mktemp -d "${TMPDIR:-/tmp}/scm-azurite.XXXXXX")"
  log_file="$run_dir/azurite.log"
  echo "$data_dir" >"$(data_dir_file azurite)"
  # --skipApiVersionCheck: newer SDKs send service versions this Azurite does not know yet.
  setsid "$azurite_bin" --blobHost 127.0.0.1 --blobPort "$azurite_port" --location "$data_dir" \
    --skipApiVersionCheck --loose --disableTelemetry --silent \
    </dev/null >>"$log_file" 2>&1 &
  pid=$!
  echo "$pid" >"$(pid_file azurite)"
  wait_until_answering azurite "$pid" "$log_file"
  log "azurite $azurite_version started (pid $pid) on 127.0.0.1:$azurite_port, data in $data_dir"
}

stop_service() {
  local service="$1" pid data_dir
  if pid="$(running_pid "$service")"; then
    stop_pid "$service" "$pid"
    log "$service stopped (pid $pid)"
  else
    log "$service not running (not started by this script)"
  fi
  rm -f "$(pid_file "$service")"
  if [ -f "$(data_dir_file "$service")" ]; then
    data_dir="$(cat "$(data_dir_file "$service")")"
    # Only ever remove the temp dirs this script made.
    case "$data_dir" in
      */scm-redis.* | */scm-azurite.*) rm -rf "$data_dir" ;;
    esac
    rm -f "$(data_dir_file "$service")"
  fi
}

status_service() {
  local service="$1" pid
  if pid="$(running_pid "$service")"; then
    if answers "$service"; then
      echo "$service: running (pid $pid)"
      return 0
    fi
    echo "$service: pid $pid alive but not answering"
    return 1
  fi
  if answers "$service"; then
    echo "$service: answering, but not started by this script"
    return 0
  fi
  echo "$service: stopped"
  return 1
}

usage() {
  echo "usage: $0 start|stop|status [redis] [azurite]" >&2
  exit 2
}

[ $# -ge 1 ] || usage
command="$1"
shift
services=("$@")
[ ${#services[@]} -gt 0 ] || services=(redis azurite)
for service in "${services[@]}"; do
  case "$service" in
    redis | azurite) ;;
    *) usage ;;
  esac
done
mkdir -p "$run_dir"

case "$command" in
  start)
    ensure_ffmpeg_installed
    for service in "${services[@]}"; do "start_$service"; done
    ;;
  stop)
    for service in "${services[@]}"; do stop_service "$service"; done
    ;;
  status)
    all_running=0
    for service in "${services[@]}"; do status_service "$service" || all_running=1; done
    exit "$all_running"
    ;;
  *) usage ;;
esac
