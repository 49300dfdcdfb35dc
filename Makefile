# Two commands on a fresh machine: `make run` and `make test`. See README.md.
PY := .venv/bin/python
ARGS ?=
# pytest-xdist workers for make test (each has its own test database); `make test WORKERS=0` runs in one process.
WORKERS ?= auto
export DJANGO_ALLOW_ASYNC_UNSAFE := true

.PHONY: setup run test bench serve backup messages

setup:
	bash scripts/bootstrap.sh
	$(PY) manage.py compilemessages --ignore=.venv -v 0
	$(PY) manage.py migrate --noinput

run: setup
	$(PY) manage.py load_demo
	$(PY) manage.py runserver 127.0.0.1:8000

test:
	bash scripts/bootstrap.sh browser redis
	$(PY) manage.py compilemessages --ignore=.venv -v 0
	.venv/bin/ruff check .
	$(PY) manage.py makemigrations --check --dry-run
	$(PY) -m pytest -n $(WORKERS) $(ARGS)

# The production-like server: DEBUG off, gunicorn with WhiteNoise, a local-only secret key kept in .secret_key.
serve: setup
	@test -f .secret_key || $(PY) -c "import secrets; print(secrets.token_urlsafe(50))" > .secret_key
	DEBUG=false SECRET_KEY="$$(cat .secret_key)" ALLOWED_HOSTS=127.0.0.1,localhost SECURE_SSL_REDIRECT=false \
	  $(PY) manage.py collectstatic --noinput -v 0
	DEBUG=false SECRET_KEY="$$(cat .secret_key)" ALLOWED_HOSTS=127.0.0.1,localhost SECURE_SSL_REDIRECT=false \
	  .venv/bin/gunicorn -c gunicorn.conf.py

# A compressed pg_dump of the database in backups/ (restore with: manage.py restore FILE --yes).
backup: setup
	$(PY) manage.py backup

bench:
	bash scripts/bootstrap.sh redis bench
	$(PY) -m bench $(ARGS)

# Refresh the translation catalogues after adding user-facing strings (source strings are Spanish).
messages:
	$(PY) manage.py makemessages -l en --ignore=.venv --ignore=bench --ignore=node_modules --no-obsolete
