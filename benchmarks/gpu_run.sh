#!/usr/bin/env bash
# What ran on a lent GPU machine (no internet; PyTorch preinstalled there, the kit carried in packed form):
#   bash benchmarks/gpu_run.sh PACKED_KIT_DIR STEP...      steps: env tests tests-gpu test-roundtrip align-me align-pe align-mm size-curve gan-timing gan
# The align-* steps take ALIGN_SEEDS, ALIGN_SECONDS, ALIGN_EXTRA (aligner settings, e.g. "rival_restarts=3") and
# TAG_SUFFIX (appended to the result files' names).
# Results go to $OUT (default /tmp/gpu-out). Each step has its own time limit so one slow step
# cannot eat the others' time. Pack the kit here first, e.g.
#   python benchmarks/kit_subset.py pack .gpu/k1 wiki.minilm:eval,a wiki.e5:eval,b wiki.mpnet:eval,a
set -u
OUT=${OUT:-/tmp/gpu-out}; mkdir -p "$OUT"
REPO=$(cd "$(dirname "$0")/.." && pwd)
export PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 V2V_KIT=/tmp/kit
packed=$1; shift
python3 -m pip install -q --no-deps --no-index --no-build-isolation --upgrade --target /tmp/site "$REPO" || exit 1
export PYTHONPATH=/tmp/site
python3 "$REPO/benchmarks/kit_subset.py" unpack "$REPO/$packed" /tmp/kit 2>&1 | tail -3
for step in "$@"; do
  echo "=== $step $(date +%T)"
  case $step in
    env) nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv
         python3 -c "import torch, numpy; print('torch', torch.__version__, 'cuda', torch.cuda.is_available(), 'numpy', numpy.__version__)";;
    # from /tmp so that the installed package, not the source folders, is imported
    tests) (cd /tmp && timeout 150 python3 -m pytest -q -p no:cacheprovider -m "not server" \
              "$REPO/tests/test_gpu.py" "$REPO/tests/test_translator.py" "$REPO/tests/test_align_solver.py" \
              "$REPO/tests/test_synthetic_training.py" 2>&1 | tee "$OUT/pytest.log" | tail -8);;
    # only the tests marked gpu (the CUDA cases), when device time is short
    tests-gpu) (cd /tmp && timeout ${TESTS_SECONDS:-120} python3 -m pytest -q -p no:cacheprovider -m gpu \
              "$REPO/tests/test_gpu.py" "$REPO/tests/test_translator.py" 2>&1 | tee "$OUT/pytest_gpu.log" | tail -8);;
    align-me|align-pe) a=$([ $step = align-me ] && echo minilm || echo mpnet)
              timeout ${ALIGN_SECONDS:-260} python3 "$REPO/benchmarks/alignment.py" --models $a e5 --pairs $a:e5 \
              --seeds ${ALIGN_SEEDS:-0 1 2 3 4 5 6 7 8 9} --no-ood --no-baselines --device cuda --out "$OUT" \
              --tag alignment_gpu_${a}_e5${TAG_SUFFIX:-} ${ALIGN_EXTRA:+--align $ALIGN_EXTRA} \
              2>&1 | grep -E "bench.align|Error|error" ;;
    test-roundtrip) (cd /tmp && timeout 60 python3 -m pytest -q -p no:cacheprovider "$REPO/tests/test_translator.py" 2>&1 | tail -3);;
    align-mm) timeout ${ALIGN_SECONDS:-240} python3 "$REPO/benchmarks/alignment.py" --models minilm mpnet --pairs minilm:mpnet \
              --seeds ${ALIGN_SEEDS:-0 1 2 3 4 5 6 7 8 9} --no-ood --no-baselines --device cuda --out "$OUT" \
              --tag alignment_gpu_minilm_mpnet${TAG_SUFFIX:-} ${ALIGN_EXTRA:+--align $ALIGN_EXTRA} \
              2>&1 | grep -E "bench.align|Error|error" ;;
    # data-size curve of the e5 pairs (needs k1): SIZES vectors per side, SIZE_SEEDS, each pair and size its own file
    size-curve) for n in ${SIZES:-3000 6000 13805}; do for a in minilm mpnet; do
                timeout ${SIZE_SECONDS:-200} python3 "$REPO/benchmarks/alignment.py" --models $a e5 --pairs $a:e5 \
                --seeds ${SIZE_SEEDS:-0 1} --train-size $n --no-ood --no-baselines --device cuda --out "$OUT" \
                --tag alignment_gpu_size_${a}_e5_$n 2>&1 | grep -E "bench.align|Error|error"; done; done ;;
    gan-timing) timeout 100 python3 "$REPO/benchmarks/gan.py" --source minilm --target mpnet --preset paper --steps 1000 \
              --device cuda --out "$OUT" --tag gan_paper_gpu_timing 2>&1 | grep -E "__log__|seed|Error|error" | tail -6 ;;
    gan) timeout ${GAN_SECONDS:-300} python3 "$REPO/benchmarks/gan.py" --source minilm --target mpnet --preset paper \
              --steps ${GAN_STEPS:-10000} --device cuda --out "$OUT" --tag gan_paper_gpu_minilm_mpnet 2>&1 \
              | grep -E "__log__|seed|Error|error" | tail -8 ;;
  esac
done
echo "=== done $(date +%T)"
