.PHONY: run test fast bench
run:
	./scripts/run
test:
	./scripts/test
fast:  ## unit, service, API and consumer tests only (no browser, no real servers)
	.venv/bin/python -m pytest -m "not e2e and not system" -q
bench:
	.venv/bin/python bench/run.py
