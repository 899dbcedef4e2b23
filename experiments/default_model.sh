#!/usr/bin/env bash
# How the default model is made (models/README.md) and the ablation of docs/quality.md measured:
# MiniLM-L6 on all of CoNLL-2003 train, with word shapes (the capitals the uncased tokenizer drops),
# optionally taught first by an MPNet teacher trained on the same data; every seed exported to int8
# and scored as nerd serve runs it on CoNLL dev, on its lower- and upper-cased copies, as raw text, and
# on the Broad Twitter Corpus (section G, out of domain: never trained on). Resumable.
#
#   experiments/default_model.sh [STEP...]
#       steps: plain shapes shapes_03 teacher label distilled export table all (all: shapes teacher
#       label distilled export table)
#
#   plain      the model before word shapes (the old default's recipe), a baseline row
#   shapes     the same with --word-shapes --case-dropout 0.5 (the shipped model's recipe)
#   shapes_03  the same with --case-dropout 0.3
#   teacher    all-mpnet-base-v2 on all of CoNLL train (needs MPNET)
#   label      the teacher's soft labels of CoNLL train and of BBC articles
#   distilled  MiniLM with word shapes: the soft labels first, then CoNLL train's gold tags
#   export     int8 bundles of every finished seed, verified on dev, then scored
#   table      docs/quality.md's table of the rows (mean ± std over seeds)
#
# Environment: NERD (default .venv/bin/nerd), PYTHON (.venv/bin/python), SHARED (../shared/data),
# OUT (out/default), SEEDS (1,2,3), MPNET (a local all-mpnet-base-v2 directory, see
# ../shared/data/README.md; the teacher step only), TEACHER_EPOCHS (2), TEACHERS (the label step's
# models, default the MPNet teacher), NAME (the bundles' name, en-conll-minilm-int8).
set -euo pipefail
cd "$(dirname "$0")/.."
NERD=${NERD:-.venv/bin/nerd}
PYTHON=${PYTHON:-.venv/bin/python}
SHARED=${SHARED:-../shared/data}
OUT=${OUT:-out/default}
SEEDS=${SEEDS:-1,2,3}
MPNET=${MPNET:-}
DEV=$SHARED/conll2003/valid.txt
TRAIN=$SHARED/conll2003/train.txt
BTC=$SHARED/btc/g.conll
mkdir -p "$OUT"

# The recipe of the model before word shapes: 14,041 sentences are enough to train the word embeddings
# too (the cpu preset freezes them for 1,000); the rate decays so that the last epochs settle.
STUDENT=(--preset cpu --batch-size 16 --dropout 0.1 --lr-decay 0.75 --train-embeddings)
# Half the windows shown lower-cased each epoch: the model learns what capitals add without falling
# below the uncased model on text that has none (with 0.3, one seed lost 0.75 points on lower-cased dev).
SHAPES=(--word-shapes --case-dropout 0.5)

student() {  # ROW, then nerd train options for every seed of that row
    local row=$1
    shift
    for seed in ${SEEDS//,/ }; do
        "$NERD" train "$@" --dev "$DEV" "${STUDENT[@]}" --seeds "$seed" --out "$OUT/$row/seed-$seed" --resume
    done
}

step_plain() {
    student plain --original "$TRAIN" --schedule original --epochs 6
}

step_shapes() {
    student shapes --original "$TRAIN" --schedule original --epochs 6 "${SHAPES[@]}"
}

step_shapes_03() {  # the ablation's other row: less of the windows lower-cased
    student shapes-0.3-caps --original "$TRAIN" --schedule original --epochs 6 --word-shapes --case-dropout 0.3
}

step_teacher() {  # MPNet (110M) on the same gold data; bf16 on CPUs that have it (the cpu preset). No word
    # shapes: MPNet has no token-type embeddings to carry them. Two epochs: 13-31 min each on 2 cores
    # (AVX-512 bf16 EPYC alone; another machine with a test suite beside it).
    if [ -z "$MPNET" ] || [ ! -f "$MPNET/config.json" ]; then
        echo "MPNET=${MPNET:-(unset)}: set MPNET to a local all-mpnet-base-v2 directory (config.json," \
            "tokenizer.json, model.safetensors); ../shared/data/README.md says how to get one offline" >&2
        exit 2
    fi
    "$NERD" train --original "$TRAIN" --dev "$DEV" --schedule original --base-model "$MPNET" --preset cpu \
        --lr 5e-5 --lr-decay 0.75 --batch-size 16 --dropout 0.1 --train-embeddings \
        --epochs "${TEACHER_EPOCHS:-2}" --seeds 1 \
        --out "$OUT/teacher" --resume
}

step_label() {  # the teacher's per-word distributions: CoNLL train itself and unlabelled BBC articles.
    # TEACHERS: the models that label (their distributions averaged), by default the MPNet teacher alone:
    # on dev it scored 0.9414, and averaged with the shipped word-shape model 0.9390 (docs/quality.md).
    local teachers=() model
    for model in ${TEACHERS:-$OUT/teacher}; do teachers+=(--model "$model"); done
    [ -f "$OUT/soft-conll/data.jsonl" ] || "$NERD" label "$TRAIN" "${teachers[@]}" --out "$OUT/soft-conll"
    [ -f "$OUT/pool-bbc.txt" ] || "$PYTHON" -m nerd.experiments.text_pool "$SHARED/bbc/bbc_fulltext.jsonl" \
        --articles 120 --out "$OUT/pool-bbc.txt"
    [ -f "$OUT/soft-bbc/data.jsonl" ] || "$NERD" label "$OUT/pool-bbc.txt" --format articles \
        "${teachers[@]}" --out "$OUT/soft-bbc"
}

step_distilled() {  # 3 epochs on the teacher's labels, then 3 on the gold tags (simple mix)
    student distilled --soft "$OUT/soft-conll/data.jsonl" --soft "$OUT/soft-bbc/data.jsonl" \
        --original "$TRAIN" --schedule simple-mix --epochs 6 --word-shapes --case-dropout 0.3
}

step_export() {  # int8 (activation scales fixed on train sentences), verified on dev (the gate: at most
    # 0.5 F1 points below PyTorch), then scored every way the table reports
    echo '{"MISC": "O"}' > "$OUT/btc-label-map.json"
    for run in "$OUT"/*/seed-*; do
        grep -q '"status": "complete"' "$run/training_card.json" 2>/dev/null || continue
        [ -d "$run/onnx-int8" ] || "$NERD" export "$run" --variants int8 --verify-on "$DEV" \
            --calibrate-on "$TRAIN" --name "${NAME:-en-conll-minilm-int8}"
        local bundle=$run/onnx-int8
        [ -f "$run/evaluate-int8.json" ] || "$NERD" evaluate "$bundle" "$DEV" --raw-text --json "$run/evaluate-int8.json"
        [ -f "$run/evaluate-lower.json" ] || "$NERD" evaluate "$bundle" "$DEV" --recase lower --json "$run/evaluate-lower.json"
        [ -f "$run/evaluate-upper.json" ] || "$NERD" evaluate "$bundle" "$DEV" --recase upper --json "$run/evaluate-upper.json"
        [ -f "$run/evaluate-btc.json" ] || "$NERD" evaluate "$bundle" "$BTC" --label-map "$OUT/btc-label-map.json" \
            --raw-text --json "$run/evaluate-btc.json"
    done
}

step_table() {
    "$PYTHON" -m nerd.experiments.default_model_table "$OUT"
}

steps=("$@")
[ ${#steps[@]} -gt 0 ] && [ "${steps[0]}" != all ] || steps=(shapes teacher label distilled export table)
for step in "${steps[@]}"; do
    echo "== $step ($(date -u +%H:%M:%S), load $(cut -d' ' -f1-3 /proc/loadavg))"
    "step_$step"
done
