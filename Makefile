# Warden: `make run` serves the demo on http://127.0.0.1:8000, `make test` runs the suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DB_FILE := warden.sqlite3

.PHONY: run serve test lint format worker beat install clean

$(STAMP): pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check -c requirements.lock -e '.[dev,assess]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	@first=0; if [ -z "$$DATABASE_URL" ] && [ ! -f $(DB_FILE) ]; then first=1; fi; \
	DEBUG=1 $(BIN)/python manage.py migrate --noinput -v0 && \
	if [ $$first = 1 ] || [ -n "$$SEED" ]; then DEBUG=1 $(BIN)/python manage.py seed_demo; fi; \
	echo ""; \
	echo "Warden: http://127.0.0.1:8000  (demo logins, password: $${WARDEN_DEMO_PASSWORD:-warden-demo})"; \
	echo "  lead     security lead in fraud-risk, nlp-platform, vision"; \
	echo "  member   data scientist (triage) in the same teams"; \
	echo "  viewer   read-only in the same teams"; \
	echo "  outsider lead of its own team, partners (sees none of the above)"; \
	echo ""; \
	DEBUG=1 exec $(BIN)/python manage.py runserver 127.0.0.1:8000

# Production: gunicorn (workers from WEB_CONCURRENCY, binds HOST:PORT), DEBUG off. Needs
# SECRET_KEY and ALLOWED_HOSTS; see docs/deploy.md. The Procfile and docker-compose.yml run the
# same commands.
serve: $(STAMP)
	DEBUG=0 $(BIN)/python manage.py collectstatic --noinput -v0
	DEBUG=0 exec $(BIN)/gunicorn -c python:governance.lib.gunicorn_conf governance.wsgi

test: $(STAMP)
	$(BIN)/pytest -q -n 2

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy --strict --config-file= scanners
	DEBUG=1 $(BIN)/mypy governance

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

worker: $(STAMP)
	$(BIN)/celery -A governance worker -l info

beat: $(STAMP)
	$(BIN)/celery -A governance beat -l info

clean:
	rm -rf $(VENV) $(DB_FILE) staticfiles .pytest_cache .mypy_cache .ruff_cache
