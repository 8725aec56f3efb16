# The two set-up commands of the README. Each one is complete on a fresh machine.
.PHONY: flow test setup

setup:
	bash scripts/setup.sh

# Install, then run the main job on the embedded default.
flow: setup
	.venv/bin/cimq flow

# Install, then run the whole test suite.
test: setup
	.venv/bin/python -m pytest
