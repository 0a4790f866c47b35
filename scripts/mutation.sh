#!/usr/bin/env bash
# Mutation testing of one module with mutmut, outside the normal test run (it takes tens of minutes).
#
#   scripts/mutation.sh src/depotsite/instance.py tests/test_instance.py tests/test_model.py ...
#
# The first argument is the module to mutate, the rest the test files that should kill its mutants.
# It works in a temporary copy of the repository (mutmut writes a mutants/ folder next to the code), runs
# every mutant against those tests and prints the score and the surviving mutants; `mutmut show NAME`
# in the printed folder shows a mutant's diff. Needs `pip install mutmut` (not a project dependency).
set -euo pipefail
module=${1:?usage: scripts/mutation.sh MODULE TEST_FILE...}
shift
[ $# -gt 0 ] || { echo "name the test files that should kill the mutants" >&2; exit 2; }
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/depotsite-mutation.XXXXXX")
git -C "$root" ls-files -z | (cd "$root" && xargs -0 cp --parents -t "$work")
cd "$work"
tests=$(printf '"%s", ' "$@")
cat >> pyproject.toml <<TOML

[tool.mutmut]
source_paths = ["src/depotsite"]
only_mutate = ["$module"]
also_copy = ["data", "models", "benchmarks", "scripts", "docs", "README.md"]
pytest_add_cli_args_test_selection = [${tests%, }]
pytest_add_cli_args = ["-p", "no:cacheprovider", "-q", "-x", "-o", "addopts="]
TOML
export DEPOTSITE_CACHE="$work/cache"
mutmut run --max-children "${MUTATION_CHILDREN:-1}" >mutmut.log 2>&1 || { tail -30 mutmut.log; exit 1; }
mutmut results --all true > results.txt 2>&1 || mutmut results > results.txt 2>&1
killed=$(grep -c ': killed' results.txt || true)
survived=$(grep -c ': survived' results.txt || true)
other=$(grep -vc ': killed\|: survived' results.txt || true)
echo "$module: $killed killed, $survived survived, $other other (timeouts, no tests) — in $work"
grep ': survived' results.txt || true
