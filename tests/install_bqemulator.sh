#!/usr/bin/env bash
# The BigQuery emulator the tests run marts on (bqemulator, a REST stand-in backed by DuckDB), in its
# own venv: it pins duckdb 1.5.5 and sqlglot < 30.12, which revbook's own venv does not use.
# Everything it needs at run time is installed here, so it never downloads anything when it starts.
# Usage: install_bqemulator.sh VENV_DIR HOME_DIR   (make test calls it once)
set -euo pipefail
VENV=$1
EMU_HOME=$2
PYTHON=${PYTHON:-python3}
rm -rf "$VENV" "$EMU_HOME"
"$PYTHON" -m venv "$VENV"
# duckdb 1.5.5 is the only version with a duckdb-extension-spatial wheel (bqemulator loads spatial at
# start); numpy is an undeclared run-time dependency; the avro extension spares a failed download.
# uv installs them in seconds; pip is the fallback.
PACKAGES=("bqemulator==1.4.0" "duckdb==1.5.5" "duckdb-extension-spatial==1.5.5" "duckdb-extension-avro==1.5.5" numpy)
"$VENV/bin/pip" install --quiet uv
"$VENV/bin/uv" pip install --quiet --compile-bytecode --python "$VENV/bin/python" "${PACKAGES[@]}" \
    || "$VENV/bin/pip" install --quiet "${PACKAGES[@]}"
mkdir -p "$EMU_HOME"
# Install the wheels' extension files into $EMU_HOME/.duckdb/extensions, where the emulator's own
# `INSTALL spatial; LOAD spatial` finds them offline (start it with HOME=$EMU_HOME).
HOME="$EMU_HOME" "$VENV/bin/python" - <<'PY'
import glob, os, duckdb
import duckdb_extension_avro, duckdb_extension_spatial
con = duckdb.connect()
for module, name in ((duckdb_extension_spatial, "spatial"), (duckdb_extension_avro, "avro")):
    path = glob.glob(os.path.join(os.path.dirname(module.__file__), "extensions", "*", f"{name}.duckdb_extension"))[0]
    con.execute(f"INSTALL '{path}'")
    con.execute(f"LOAD {name}")
PY
touch "$VENV/.installed"
