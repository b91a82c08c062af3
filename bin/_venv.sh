# Shared by bin/run and bin/test: create .venv and install the project (once per pyproject).
ensure_venv() {
    extras="$1"
    python=${PYTHON:-python3}
    if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
        echo "Tradepost needs Python 3.11 or newer (set PYTHON=/path/to/python3.11)." >&2
        exit 1
    fi
    [ -x .venv/bin/python ] || "$python" -m venv .venv
    stamp=".venv/.installed-$(cat pyproject.toml | sha256sum | cut -c1-12)$extras"
    if [ ! -f "$stamp" ]; then
        .venv/bin/python -m pip install -q --upgrade pip
        .venv/bin/python -m pip install -q -e ".$extras"
        touch "$stamp"
    fi
    PATH="$PWD/.venv/bin:$PATH"
    export PATH
}
