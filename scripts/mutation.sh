#!/usr/bin/env bash
# Mutation testing of one or more modules with mutmut (>= 3.8), outside the normal test run (it takes tens of
# minutes per module on 2 cores).
#
#   scripts/mutation.sh src/depotsite/instance.py tests/test_instance.py tests/test_model.py ...
#   scripts/mutation.sh "src/depotsite/input_checks.py src/depotsite/tables.py" tests/test_inputs.py
#
# The first argument is the module to mutate (several, separated by spaces, in one quoted argument), the rest
# the test files that should kill its mutants. It works in a temporary copy of the tracked files (mutmut writes
# a mutants/ folder next to the code), runs every mutant against the tests of those files that exercise the
# mutated function and prints the count per outcome and the surviving mutants; `mutmut show NAME` in the
# printed folder shows a mutant's diff.
#
# Environment:
#   MUTATION_CHILDREN   mutants run at a time (default 1)
#   MUTATION_MARKERS    the pytest -m expression (default "not slow": the hand-solved and unit tests; "" runs all)
#   MUTATION_NICE       the nice level of the whole run (default 19: it never slows anything else down)
#   MUTATION_KEEP       where the temporary copy goes (default a new folder under $TMPDIR)
#
# Needs the mutation extra: pip install ".[mutation]".
set -euo pipefail
modules=${1:?usage: scripts/mutation.sh MODULE TEST_FILE...}
shift
[ $# -gt 0 ] || { echo "name the test files that should kill the mutants" >&2; exit 2; }
command -v mutmut >/dev/null || { echo "mutmut is not installed: pip install '.[mutation]'" >&2; exit 2; }
root=$(cd "$(dirname "$0")/.." && pwd)
for path in $modules "$@"; do
    [ -f "$root/$path" ] || { echo "no such file: $path (give paths from the repository root)" >&2; exit 2; }
done
work=${MUTATION_KEEP:-$(mktemp -d "${TMPDIR:-/tmp}/depotsite-mutation.XXXXXX")}
mkdir -p "$work"
git -C "$root" ls-files -z | (cd "$root" && xargs -0 cp --parents -t "$work")
cd "$work"
toml_list() { local out="" item; for item in "$@"; do out+="\"$item\", "; done; printf '%s' "${out%, }"; }
# shellcheck disable=SC2086  # the modules are split on purpose
only=$(toml_list $modules)
tests=$(toml_list "$@")
markers=${MUTATION_MARKERS-not slow}
marker_args=""
[ -n "$markers" ] && marker_args="\"-m\", \"$markers\", "
cat >> pyproject.toml <<TOML

[tool.mutmut]
source_paths = ["src/depotsite"]
only_mutate = [$only]
also_copy = ["data", "models", "benchmarks", "scripts", "docs", "README.md"]
pytest_add_cli_args_test_selection = [$tests]
pytest_add_cli_args = [${marker_args}"-p", "no:cacheprovider", "-q", "-x", "-o", "addopts="]
# the copy is not a git repository
use_git_change_detection = false
# each mutant forks from a server that has run no test: a child forked from a process whose HiGHS solves
# left threads behind can hang, and would be counted as a timeout
process_isolation = "forkserver"
TOML
export DEPOTSITE_CACHE="$work/cache"
# The tests' subprocesses (the CLI run as a program) must import the mutated copy, not an installed checkout
# or the caller's PYTHONPATH. The folder must exist before Python starts: a path that is missing at start-up
# is remembered as empty, and every import would then fall through to the installed, unmutated code.
export PYTHONPATH="$work/mutants/src"
mkdir -p "$PYTHONPATH"
start=$(date +%s)
nice -n "${MUTATION_NICE:-19}" mutmut run --max-children "${MUTATION_CHILDREN:-1}" >mutmut.log 2>&1 \
    || { tail -30 mutmut.log; exit 1; }
minutes=$(( ($(date +%s) - start + 59) / 60 ))
mutmut results --all true >results.txt 2>&1
echo "$modules against $*: ${minutes} min, in $work"
sed -n 's/^ *[^ ]*: //p' results.txt | sort | uniq -c
grep -v ': killed$' results.txt || true
