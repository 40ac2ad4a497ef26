r"""GRPO with TRL on a resyn dataset, rewards from resyn (a short example).

    resyn dataset build recipes/verl/dataset.toml --out data/resyn-400x40
    pip install . trl datasets
    accelerate launch recipes/trl/grpo_resyn.py --data data/resyn-400x40 \
        --model Qwen/Qwen2.5-7B-Instruct

The JSONL rows hold ``prompt`` (a chat message list: TRL's conversational format) and ``label``
(the ground-truth string). TRL passes ``label`` to reward functions as a keyword list; the
resyn reward function reads it and scores each completion on all cores.
"""

import argparse

import resyn


def main() -> None:
    from datasets import load_dataset
    from trl import GRPOConfig, GRPOTrainer

    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", required=True, help="directory written by `resyn dataset build`")
    p.add_argument("--model", default="Qwen/Qwen2.5-7B-Instruct")
    p.add_argument("--output-dir", default="checkpoints/trl-grpo-resyn")
    p.add_argument("--format-weight", type=float, default=0.1)
    p.add_argument("--max-steps", type=int, default=400)
    args = p.parse_args()

    data = load_dataset(
        "json",
        data_files={"train": f"{args.data}/train.jsonl",
                    "validation": f"{args.data}/validation.jsonl"},
    )
    config = GRPOConfig(
        output_dir=args.output_dir,
        max_steps=args.max_steps,
        learning_rate=1e-6,
        warmup_steps=10,
        weight_decay=0.1,
        max_grad_norm=1.0,
        per_device_train_batch_size=16,
        gradient_accumulation_steps=8,
        num_generations=16,
        max_completion_length=8192,
        temperature=1.0,
        beta=0.0,  # no KL term, as in DAPO
        epsilon=0.2,
        epsilon_high=0.28,  # DAPO clip-higher
        loss_type="dapo",  # token-level loss
        mask_truncated_completions=True,
        bf16=True,
        gradient_checkpointing=True,
        use_vllm=True,
        logging_steps=1,
        save_steps=50,
        report_to="wandb",
    )
    trainer = GRPOTrainer(
        model=args.model,
        reward_funcs=[resyn.make_trl_reward(format_weight=args.format_weight, label_key="label")],
        args=config,
        train_dataset=data["train"],
        eval_dataset=data["validation"],
    )
    trainer.train()


if __name__ == "__main__":
    main()
