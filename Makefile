.PHONY: run test fast bench bench-quick
run:
	./scripts/run
test:
	./scripts/test
fast:  ## unit, service, API and consumer tests only (no browser, no real servers)
	.venv/bin/python -m pytest -m "not e2e and not system" -q
bench:  ## HappyChat on both paths next to its peers (several minutes; bench/README.md)
	./scripts/bench
bench-quick:  ## the same, smaller (a few minutes)
	./scripts/bench --quick
