#!/usr/bin/env bash
# Idempotent machine set-up behind `make run` / `make test` / `make bench`, for a Debian machine that has
# Python 3.11 and apt. Arguments add optional parts: `browser` (Debian's Chromium and the page checkers),
# `redis` (a local Redis server), `bench` (wrk). Safe to run again and again: each step checks before it acts.
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
# Role, password, host, port and database come from DATABASE_URL (the same default as ficosec/settings.py).
eval "$(.venv/bin/python - <<'PY'
import os, shlex
from urllib.parse import urlparse, unquote
u = urlparse(os.environ.get("DATABASE_URL", "postgres://ficosec:ficosec@127.0.0.1:5432/ficosec"))
for k, v in {"DB_USER": unquote(u.username or ""), "DB_PASSWORD": unquote(u.password or ""),
             "DB_HOST": u.hostname or "127.0.0.1", "DB_PORT": str(u.port or 5432),
             "DB_NAME": unquote(u.path.lstrip("/"))}.items():
    print(f"{k}={shlex.quote(v)}")
PY
)"
if ! command -v pg_lsclusters >/dev/null || ! compgen -G "/usr/lib/postgresql/*/bin/postgres" >/dev/null \
   || ! compgen -G "/usr/share/postgresql/*/extension/unaccent.control" >/dev/null; then
  apt_install postgresql postgresql-contrib
fi
if ! pg_lsclusters -h | grep -q .; then
  PG_VERSION="$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n1)"
  [ -n "$PG_VERSION" ] || PG_VERSION="$(ls /usr/lib/postgresql | sort -V | tail -n1)"
  say "creating PostgreSQL cluster $PG_VERSION/main"
  pg_createcluster "$PG_VERSION" main >/dev/null
fi
if ! pg_isready -q -h "$DB_HOST" -p "$DB_PORT"; then
  read -r PG_VERSION PG_CLUSTER _ < <(pg_lsclusters -h | sort -V | tail -n1)
  say "starting PostgreSQL $PG_VERSION/$PG_CLUSTER"
  pg_ctlcluster --skip-systemctl-redirect "$PG_VERSION" "$PG_CLUSTER" start || true
  for _ in $(seq 1 30); do pg_isready -q -h "$DB_HOST" -p "$DB_PORT" && break; sleep 1; done
  pg_isready -q -h "$DB_HOST" -p "$DB_PORT" || { echo "PostgreSQL did not start on $DB_HOST:$DB_PORT" >&2; exit 1; }
fi

# Superuser access: over TCP where trust allows it, else as the postgres OS user (peer auth on the socket).
psql_admin() {
  if psql -h "$DB_HOST" -p "$DB_PORT" -U postgres -w -d postgres -tAc 'select 1' >/dev/null 2>&1; then
    psql -h "$DB_HOST" -p "$DB_PORT" -U postgres -w -v ON_ERROR_STOP=1 -q "$@"
  else
    runuser -u postgres -- psql -p "$DB_PORT" -v ON_ERROR_STOP=1 -q "$@"
  fi
}
# Values go in as psql variables (:'name' quotes them), so any character is safe in the password.
psql_admin -d postgres -v db_user="$DB_USER" -v db_password="$DB_PASSWORD" -v db_name="$DB_NAME" <<'SQL'
SELECT format('CREATE ROLE %I LOGIN CREATEDB PASSWORD %L', :'db_user', :'db_password')
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'db_user') \gexec
SELECT format('ALTER ROLE %I LOGIN CREATEDB PASSWORD %L', :'db_user', :'db_password') \gexec
SELECT format('CREATE DATABASE %I OWNER %I', :'db_name', :'db_user')
 WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = :'db_name') \gexec
SQL
# template1 too, so pytest-django's test_<name> database has the extensions.
for db in template1 "$DB_NAME"; do
  psql_admin -d "$db" -c "CREATE EXTENSION IF NOT EXISTS unaccent; CREATE EXTENSION IF NOT EXISTS pg_trgm;"
done
say "PostgreSQL ready: database $DB_NAME, role $DB_USER on $DB_HOST:$DB_PORT"

# --- Optional parts ----------------------------------------------------------------------------------------
if want browser && [ ! -x /usr/bin/chromium ]; then
  apt_install chromium
fi
# The page checkers the browser tests use: axe-core, the Nu HTML checker (npm packages; the checker runs on Java) and
# Lighthouse (accessibility, best practices and SEO of one page of each public kind).
if want browser; then
  command -v npm >/dev/null || apt_install nodejs npm
  command -v java >/dev/null || apt_install default-jre-headless
  if [ ! -f node_modules/axe-core/axe.min.js ] || [ ! -f node_modules/vnu-jar/build/dist/vnu.jar ] \
    || [ ! -f node_modules/lighthouse/cli/index.js ] || [ package-lock.json -nt node_modules ]; then
    say "installing the page checkers (npm ci)"
    npm ci --no-audit --no-fund --loglevel=error
    touch node_modules
  fi
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
