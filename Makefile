.PHONY: run test setup

# Set everything up and run the clinic (web, Celery worker and beat, demo data).
run:
	bash scripts/run.sh

# Set everything up and run the whole test suite.
test:
	bash scripts/test.sh

setup:
	bash -c 'source scripts/setup.sh --browser'
