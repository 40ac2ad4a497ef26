"""TRL: a real `GRPOTrainer` run (trl 1.16, CPU, SmolLM2-135M) with resyn's reward functions.

One prompt per step, four completions per prompt: two sampled by the model through TRL's own
generation and the environment's reference with and without a `<think>` block (see
`support.reference_completions` for why). Three steps, a checkpoint, then a second trainer
resumes from it for a fourth step. Every reward TRL logged is recomputed independently with
`resyn.verify` on a freshly generated instance.
"""

import json
import math

import pandas as pd
import pytest

import resyn
import support

FORMAT_WEIGHT = 0.1
GENERATIONS = 4


@pytest.fixture(scope="module")
def rows(train_rows, env_ids):
    # The first training row of each environment, in a fixed order: every source gets a step.
    first = {}
    for row in train_rows:
        first.setdefault(row["extra_info"]["env"], row)
    return [first[e] for e in env_ids]


def make_trainer(rows, output_dir, max_steps, save):
    from datasets import Dataset
    from trl import GRPOConfig

    config = GRPOConfig(
        output_dir=str(output_dir),
        max_steps=max_steps,
        per_device_train_batch_size=GENERATIONS,  # one prompt per step
        num_generations=GENERATIONS,
        max_completion_length=24,
        temperature=1.0,
        learning_rate=1e-5,
        beta=0.0,
        epsilon_high=0.28,
        loss_type="dapo",
        reward_weights=[1.0, FORMAT_WEIGHT],
        shuffle_dataset=False,
        logging_steps=1,
        log_completions=True,
        save_strategy="steps" if save else "no",  # a checkpoint is 1.6 GB (weights + Adam)
        save_steps=max_steps,
        report_to="none",
        use_cpu=True,
        seed=0,
        disable_tqdm=True,
    )
    cls = support.grpo_trainer_class(support.reference_completions(rows))
    return cls(
        model=support.load_model(),
        processing_class=support.load_tokenizer(),
        reward_funcs=[
            resyn.make_trl_reward(name="resyn_verifier"),
            resyn.make_trl_reward(verifier_weight=0.0, format_weight=1.0, name="resyn_format"),
        ],
        args=config,
        train_dataset=Dataset.from_list(rows),
    )


@pytest.fixture(scope="module")
def runs(rows, tmp_path_factory):
    out = tmp_path_factory.mktemp("trl")
    first = make_trainer(rows, out, max_steps=len(rows) - 1, save=True)
    first.train()
    second = make_trainer(rows, out, max_steps=len(rows), save=False)
    second.train(resume_from_checkpoint=True)
    return out, first, second


def logged_completions(out, step):
    return pd.read_parquet(out / "completions" / f"completions_{step:05d}.parquet")


def test_rewards_trl_logged_equal_resyn_verify(runs, rows):
    out, _, second = runs
    by_prompt = {support.user_text(r["prompt"]): r for r in rows}
    seen = set()
    for step in range(1, len(rows) + 1):
        table = logged_completions(out, step)
        assert len(table) == GENERATIONS
        for _, logged in table.iterrows():
            row = by_prompt[support.user_text(list(logged["prompt"]))]
            text = "".join(m["content"] for m in logged["completion"])
            info = row["extra_info"]
            instance = resyn.generate(info["env"], info["seed"], info["difficulty"])
            verdict = resyn.verify(instance, text, format_weight=FORMAT_WEIGHT)
            assert logged["resyn_verifier"] == verdict["reward"], (step, text)
            assert logged["resyn_format"] == verdict["format_ok"], (step, text)
            composed = logged["resyn_verifier"] + FORMAT_WEIGHT * logged["resyn_format"]
            assert composed == pytest.approx(verdict["score"])
            assert verdict["score"] == pytest.approx(resyn.compute_score(
                solution_str=text, ground_truth=row["label"], format_weight=FORMAT_WEIGHT))
            seen.add((verdict["reward"], verdict["format_ok"]))
        # The metrics TRL logged for the step are the means of those rewards.
        entry = next(e for e in second.state.log_history if e.get("step") == step and "reward" in e)
        for name in ("resyn_verifier", "resyn_format"):
            assert entry[f"rewards/{name}/mean"] == pytest.approx(table[name].mean())
        assert entry["reward"] == pytest.approx(
            (table["resyn_verifier"] + FORMAT_WEIGHT * table["resyn_format"]).mean())
    # Both parts of the reward appear, each as 1 and as 0.
    assert {(1.0, 1.0), (1.0, 0.0)} <= seen
    assert any(v == 0.0 for v, _ in seen)


def test_every_source_was_trained_on(runs, rows, env_ids):
    out = runs[0]
    envs = []
    for step in range(1, len(rows) + 1):
        prompt = list(logged_completions(out, step)["prompt"][0])
        envs.append(next(r for r in rows if r["prompt"] == prompt)["extra_info"]["env"])
    assert envs == env_ids


def test_run_checkpoints_and_resumes(runs, rows):
    out, first, second = runs
    n = len(rows)
    ckpt = out / f"checkpoint-{n - 1}"
    state = json.loads((ckpt / "trainer_state.json").read_text())
    assert state["global_step"] == n - 1
    assert (ckpt / "optimizer.pt").exists() and (ckpt / "model.safetensors").exists()
    assert first.state.global_step == n - 1
    # The second trainer started from the checkpoint: one more step, the earlier log kept,
    # and Adam's step count continued from the restored optimizer state.
    assert second.state.global_step == n
    steps = [e["step"] for e in second.state.log_history if "reward" in e]
    assert steps == list(range(1, n + 1))
    adam_steps = {int(s["step"]) for s in second.optimizer.state.values() if "step" in s}
    assert adam_steps == {n}
    assert all(math.isfinite(e["loss"]) for e in second.state.log_history if "loss" in e)
