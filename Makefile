# Two commands on a fresh machine: `make run` and `make test`. See README.md.
PY := .venv/bin/python
ARGS ?=
export DJANGO_ALLOW_ASYNC_UNSAFE := true

.PHONY: setup run test bench serve messages

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
	$(PY) manage.py makemigrations --check --dry-run
	$(PY) -m pytest $(ARGS)

bench:
	bash scripts/bootstrap.sh bench
	$(PY) -m bench $(ARGS)

# Refresh the translation catalogues after adding user-facing strings (source strings are Spanish).
messages:
	$(PY) manage.py makemessages -l en --ignore=.venv --ignore=bench --no-obsolete
