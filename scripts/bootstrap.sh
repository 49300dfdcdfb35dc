#!/usr/bin/env bash
# Idempotent machine set-up behind `make run` / `make test` / `make bench`, for a Debian machine that has
# Python 3.11 and apt. Arguments add optional parts: `browser` (Debian's Chromium), `redis` (a local Redis
# server), `bench` (wrk). Safe to run again and again: each step checks before it acts.
set -euo pipefail
export PGOPTIONS="-c client_min_messages=warning"
cd "$(dirname "$0")/.."

say() { printf '==> %s\n' "$*"; }
want() { for arg in "${ARGS[@]}"; do [ "$arg" = "$1" ] && return 0; done; return 1; }
ARGS=("$@")
APT_UPDATED=""
apt_install() {
  [ -n "$APT_UPDATED" ] || { say "apt-get update"; apt-get update -qq; APT_UPDATED=1; }
  say "apt-get install $*"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

# --- Python virtualenv --------------------------------------------------------------------------------------
PYTHON="${PYTHON:-python3.11}"
command -v "$PYTHON" >/dev/null || PYTHON=python3
stamp=".venv/.installed-$(cat requirements.txt requirements-dev.txt | sha256sum | cut -c1-16)"
if [ ! -x .venv/bin/python ]; then
  say "creating .venv with $PYTHON"
  "$PYTHON" -m venv .venv
fi
if [ ! -f "$stamp" ]; then
  say "installing pinned requirements"
  .venv/bin/pip install -q --upgrade pip
  .venv/bin/pip install -q -r requirements-dev.txt
  rm -f .venv/.installed-*
  touch "$stamp"
fi

# --- gettext (compiles the translations) -------------------------------------------------------------------
command -v msgfmt >/dev/null || apt_install gettext

# --- PostgreSQL --------------------------------------------------------------------------------------------
if ! command -v pg_lsclusters >/dev/null || [ -z "$(ls /etc/postgresql 2>/dev/null)" ]; then
  apt_install postgresql postgresql-contrib
fi
PG_VERSION="$(ls /etc/postgresql | sort -V | tail -n1)"
[ -d "/usr/share/postgresql/$PG_VERSION/extension" ] && [ -f "/usr/share/postgresql/$PG_VERSION/extension/unaccent.control" ] \
  || apt_install "postgresql-contrib"
if ! pg_lsclusters -h | grep -q .; then
  say "creating PostgreSQL cluster $PG_VERSION/main"
  pg_createcluster "$PG_VERSION" main >/dev/null
fi
if ! pg_isready -q -h 127.0.0.1; then
  say "starting PostgreSQL $PG_VERSION"
  pg_ctlcluster --skip-systemctl-redirect "$PG_VERSION" main start || true
  for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 && break; sleep 1; done
  pg_isready -q -h 127.0.0.1 || { echo "PostgreSQL did not start" >&2; exit 1; }
fi

# Superuser access: over TCP where trust/peer allows it, else as the postgres OS user.
psql_admin() {
  if psql -h 127.0.0.1 -U postgres -w -d postgres -tAc 'select 1' >/dev/null 2>&1; then
    psql -h 127.0.0.1 -U postgres -w -v ON_ERROR_STOP=1 -q "$@"
  else
    runuser -u postgres -- psql -v ON_ERROR_STOP=1 -q "$@"
  fi
}
eval "$(.venv/bin/python - <<'PY'
import os, shlex
from urllib.parse import urlparse, unquote
u = urlparse(os.environ.get("DATABASE_URL", "postgres://ficosec:ficosec@127.0.0.1:5432/ficosec"))
for k, v in {"DB_USER": u.username, "DB_PASSWORD": unquote(u.password or ""), "DB_NAME": u.path.lstrip("/")}.items():
    print(f"{k}={shlex.quote(v or '')}")
PY
)"
psql_admin -d postgres <<SQL
SELECT format('CREATE ROLE %I LOGIN CREATEDB PASSWORD %L', '$DB_USER', '$DB_PASSWORD')
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '$DB_USER') \gexec
ALTER ROLE "$DB_USER" LOGIN CREATEDB PASSWORD '$DB_PASSWORD';
SELECT format('CREATE DATABASE %I OWNER %I', '$DB_NAME', '$DB_USER')
 WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = '$DB_NAME') \gexec
SQL
for db in template1 "$DB_NAME"; do
  psql_admin -d "$db" -c "CREATE EXTENSION IF NOT EXISTS unaccent; CREATE EXTENSION IF NOT EXISTS pg_trgm;"
done
say "PostgreSQL ready: database $DB_NAME, role $DB_USER"

# --- Optional parts ----------------------------------------------------------------------------------------
if want browser && [ ! -x /usr/bin/chromium ]; then
  apt_install chromium
fi
if want redis; then
  if ! (command -v redis-cli >/dev/null && redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG); then
    command -v redis-server >/dev/null || apt_install redis-server
    say "starting redis-server on 127.0.0.1:6379"
    mkdir -p /var/lib/redis /var/log/redis
    redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no --dir /var/lib/redis \
      --logfile /var/log/redis/ficosec.log
    for _ in $(seq 1 20); do redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG && break; sleep 0.5; done
  fi
fi
if want bench; then
  command -v wrk >/dev/null || apt_install wrk
fi
exit 0
