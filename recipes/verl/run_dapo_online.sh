#!/usr/bin/env bash
# The DAPO recipe (run_dapo_qwen2.5_7b.sh, same model and settings) on online instances that
# follow resyn's adaptive curriculum: every training prompt is a fresh instance drawn by
# resyn.verl.CurriculumDataset from recipes/verl/online.toml, and each step's verifier rewards
# move each environment's difficulty (docs/curriculum.md). Validation stays on the built
# dataset's validation split. tests/trainers/test_verl_curriculum.py composes these overrides
# against verl 0.9.1's config files and runs the dataset through verl's own trainer classes.
#
# verl 0.9.1 reports a step's rewards to the dataset (on_batch_end) only in its legacy trainer
# (trainer.use_v1=False), which has no dynamic sampling (algorithm.filter_groups): the
# curriculum keeps groups informative instead.
#
# Prerequisites: as run_dapo_qwen2.5_7b.sh (its dataset provides the validation split).
# Usage: DATA_DIR=data/resyn-400x40 bash recipes/verl/run_dapo_online.sh [extra hydra overrides]
set -euo pipefail

RECIPE_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export EXP_NAME=${EXP_NAME:-dapo-qwen2.5-7b-instruct-online}
export CKPT_DIR=${CKPT_DIR:-checkpoints/${PROJECT:-resyn}/${EXP_NAME}}

exec bash "${RECIPE_DIR}/run_dapo_qwen2.5_7b.sh" \
    data.train_files="${RECIPE_DIR}/online.toml" \
    data.custom_cls.path=pkg://resyn.verl \
    data.custom_cls.name=CurriculumDataset \
    data.train_max_samples=$((400 * 128)) \
    data.dataloader_num_workers=0 \
    +data.resyn_decision_log="${CKPT_DIR}/curriculum_decisions.jsonl" \
    trainer.use_v1=False \
    algorithm.filter_groups.enable=False \
    "$@"
