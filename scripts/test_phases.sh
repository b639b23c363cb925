#!/usr/bin/env bash
# `make test` (and `scripts/test_phases.sh PHASE...` for some): every phase in turn — unit, Rego, contract, functional, then the functional tests of units of work
# again on the private cloud's kind of store, then the channels in a real browser (skipped, saying why, without Chromium) — each timed, all run even if one fails, and a table of the phases at the
# end (what failed, how long each took). Exit 1 if any phase failed or collected no tests (pytest's 5).
set -u
cd "$(dirname "$0")/.."
PY=.venv/bin/python
ARGS=${PYTEST_ARGS:-}
# The functional tests marked `units_of_work` run again on the Alternator-like store (docs/decisions/0005):
# there the store's lack of transactions changes something. They are, per domain, where units of work of
# several items are committed, raced, redelivered or erased: links, merges and erasures of golden records;
# consent proofs and replays; notifications redelivered; the position's facts in any order; debts flooded;
# record links; refused writes (nothing half-written); the RGPD requests across domains. The protocol has its
# own tests in the functional phase (tests/functional/core/test_emulated_transactions.py); the rest (edges
# decided before any store call, the channels' pages, the walk-throughs, the runtime's processes) runs once.
# A test run in both CloudEvents content modes runs here in binary mode only: the mode is decoded at the HTTP
# edge, before any store call, so the structured copy would repeat the same units of work (2 minutes of CPU).

# Phases run on pytest-xdist workers, one per core up to four (PIC_TEST_WORKERS overrides it; 0 runs in one process).
# Each worker of the functional phases starts its own platform on free ports with its own data directory, so
# they share nothing; `--dist loadfile` keeps a module's tests (and its module-scoped fixtures) on one worker.
# On the 2-core CI this takes the functional phase from about 15 to 9.5 minutes, the contract phase from 2.4 to 1.9.
# The browser phase too: each worker has its own platform and Chromium (a module's journeys stay on one worker).
WORKERS=${PIC_TEST_WORKERS:-$(( $(nproc) < 4 ? $(nproc) : 4 ))}
PAR="-n $WORKERS --dist loadfile"
[ "$WORKERS" = 0 ] && PAR="-p no:xdist"
# pytest-xdist (3.7+) hands out the modules sorted by their number of tests unless told not to. The functional
# conftest orders them longest first (LONGEST_FIRST: the README walk-throughs, minutes on one worker, with 18 tests
# were handed out late and ran alone at the end); keep that order there.
# The functional phases wait on the platform (events through the broker, relays, sweeps) more than they compute: on
# the 2-core CI a third of the CPU stayed idle with one worker per core, so they run one worker more than the cores
# (up to four; PIC_TEST_WORKERS still sets every phase).
FWORKERS=${PIC_TEST_WORKERS:-$(( $(nproc) + 1 < 4 ? $(nproc) + 1 : 4 ))}
FPAR="-n $FWORKERS --dist loadfile --no-loadscope-reorder"
[ "$FWORKERS" = 0 ] && FPAR="-p no:xdist"

declare -a NAMES RESULTS TIMES
failed=0
phase() {  # name, then the command
  local name=$1; shift
  printf '\n\033[1m== %s\033[0m\n' "$name"
  local started=$SECONDS rc
  "$@"; rc=$?
  [ $rc -eq 5 ] && echo "no tests collected" && rc=1
  NAMES+=("$name"); RESULTS+=("$([ $rc -eq 0 ] && echo passed || echo "FAILED ($rc)")"); TIMES+=($((SECONDS - started)))
  [ $rc -eq 0 ] || failed=1
}

total=$SECONDS
for which in ${@:-unit policies contract functional alternator-like browser}; do
  case $which in
    unit) phase "unit" $PY -m pytest -q $PAR $ARGS tests/unit ;;
    policies) phase "policies (Rego)" $PY -m pytest -q $ARGS tests/policies ;;
    contract) phase "contract" $PY -m pytest -q $PAR $ARGS tests/contract ;;
    functional) phase "functional" $PY -m pytest -q $FPAR $ARGS -m "not spark" tests/functional ;;
    alternator-like) phase "functional, Alternator-like store" \
      env PIC_TEST_STORE=alternator-like $PY -m pytest -q $FPAR $ARGS -m units_of_work -k "not structured" tests/functional ;;
    # Not in the default run: minutes of a JVM's fixed costs on 2 cores and a 415 MB PySpark install (ADR 0037)
    spark) phase "spark (Splink on Spark = DuckDB, write-back, segments)" $PY -m pytest -q -p no:xdist $ARGS -m spark tests/functional/spark ;;
    browser) phase "browser (Chromium, axe)" $PY -m pytest -q -rs $PAR $ARGS tests/browser ;;
    *) echo "unknown phase $which (unit, policies, contract, functional, alternator-like, browser, spark)"; exit 2 ;;
  esac
done

printf '\n\033[1m%-40s %-12s %s\033[0m\n' "phase" "result" "time"
for i in "${!NAMES[@]}"; do
  printf '%-40s %-12s %dm%02ds\n' "${NAMES[$i]}" "${RESULTS[$i]}" $((TIMES[$i] / 60)) $((TIMES[$i] % 60))
done
elapsed=$((SECONDS - total))
printf '%-40s %-12s %dm%02ds\n' "all" "$([ $failed -eq 0 ] && echo passed || echo FAILED)" $((elapsed / 60)) $((elapsed % 60))
exit $failed
