"""TRL with online instances: a real `GRPOTrainer` run (trl 1.16, CPU, SmolLM2-135M) that
reads `resyn.trl.online_dataset`, reports every completion's verifier reward to the curriculum
through `resyn.make_trl_reward(curriculum=...)`, and saves the curriculum with its checkpoint
through `resyn.trl.CurriculumCallback`.

Each group holds two completions the model samples and the environment's reference with and
without a `<think>` block (`support.grpo_trainer_class`), so a group's accuracy is 1/2: above
the band this test configures, so every decision moves an environment's difficulty up.
"""

import json

import pandas as pd
import pytest

import resyn
import resyn.trl
import support

GENERATIONS = 4
STEPS = 4
FORMAT_WEIGHT = 0.1


@pytest.fixture(scope="module")
def online_config(workdir, env_ids):
    path = workdir / "online.toml"
    path.write_text(
        "seed = 11\n"
        f"[select]\nids = {json.dumps(env_ids)}\n"
        "[difficulty]\nmax = 3\n"
        # One group per decision, and a band below the groups' accuracy of 1/2.
        f"[curriculum]\nmin_samples = {GENERATIONS}\ngroup_size = {GENERATIONS}\n"
        "target_low = 0.2\ntarget_high = 0.4\n"
    )
    return path


def grpo_config(output_dir, **kw):
    from trl import GRPOConfig

    return GRPOConfig(
        output_dir=str(output_dir),
        max_steps=STEPS,
        per_device_train_batch_size=GENERATIONS,  # one prompt per step
        num_generations=GENERATIONS,
        max_completion_length=24,
        learning_rate=1e-5,
        beta=0.0,
        loss_type="dapo",
        reward_weights=[1.0, FORMAT_WEIGHT],
        shuffle_dataset=False,
        ignore_data_skip=True,
        logging_steps=1,
        log_completions=True,
        save_strategy="steps",
        save_steps=STEPS,
        save_only_model=True,  # the curriculum state is what this test reads back
        report_to="none",
        use_cpu=True,
        seed=0,
        disable_tqdm=True,
        **kw,
    )


@pytest.fixture(scope="module")
def run(online_config, tmp_path_factory):
    out = tmp_path_factory.mktemp("trl-online")
    curriculum = resyn.Curriculum(online_config)
    trained = []  # the rows the trainer generated for, in order

    class Trainer(support.grpo_trainer_class({})):
        def _generate_and_score_completions(self, inputs):
            trained.extend(inputs[::GENERATIONS])
            return super()._generate_and_score_completions(inputs)

    trainer = Trainer(
        model=support.load_model(),
        processing_class=support.load_tokenizer(),
        reward_funcs=[
            resyn.make_trl_reward(curriculum=curriculum, name="resyn_verifier"),
            resyn.make_trl_reward(verifier_weight=0.0, format_weight=1.0, name="resyn_format"),
        ],
        args=grpo_config(out),
        train_dataset=resyn.trl.online_dataset(curriculum),
        callbacks=[resyn.trl.CurriculumCallback(curriculum)],
    )
    trainer.train()
    # The decisions of the run (taken once, here: taking them changes the state).
    decisions = curriculum.take_decisions()
    return out, curriculum, trainer, trained, decisions


def logged_completions(out, step):
    return pd.read_parquet(out / "completions" / f"completions_{step:05d}.parquet")


def test_the_trainer_trains_on_fresh_online_rows(run):
    out, _, _, trained, _ = run
    assert len(trained) == STEPS
    assert all(r["extra_info"]["split"] == "online" for r in trained)
    assert len({r["extra_info"]["instance_id"] for r in trained}) == STEPS
    # What TRL logged for each step is the online row's prompt, scored by its label.
    for step, row in enumerate(trained, start=1):
        table = logged_completions(out, step)
        assert len(table) == GENERATIONS
        info = row["extra_info"]
        instance = resyn.generate(info["env"], info["seed"], info["difficulty"])
        assert instance["id"] == info["instance_id"]
        for _, logged in table.iterrows():
            assert list(logged["prompt"]) == row["prompt"]
            text = "".join(m["content"] for m in logged["completion"])
            assert logged["resyn_verifier"] == resyn.verify(instance, text)["reward"]
        # The group ends with the two references.
        assert list(table["resyn_verifier"])[-2:] == [1.0, 1.0]


def test_rewards_reached_the_controller(run):
    out, curriculum, trainer, trained, decisions = run
    envs = curriculum.snapshot()
    stats = [e["stats"] for e in envs]
    # Every completion's verifier reward was reported once, in groups of GENERATIONS.
    logged = pd.concat([logged_completions(out, s) for s in range(1, STEPS + 1)])
    assert sum(s["outcomes"] for s in stats) == len(logged) == STEPS * GENERATIONS
    assert sum(s["reward_sum"] for s in stats) == logged["resyn_verifier"].sum()
    assert sum(s["groups"] for s in stats) == STEPS
    # A group decides its environment unless it was drawn before that environment's last
    # move (the trainer reads a batch ahead): then its outcomes are stale. Accuracy >= 1/2
    # (the references) is above the band: every decision moves up.
    stale_groups = sum(s["stale"] for s in stats) // GENERATIONS
    assert len(decisions) == STEPS - stale_groups >= 1
    assert {d["action"] for d in decisions} == {"up"}
    assert {d["env"] for d in decisions} <= {r["extra_info"]["env"] for r in trained}
    for e in envs:
        moved = [d for d in decisions if d["env"] == e["env"]]
        if moved:
            assert e["center"] == moved[-1]["to"] > 1.0
    # The curriculum's metrics went into TRL's log of every step (through `log_metric`).
    history = [h for h in trainer.state.log_history if "curriculum/position" in h]
    assert [h["step"] for h in history] == list(range(1, STEPS + 1))
    last = {k: v for k, v in history[-1].items() if k.startswith("curriculum/")}
    assert last == pytest.approx(curriculum.metrics())


def test_checkpoint_holds_the_curriculum_and_resumes_its_stream(run, online_config):
    out, curriculum, _, _, decisions = run
    state = resyn.trl.checkpoint_state(out / f"checkpoint-{STEPS}")
    restored = resyn.Curriculum.load(online_config, state)
    # Saved at the last step, after which the run drew nothing: the live state (whose
    # decisions the fixture has taken since).
    assert restored.take_decisions() == decisions
    assert restored.state() == curriculum.state()
    assert restored.draw(3) == curriculum.draw(3)


def test_callback_refuses_settings_that_would_draw_rows_never_trained_on(online_config, tmp_path):
    from transformers import TrainerControl, TrainerState
    from trl import GRPOConfig

    def args(**kw):
        return GRPOConfig(output_dir=str(tmp_path), use_cpu=True, report_to="none", **kw)

    callback = resyn.trl.CurriculumCallback(resyn.Curriculum(online_config))
    with pytest.raises(ValueError, match="shuffle_dataset=False"):
        callback.on_train_begin(args(shuffle_dataset=True), TrainerState(), TrainerControl())
    resumed = TrainerState(global_step=3)
    with pytest.raises(ValueError, match="ignore_data_skip=True"):
        callback.on_train_begin(args(shuffle_dataset=False), resumed, TrainerControl())
    callback.on_train_begin(args(shuffle_dataset=False, ignore_data_skip=True), resumed,
                            TrainerControl())
