"""verl 0.9.1 with online instances: `resyn.verl.CurriculumDataset` as `data.custom_cls`.

verl's own code does everything but the rollout: hydra composes the config from verl's files,
`RayPPOTrainer` (the trainer that calls `on_batch_end`, `trainer.use_v1=False`) is constructed
and builds its datasets (`create_rl_dataset`), sampler (`create_rl_sampler`) and
`StatefulDataLoader`; its batches become `DataProto`s as in `RayPPOTrainer.fit`, the reward
loop (`RewardLoopManager`, Ray actors) scores responses, and the rewards are merged into the
batch with verl's `extract_reward` before the dataset's `on_batch_end`. Only the responses
are given (each prompt's references and two wrong answers) instead of generated: generation
needs vLLM or SGLang on a GPU. The checkpoint is the dataloader state `_save_checkpoint`
writes to `data.pt` and `_load_checkpoint` restores.
"""

import json
import tomllib
import uuid

import numpy as np
import pytest
import torch

import resyn
import support
import test_verl

ONLINE_RECIPE = support.ROOT / "recipes" / "verl" / "run_dapo_online.sh"
N = 4  # responses per prompt (rollout.n, the curriculum's group_size)
BATCH = 2  # prompts per step
STEPS = 3


@pytest.fixture(scope="module")
def verl_config(workdir, env_ids, dataset, store, tmp_path_factory):
    online = workdir / "verl-online.toml"
    online.write_text(
        "seed = 21\n"
        f"[select]\nids = {json.dumps(env_ids)}\n"
        "[difficulty]\nmax = 3\n"
        f"[curriculum]\nmin_samples = {N}\ngroup_size = {N}\ntarget_low = 0.2\ntarget_high = 0.4\n"
    )
    tokenizer_dir = support.save_tokenizer(tmp_path_factory.mktemp("verl-tokenizer"))
    env = {"RESYN_ENV_DIRS": str(support.PYTHON_ENVS), "RESYN_STORE": str(store)}
    return test_verl.compose([
        f"data.train_files={online}",
        f"data.val_files={dataset / 'validation.parquet'}",
        "data.custom_cls.path=pkg://resyn.verl",
        "data.custom_cls.name=CurriculumDataset",
        f"data.train_max_samples={BATCH * STEPS}",
        f"data.train_batch_size={BATCH}",
        "data.dataloader_num_workers=0",
        "trainer.use_v1=False",
        "trainer.total_epochs=1",
        f"actor_rollout_ref.rollout.n={N}",
        f"actor_rollout_ref.model.path={tokenizer_dir}",
        f"reward.custom_reward_function.path={test_verl.RECIPE.parent / 'resyn_reward.py'}",
        "reward.custom_reward_function.name=compute_score",
        "+reward.custom_reward_function.reward_kwargs.return_dict=True",
        "reward.num_workers=1",
        "reward.reward_manager.name=naive",
    ] + [f"+ray_kwargs.ray_init.runtime_env.env_vars.{k}='{v}'" for k, v in env.items()])


def ppo_trainer(cfg, tokenizer):
    """`RayPPOTrainer` built as `main_ppo_v0.TaskRunner` builds it, without its workers."""
    from verl.single_controller.ray import ResourcePoolManager
    from verl.trainer.ppo.ray_trainer import RayPPOTrainer
    from verl.trainer.ppo.utils import Role, create_rl_dataset, create_rl_sampler
    from verl.utils.dataset.rl_dataset import collate_fn

    train = create_rl_dataset(cfg.data.train_files, cfg.data, tokenizer, None, is_train=True,
                              max_samples=cfg.data.get("train_max_samples", -1))
    val = create_rl_dataset(cfg.data.val_files, cfg.data, tokenizer, None, is_train=False,
                            max_samples=cfg.data.get("val_max_samples", -1))
    return RayPPOTrainer(
        config=cfg, tokenizer=tokenizer, role_worker_mapping={Role.ActorRollout: object},
        resource_pool_manager=ResourcePoolManager(resource_pool_spec={}, mapping={}),
        train_dataset=train, val_dataset=val, collate_fn=collate_fn,
        train_sampler=create_rl_sampler(cfg.data, train))


@pytest.fixture(scope="module")
def ray_cluster(verl_config):
    with support.local_ray(verl_config):
        yield


def step(trainer, batch_dict, cfg, tokenizer):
    """One step of `RayPPOTrainer.fit` on a dataloader batch, up to `on_batch_end`."""
    from verl import DataProto
    from verl.experimental.reward_loop import RewardLoopManager
    from verl.trainer.ppo.reward import extract_reward

    batch = DataProto.from_single_dict(batch_dict)
    batch.non_tensor_batch["uid"] = np.array([str(uuid.uuid4()) for _ in range(len(batch.batch))],
                                             dtype=object)
    batch = batch.repeat(repeat_times=N, interleave=True)
    rows = [{"extra_info": info} for info in batch.non_tensor_batch["extra_info"]]
    texts = [t for r in rows[::N] for t in test_verl.responses_for(r)]
    support.add_responses(batch, texts, tokenizer)
    batch = batch.union(RewardLoopManager(cfg).compute_rm_score(batch))
    reward_tensor, reward_extra_infos = extract_reward(batch)
    batch.batch["token_level_scores"] = reward_tensor
    batch.non_tensor_batch.update({k: np.array(v) for k, v in reward_extra_infos.items()})
    trainer.train_dataset.on_batch_end(batch=batch)
    return batch


def test_verl_builds_an_online_train_set_and_reads_the_validation_set(verl_config, tokenizer,
                                                                         dataset):
    from verl.utils.dataset.rl_dataset import RLHFDataset

    trainer = ppo_trainer(verl_config, tokenizer)
    train, val = trainer.train_dataset, trainer.val_dataset
    assert type(train).__name__ == "CurriculumDataset"
    assert isinstance(train.curriculum, resyn.Curriculum)
    assert len(train) == BATCH * STEPS and trainer.total_training_steps == STEPS
    # The validation parquet is read exactly as RLHFDataset reads it.
    plain = RLHFDataset(data_files=[str(dataset / "validation.parquet")], tokenizer=tokenizer,
                        config=verl_config.data)
    assert val.curriculum is None and len(val) == len(plain) > 0
    assert val[0].keys() == plain[0].keys() and val[0]["reward_model"] == plain[0]["reward_model"]


def test_online_batches_train_and_update_the_controller(verl_config, tokenizer, ray_cluster,
                                                         tmp_path):
    trainer = ppo_trainer(verl_config, tokenizer)
    curriculum = trainer.train_dataset.curriculum
    seen = []
    checkpoint = tmp_path / "data.pt"
    for k, batch_dict in enumerate(trainer.train_dataloader, start=1):
        # The collated batch: verl's fields of online rows.
        assert batch_dict["dummy_tensor"].shape[0] == BATCH
        infos = list(batch_dict["extra_info"])
        assert {i["split"] for i in infos} == {"online"}
        for raw, gt, info in zip(batch_dict["raw_prompt"], batch_dict["reward_model"], infos):
            assert raw[-1]["role"] == "user" and info["instance_id"] in gt["ground_truth"]
        seen += [i["instance_id"] for i in infos]
        batch = step(trainer, batch_dict, verl_config, tokenizer)
        # resyn's reward function scored every response; the verifier's rewards of a group
        # are its two references (1) and two wrong answers (0).
        assert list(batch.non_tensor_batch["verifier_reward"]) == [1.0, 1.0, 0.0, 0.0] * BATCH
        if k == 1:
            # RayPPOTrainer._save_checkpoint: the dataloader state, into data.pt.
            torch.save(trainer.train_dataloader.state_dict(), checkpoint)
            saved = curriculum.state()
    assert len(seen) == len(set(seen)) == BATCH * STEPS  # fresh, never repeated
    envs = curriculum.snapshot()
    stats = [e["stats"] for e in envs]
    assert sum(s["outcomes"] for s in stats) == STEPS * BATCH * N
    assert sum(s["reward_sum"] for s in stats) == STEPS * BATCH * 2
    assert sum(s["groups"] for s in stats) == sum(s["mixed_groups"] for s in stats) == STEPS * BATCH
    decisions = curriculum.take_decisions()
    stale_groups = sum(s["stale"] for s in stats) // N
    assert len(decisions) == STEPS * BATCH - stale_groups >= 1
    assert {d["action"] for d in decisions} == {"up"}
    assert all(d["accuracy"] == 0.5 for d in decisions)

    # RayPPOTrainer._load_checkpoint: a new trainer's dataloader restored from data.pt holds
    # the curriculum as saved, and continues its stream.
    resumed = ppo_trainer(verl_config, tokenizer)
    resumed.train_dataloader.load_state_dict(torch.load(checkpoint, weights_only=False))
    batches = iter(resumed.train_dataloader)
    first = next(batches)
    reference = resyn.Curriculum(verl_config.data.train_files)
    reference.load_state(saved)
    want = reference.draw(BATCH)
    assert [i["instance_id"] for i in first["extra_info"]] == [
        r["extra_info"]["instance_id"] for r in want]
    assert list(first["reward_model"]) == [
        {"style": "rule", "ground_truth": r["label"]} for r in want]
    assert resumed.train_dataset.curriculum.state() == reference.state()
    # The step saved is not repeated: its rows were drawn before the checkpoint.
    assert not {i["instance_id"] for i in first["extra_info"]} & set(seen[:BATCH])


def test_on_batch_end_needs_the_verifier_reward(verl_config, tokenizer):
    from verl import DataProto

    trainer = ppo_trainer(verl_config, tokenizer)
    batch = DataProto.from_single_dict(next(iter(trainer.train_dataloader)))
    with pytest.raises(KeyError, match="return_dict=True"):
        trainer.train_dataset.on_batch_end(batch=batch)


def test_online_recipe_composes_against_verls_config(tmp_path, store):
    from verl.utils.config import validate_config
    from verl.utils.dataset.rl_dataset import get_dataset_class

    import resyn.verl

    env = {"RESYN_ENV_DIRS": str(support.PYTHON_ENVS), "RESYN_STORE": str(store)}
    cfg = test_verl.compose(test_verl.recipe_overrides(tmp_path, env, recipe=ONLINE_RECIPE))
    online = ONLINE_RECIPE.parent / "online.toml"
    assert cfg.data.train_files == str(online)
    assert cfg.data.val_files == "data/resyn/validation.parquet"  # the built dataset's
    assert get_dataset_class(cfg.data) is resyn.verl.CurriculumDataset
    assert cfg.trainer.use_v1 is False and cfg.data.dataloader_num_workers == 0
    assert cfg.data.train_max_samples == 400 * cfg.data.train_batch_size
    assert cfg.reward.custom_reward_function.reward_kwargs.return_dict is True
    assert cfg.algorithm.filter_groups.enable is False
    with online.open("rb") as f:
        assert tomllib.load(f)["curriculum"]["group_size"] == cfg.actor_rollout_ref.rollout.n
    validate_config(cfg, use_reference_policy=False, use_critic=False)
    # The decision log goes next to the checkpoints.
    assert cfg.data.resyn_decision_log.startswith(cfg.trainer.default_local_dir + "/")
