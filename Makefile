# The README's commands. `make run` needs only Python 3.11; `make test` installs the rest.
.PHONY: run test bench drill lint messages

run:
	bash scripts/run.sh

test:
	bash scripts/test.sh

bench:
	bash scripts/bench.sh

# The backup drill alone: dump, erase, restore, reapply_erasures, audit_verify (README).
drill:
	bash scripts/test.sh tests/faults/test_backup_drill.py

lint:
	.venv/bin/ruff check . && .venv/bin/ruff format --check .

# Refresh the French catalogue after changing user-facing text.
messages:
	.venv/bin/python manage.py makemessages -l fr --no-obsolete --ignore=.venv --ignore=tests --ignore=bench --ignore=staticfiles
