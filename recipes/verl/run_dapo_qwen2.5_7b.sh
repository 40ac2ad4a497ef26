#!/usr/bin/env bash
# Train Qwen2.5-7B-Instruct with DAPO on a resyn dataset, rewards from resyn.
# Written for verl 0.9.1 (`verl.trainer.main_ppo`, reward settings under
# `reward.*`); tests/trainers/test_verl.py composes these overrides against
# verl 0.9.1's own config files. See docs/trainers.md for the contract matched
# and why each value was chosen.
#
# Prerequisites (on every node): verl 0.9.1 + vLLM installed, `pip install .` of
# this repository (the `resyn` package), and a dataset:
#   resyn dataset build recipes/verl/dataset.toml --out "$DATA_DIR"
# Python environments (RESYN_ENV_DIRS), a synthesis store (RESYN_STORE) and the
# sandbox pool size (RESYN_SANDBOX_WORKERS) set in this shell are passed to every
# Ray worker.
#
# Usage: DATA_DIR=data/resyn-400x40 bash recipes/verl/run_dapo_qwen2.5_7b.sh [extra hydra overrides]
set -xeuo pipefail

RECIPE_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
DATA_DIR=${DATA_DIR:-data/resyn-400x40}
MODEL_PATH=${MODEL_PATH:-Qwen/Qwen2.5-7B-Instruct}
NNODES=${NNODES:-1}
NGPUS_PER_NODE=${NGPUS_PER_NODE:-8}
PROJECT=${PROJECT:-resyn}
EXP_NAME=${EXP_NAME:-dapo-qwen2.5-7b-instruct-$(basename "$DATA_DIR")}
CKPT_DIR=${CKPT_DIR:-checkpoints/${PROJECT}/${EXP_NAME}}
FORMAT_WEIGHT=${FORMAT_WEIGHT:-0.1}

# Steps: the published run trained 400 steps on ~16K instances.
total_steps=400
train_prompt_bsz=128      # 128 prompts x 16 samples = 2048 rollouts/step; 400 steps ~ 3.4 epochs of 15.2K
n_resp_per_prompt=16
train_prompt_mini_bsz=32  # 4 policy updates per step

# DAPO: clip-higher, token-level loss, no KL, overlong reward shaping, dynamic
# sampling (groups whose samples are all correct or all wrong are replaced; `acc`
# comes from resyn's return_dict).
clip_ratio_low=0.2
clip_ratio_high=0.28
loss_agg_mode=token-mean
max_prompt_length=2048
max_response_length=8192
overlong_buffer_len=2048
overlong_penalty_factor=1.0

# resyn's settings for the reward workers, which are Ray actors (on any node).
resyn_env=()
for var in RESYN_ENV_DIRS RESYN_STORE RESYN_ALLOW_WEAK_SANDBOX RESYN_SANDBOX_WORKERS; do
    if [ -n "${!var:-}" ]; then
        resyn_env+=("+ray_kwargs.ray_init.runtime_env.env_vars.${var}='${!var}'")
    fi
done

python3 -m verl.trainer.main_ppo \
    algorithm.adv_estimator=grpo \
    algorithm.use_kl_in_reward=False \
    algorithm.kl_ctrl.kl_coef=0.0 \
    algorithm.filter_groups.enable=True \
    algorithm.filter_groups.metric=acc \
    data.train_files="${DATA_DIR}/train.parquet" \
    data.val_files="${DATA_DIR}/validation.parquet" \
    data.prompt_key=prompt \
    data.reward_fn_key=data_source \
    data.max_prompt_length=${max_prompt_length} \
    data.max_response_length=${max_response_length} \
    data.filter_overlong_prompts=True \
    data.truncation=error \
    data.train_batch_size=${train_prompt_bsz} \
    actor_rollout_ref.model.path="${MODEL_PATH}" \
    actor_rollout_ref.model.use_remove_padding=True \
    actor_rollout_ref.model.enable_gradient_checkpointing=True \
    actor_rollout_ref.actor.optim.lr=1e-6 \
    actor_rollout_ref.actor.optim.lr_warmup_steps=10 \
    actor_rollout_ref.actor.optim.weight_decay=0.1 \
    actor_rollout_ref.actor.ppo_mini_batch_size=${train_prompt_mini_bsz} \
    actor_rollout_ref.actor.use_dynamic_bsz=True \
    actor_rollout_ref.actor.ppo_max_token_len_per_gpu=$(((max_prompt_length + max_response_length) * 2)) \
    actor_rollout_ref.actor.use_kl_loss=False \
    actor_rollout_ref.actor.kl_loss_coef=0.0 \
    actor_rollout_ref.actor.entropy_coeff=0 \
    actor_rollout_ref.actor.clip_ratio_low=${clip_ratio_low} \
    actor_rollout_ref.actor.clip_ratio_high=${clip_ratio_high} \
    actor_rollout_ref.actor.clip_ratio_c=10.0 \
    actor_rollout_ref.actor.loss_agg_mode=${loss_agg_mode} \
    actor_rollout_ref.actor.grad_clip=1.0 \
    actor_rollout_ref.actor.fsdp_config.param_offload=False \
    actor_rollout_ref.actor.fsdp_config.optimizer_offload=False \
    actor_rollout_ref.ref.log_prob_use_dynamic_bsz=True \
    actor_rollout_ref.ref.log_prob_max_token_len_per_gpu=$(((max_prompt_length + max_response_length) * 3)) \
    actor_rollout_ref.rollout.name=vllm \
    actor_rollout_ref.rollout.n=${n_resp_per_prompt} \
    actor_rollout_ref.rollout.tensor_model_parallel_size=2 \
    actor_rollout_ref.rollout.gpu_memory_utilization=0.7 \
    actor_rollout_ref.rollout.log_prob_use_dynamic_bsz=True \
    actor_rollout_ref.rollout.log_prob_max_token_len_per_gpu=$(((max_prompt_length + max_response_length) * 3)) \
    actor_rollout_ref.rollout.max_num_batched_tokens=$((max_prompt_length + max_response_length)) \
    actor_rollout_ref.rollout.enable_chunked_prefill=True \
    actor_rollout_ref.rollout.temperature=1.0 \
    actor_rollout_ref.rollout.top_p=1.0 \
    actor_rollout_ref.rollout.top_k=-1 \
    actor_rollout_ref.rollout.val_kwargs.do_sample=True \
    actor_rollout_ref.rollout.val_kwargs.temperature=1.0 \
    actor_rollout_ref.rollout.val_kwargs.top_p=0.7 \
    actor_rollout_ref.rollout.val_kwargs.n=4 \
    reward.reward_manager.name=dapo \
    +reward.reward_kwargs.overlong_buffer_cfg.enable=True \
    +reward.reward_kwargs.overlong_buffer_cfg.len=${overlong_buffer_len} \
    +reward.reward_kwargs.overlong_buffer_cfg.penalty_factor=${overlong_penalty_factor} \
    +reward.reward_kwargs.overlong_buffer_cfg.log=True \
    +reward.reward_kwargs.max_resp_len=${max_response_length} \
    reward.custom_reward_function.path="${RECIPE_DIR}/resyn_reward.py" \
    reward.custom_reward_function.name=compute_score \
    +reward.custom_reward_function.reward_kwargs.format_weight=${FORMAT_WEIGHT} \
    +reward.custom_reward_function.reward_kwargs.return_dict=True \
    trainer.logger='["console","wandb"]' \
    trainer.project_name="${PROJECT}" \
    trainer.experiment_name="${EXP_NAME}" \
    trainer.nnodes="${NNODES}" \
    trainer.n_gpus_per_node="${NGPUS_PER_NODE}" \
    trainer.val_before_train=True \
    trainer.test_freq=25 \
    trainer.save_freq=50 \
    trainer.total_epochs=100 \
    trainer.total_training_steps=${total_steps} \
    trainer.default_local_dir="${CKPT_DIR}" \
    trainer.resume_mode=auto \
    "${resyn_env[@]}" \
    "$@"
