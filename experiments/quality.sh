#!/usr/bin/env bash
# The recipe of docs/quality.md, step by step, through nerd's CLI. Resumable: a step whose output is
# there is skipped, and nerd train --resume / nerd label continue a stopped step.
#
#   experiments/quality.sh [STEP...]
#       steps: import baseline teacher pools label student recipe gold fill filled export all
#
# Environment: NERD (the nerd command, default .venv/bin/nerd), SHARED (../shared/data), OUT
# (out/quality), MPNET (the teacher's encoder: a local all-mpnet-base-v2 directory, see
# ../shared/data/README.md; needed by the teacher step only), SEEDS (1,2,3).
set -euo pipefail
cd "$(dirname "$0")/.."
NERD=${NERD:-.venv/bin/nerd}
PYTHON=${PYTHON:-.venv/bin/python}
SHARED=${SHARED:-../shared/data}
OUT=${OUT:-out/quality}
MPNET=${MPNET:-}
SEEDS=${SEEDS:-1,2,3}
DEV=$SHARED/conll2003/valid.txt
GOLD=$SHARED/paper-split/gold_1000.conll
mkdir -p "$OUT"

# The student's settings (MiniLM-L6, 2 CPU cores), the same in every row of the ablation: the last
# epoch is the model (no choice made on dev, which is what the table reports).
STUDENT=(--preset cpu --batch-size 16 --dropout 0.1 --epoch-selection last)

step_import() {
    [ -f "$OUT/imported/data.jsonl" ] || "$NERD" import "$SHARED/teacher-bundle" --out "$OUT/imported"
}

step_baseline() {  # the paper's simple mix: the LLM bundle, then the 1,000 gold sentences
    for seed in ${SEEDS//,/ }; do
        "$NERD" train --distilled "$OUT/imported/data.jsonl" --original "$GOLD" --dev "$DEV" \
            --schedule simple-mix "${STUDENT[@]}" --seeds "$seed" --out "$OUT/baseline/seed-$seed" --resume
    done
}

need_mpnet() {
    if [ -z "$MPNET" ] || [ ! -f "$MPNET/config.json" ]; then
        echo "MPNET=${MPNET:-(unset)}: set MPNET to a local all-mpnet-base-v2 directory (config.json," \
            "tokenizer.json, model.safetensors); ../shared/data/README.md says how to get one offline" >&2
        exit 2
    fi
}

step_teacher() {  # a larger intermediate teacher trained the same way
    need_mpnet
    "$NERD" train --distilled "$OUT/imported/data.jsonl" --original "$GOLD" --dev "$DEV" \
        --schedule simple-mix --base-model "$MPNET" --preset cpu --precision fp32 --lr 5e-5 \
        --batch-size 16 --dropout 0.1 --epochs 10 --seeds 1 --out "$OUT/mpnet-teacher" --resume
}

step_pools() {  # unlabelled text: CoNLL train outside the gold sample and the bundle (tags unused), BBC
    [ -f "$OUT/pool-conll.conll" ] || "$PYTHON" -m nerd.experiments.probe_split "$SHARED/conll2003/train.txt" \
        --exclude "$GOLD" --exclude-ids "$SHARED/teacher-bundle/conll/sentence_ids.txt" --size 100000 \
        --out "$OUT/pool-conll.conll"
    [ -f "$OUT/pool-bbc.txt" ] || "$PYTHON" -m nerd.experiments.text_pool "$SHARED/bbc/bbc_fulltext.jsonl" \
        --articles 120 --out "$OUT/pool-bbc.txt"
}

step_label() {
    local teacher
    teacher=$(dirname "$(ls "$OUT"/mpnet-teacher/training_card.json "$OUT"/mpnet-teacher/seed-1/training_card.json 2>/dev/null | head -1)")
    [ -f "$OUT/soft-conll/data.jsonl" ] || "$NERD" label "$OUT/pool-conll.conll" --model "$teacher" --out "$OUT/soft-conll"
    [ -f "$OUT/soft-bbc/data.jsonl" ] || "$NERD" label "$OUT/pool-bbc.txt" --format articles --model "$teacher" \
        --out "$OUT/soft-bbc"
}

step_student() {  # MiniLM on the teacher's soft labels, then the gold sentences
    # A variant is another row: STUDENT_ROW=student-t2 STUDENT_OPTIONS="--soft-temperature 2".
    local row=${STUDENT_ROW:-student}
    for seed in ${SEEDS//,/ }; do
        # shellcheck disable=SC2086  # the options are words to split
        "$NERD" train --soft "$OUT/soft-conll/data.jsonl" --soft "$OUT/soft-bbc/data.jsonl" \
            --original "$GOLD" --dev "$DEV" --schedule simple-mix "${STUDENT[@]}" --epochs 8 \
            ${STUDENT_OPTIONS:-} --seeds "$seed" --out "$OUT/$row/seed-$seed" --resume
    done
}

step_recipe() {  # the recipe's student (docs/quality.md): longer, a decaying rate, embeddings trained
    STUDENT_ROW=student-long STUDENT_OPTIONS="--epochs 10 --lr-decay 0.8 --train-embeddings" step_student
}

step_gold() {  # MiniLM on the 1,000 gold sentences alone: the model that fills the teacher's gaps
    "$NERD" train --original "$GOLD" --dev "$DEV" --schedule original "${STUDENT[@]}" --seeds 1 \
        --out "$OUT/gold-student" --resume
}

step_fill() {  # the bundle's O words filled with the gold student's confident entities (teacher wins)
    [ -f "$OUT/filled/data.jsonl" ] || "$PYTHON" -m nerd.experiments.fill_gaps "$OUT/imported/data.jsonl" \
        --model "$OUT/gold-student" --min-confidence 0.9 --out "$OUT/filled"
}

step_filled() {  # the paper's simple mix on the filled bundle
    for seed in ${SEEDS//,/ }; do
        "$NERD" train --distilled "$OUT/filled/data.jsonl" --original "$GOLD" --dev "$DEV" \
            --schedule simple-mix "${STUDENT[@]}" --seeds "$seed" --out "$OUT/baseline-filled/seed-$seed" --resume
    done
}

step_export() {  # int8 bundles of each finished seed, verified on dev, scored as nerd serve runs them
    for run in "$OUT"/student*/seed-* "$OUT"/baseline*/seed-*; do
        grep -q '"status": "complete"' "$run/training_card.json" 2>/dev/null || continue
        name="$(basename "$(dirname "$run")")-$(basename "$run")"
        if [ ! -d "$run/onnx-int8" ] && ! "$NERD" export "$run" --variants int8 --verify-on "$DEV" --name "$name"; then
            echo "int8 export of $run refused by its verification gate"
            continue
        fi
        [ -f "$run/evaluate-fp32.json" ] || "$NERD" evaluate "$run" "$DEV" --json "$run/evaluate-fp32.json"
        [ -f "$run/evaluate-int8.json" ] || "$NERD" evaluate "$run/onnx-int8" "$DEV" --json "$run/evaluate-int8.json"
        [ -f "$run/evaluate-argmax.json" ] || "$NERD" evaluate "$run/onnx-int8" "$DEV" --decoding argmax \
            --json "$run/evaluate-argmax.json"
    done
}

steps=("$@")
[ ${#steps[@]} -gt 0 ] && [ "${steps[0]}" != all ] || steps=(import baseline teacher pools label student recipe gold fill filled export)
for step in "${steps[@]}"; do
    echo "== $step ($(date -u +%H:%M:%S), load $(cut -d' ' -f1-3 /proc/loadavg))"
    "step_$step"
done
