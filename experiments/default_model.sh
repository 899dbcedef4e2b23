#!/usr/bin/env bash
# How models/en-conll-minilm-int8 is made (models/README.md): MiniLM-L6 on all of CoNLL-2003 train,
# three seeds, each exported to int8 and scored on dev as nerd serve runs it. Resumable.
#
#   experiments/default_model.sh [train|export|all]
#
# Environment: NERD (default .venv/bin/nerd), SHARED (../shared/data), OUT (out/default), SEEDS (1,2,3),
# NAME (the bundles' name, default en-conll-minilm-int8).
set -euo pipefail
cd "$(dirname "$0")/.."
NERD=${NERD:-.venv/bin/nerd}
SHARED=${SHARED:-../shared/data}
OUT=${OUT:-out/default}
SEEDS=${SEEDS:-1,2,3}
DEV=$SHARED/conll2003/valid.txt
mkdir -p "$OUT"

step_train() {
    # 14,041 sentences are enough to train the word embeddings too (the cpu preset freezes them for
    # 1,000); the rate decays so that the last epochs settle (1e-4 to 2.4e-5 over 6 epochs).
    for seed in ${SEEDS//,/ }; do
        "$NERD" train --original "$SHARED/conll2003/train.txt" --dev "$DEV" --schedule original \
            --preset cpu --batch-size 16 --dropout 0.1 --epochs 6 --lr-decay 0.75 --train-embeddings \
            --seeds "$seed" --out "$OUT/full/seed-$seed" --resume
    done
}

step_export() {  # int8 (activation scales fixed on train sentences), verified on dev (the gate: at
    # most 0.5 F1 points below PyTorch), then scored
    for run in "$OUT"/full/seed-*; do
        grep -q '"status": "complete"' "$run/training_card.json" 2>/dev/null || continue
        [ -d "$run/onnx-int8" ] || "$NERD" export "$run" --variants int8 --verify-on "$DEV" \
            --calibrate-on "$SHARED/conll2003/train.txt" --name "${NAME:-en-conll-minilm-int8}"
        [ -f "$run/evaluate-fp32.json" ] || "$NERD" evaluate "$run" "$DEV" --json "$run/evaluate-fp32.json"
        [ -f "$run/evaluate-int8.json" ] || "$NERD" evaluate "$run/onnx-int8" "$DEV" --json "$run/evaluate-int8.json"
    done
}

steps=("$@")
[ ${#steps[@]} -gt 0 ] && [ "${steps[0]}" != all ] || steps=(train export)
for step in "${steps[@]}"; do
    echo "== $step ($(date -u +%H:%M:%S), load $(cut -d' ' -f1-3 /proc/loadavg))"
    "step_$step"
done
