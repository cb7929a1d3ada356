#!/bin/bash
# The campaign, one fuzzer at a time (2 shared cores), nice 10. Usage: run_all.sh SEED
cd "$(dirname "$0")" && . ../../.venv/bin/activate && mkdir -p logs
s=$1
for f in "fuzz_bottomup.py $((s+1)) 500" "fuzz_heatmap.py $((s+2)) 800" "fuzz_simcc_reg.py $((s+3)) 800" \
         "fuzz_lifting.py $((s+4)) 800" "fuzz_misc.py $((s+5)) 600"; do
  nice -n 10 python $f > logs/$(echo $f | tr ' ' '_').log 2>&1
done
