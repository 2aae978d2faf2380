#!/bin/sh
# Re-parse this dbt project into target/ (manifest.json, semantic_manifest.json) with real
# dbt-core and dbt-duckdb, in a throwaway virtual environment. dbt is not one of Canon's
# requirements: only this script needs it. Usage: tests/metrics/dbt_project/regenerate.sh
set -eu
here="$(cd "$(dirname "$0")" && pwd)"
venv="${CANON_DBT_VENV:-$(mktemp -d)/dbt-venv}"
python3 -m venv "$venv"
# dbt-core 1.11+ pulls a parser wheel from GitHub at install time; 1.10 installs from PyPI alone.
"$venv/bin/pip" install --quiet "dbt-core~=1.10.0" "dbt-duckdb~=1.9.0"
work="$(mktemp -d)"
cd "$here"
CANON_DBT_DUCKDB="$work/shop.duckdb" DBT_SEND_ANONYMOUS_USAGE_STATS=false \
  "$venv/bin/dbt" parse --profiles-dir "$here" --project-dir "$here" --target-path "$work/target" --log-path "$work/logs" --no-partial-parse
mkdir -p "$here/target"
# Only the two artifacts Canon reads, pretty-printed so that a diff is readable. The
# manifest's "macros" (dbt's and the adapter's own, ~450 KB) are left out: Canon never reads them.
python3 - "$work/target" "$here/target" <<'PY'
import json, sys
source, target = sys.argv[1], sys.argv[2]
for name in ("manifest.json", "semantic_manifest.json"):
    with open(f"{source}/{name}") as f:
        data = json.load(f)
    if name == "manifest.json":
        data["macros"] = {}
    with open(f"{target}/{name}", "w") as f:
        json.dump(data, f, indent=1, sort_keys=True)
        f.write("\n")
PY
rm -rf "$work"
echo "regenerated $here/target/manifest.json and semantic_manifest.json"
