"""verl 0.9.1: the recipe's overrides against verl's own config files, verl's dataset class,
and verl's reward managers scoring real decoded responses.

What cannot run here: `verl.trainer.main_ppo` itself. Its rollout needs vLLM or SGLang and its
actor FSDP on CUDA devices; neither exists on a CPU-only machine, so no PPO step runs. Everything
on the reward path runs as in training: the config is composed by hydra from verl's files, the
parquet is read by `RLHFDataset`, responses are token ids that verl decodes, and the reward loop
(`RewardLoopManager`, the only reward path of `main_ppo` in 0.9.1) runs its workers as Ray
actors on a local Ray cluster.
"""

import copy
import os
import pathlib
import subprocess

import numpy as np
import pytest
import yaml

import resyn
import support

RECIPE = support.ROOT / "recipes" / "verl" / "run_dapo_qwen2.5_7b.sh"
FORMAT_WEIGHT = 0.1  # the recipe's default


def verl_config_dir() -> pathlib.Path:
    import verl

    return pathlib.Path(verl.__file__).parent / "trainer" / "config"


class MovedKeyError(ValueError):
    """An override sets a key that verl 0.9.1 keeps only as an ignored placeholder."""


def legacy_sections():
    # `legacy_reward_impl.yaml` holds the pre-0.9 reward keys as nulls so old command lines
    # still compose; `main_ppo` never reads them, so a value set there is silently lost.
    return set(yaml.safe_load((verl_config_dir() / "legacy_reward_impl.yaml").read_text()))


def compose(overrides):
    """Compose `ppo_trainer` as `main_ppo` does; unknown keys raise, moved keys too."""
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir

    legacy = legacy_sections()
    for o in overrides:
        key = o.split("=", 1)[0].lstrip("+~")
        if key.split(".")[0] in legacy:
            raise MovedKeyError(
                f"{o!r}: verl 0.9.1 ignores `{key.split('.')[0]}.*`; use `reward.*`")
    with initialize_config_dir(config_dir=str(verl_config_dir()), version_base=None):
        return hydra_compose(config_name="ppo_trainer", overrides=list(overrides))


def recipe_overrides(tmp_path, env, recipe=RECIPE):
    """The hydra overrides a recipe passes to `python3 -m verl.trainer.main_ppo`, captured
    by running the script with a `python3` on PATH that records its arguments."""
    shim = tmp_path / "bin"
    shim.mkdir(exist_ok=True)
    (shim / "python3").write_text('#!/bin/sh\nprintf "%s\\0" "$@" > "$RECIPE_ARGS"\n')
    (shim / "python3").chmod(0o755)
    args_file = tmp_path / "args"
    run_env = {k: v for k, v in os.environ.items() if not k.startswith("RESYN_")}
    run_env.update(env, PATH=f"{shim}:{os.environ['PATH']}", RECIPE_ARGS=str(args_file),
                   DATA_DIR="data/resyn")
    subprocess.run(["bash", str(recipe)], env=run_env, check=True, capture_output=True)
    args = args_file.read_text().split("\0")[:-1]
    assert args[:2] == ["-m", "verl.trainer.main_ppo"], args[:2]
    return args[2:]


@pytest.fixture(scope="module")
def resyn_worker_env(store):
    return {"RESYN_ENV_DIRS": str(support.PYTHON_ENVS), "RESYN_STORE": str(store)}


@pytest.fixture(scope="module")
def recipe_config(tmp_path_factory, resyn_worker_env):
    return compose(recipe_overrides(tmp_path_factory.mktemp("recipe"), resyn_worker_env))


# -- the recipe ------------------------------------------------------------------------------


def test_recipe_reward_settings_reach_what_verl_reads(recipe_config, resyn_worker_env):
    from verl.experimental.reward_loop.reward_manager.dapo import DAPORewardManager
    from verl.trainer.ppo.reward import get_custom_reward_fn, resolve_reward_manager_cls

    cfg = recipe_config
    assert cfg.reward.custom_reward_function.path == str(RECIPE.parent / "resyn_reward.py")
    fn = get_custom_reward_fn(cfg)  # what every reward worker loads
    assert fn.args[1] == {"format_weight": FORMAT_WEIGHT, "return_dict": True}
    assert resolve_reward_manager_cls(cfg) is DAPORewardManager
    overlong = cfg.reward.reward_kwargs.overlong_buffer_cfg
    assert (overlong.enable, overlong.len, overlong.penalty_factor) == (True, 2048, 1.0)
    assert cfg.reward.reward_kwargs.max_resp_len == 8192
    # DAPO's dynamic sampling filters groups on `acc`, a key of resyn's return_dict (checked
    # in the reward-loop test below).
    assert (cfg.algorithm.filter_groups.enable, cfg.algorithm.filter_groups.metric) == (True, "acc")
    # Nothing is left in the sections verl 0.9.1 ignores.
    for section in legacy_sections():
        leaves = [v for v in _leaves(cfg[section]) if v is not None]
        assert leaves == [], (section, leaves)
    # resyn's settings travel to the Ray workers.
    assert dict(cfg.ray_kwargs.ray_init.runtime_env.env_vars) == resyn_worker_env


def test_recipe_passes_verls_config_validation(recipe_config):
    from verl.trainer.ppo.utils import need_critic, need_reference_policy
    from verl.utils.config import validate_config

    assert not need_critic(recipe_config) and not need_reference_policy(recipe_config)
    validate_config(recipe_config, use_reference_policy=False, use_critic=False)


def test_unknown_and_moved_keys_fail():
    from hydra.errors import ConfigCompositionException

    with pytest.raises(ConfigCompositionException):
        compose(["reward.reward_manger.name=dapo"])
    # The pre-0.9.1 spelling composes in verl (placeholder keys) but would be ignored.
    old = ["custom_reward_function.path=x.py", "reward_model.reward_manager=dapo"]
    for o in old:
        with pytest.raises(MovedKeyError):
            compose([o])
    with pytest.raises(MovedKeyError):
        compose(["+reward_model.reward_kwargs.max_resp_len=8"])


def _leaves(node):
    from omegaconf import DictConfig

    if isinstance(node, DictConfig):
        for v in node.values():
            yield from _leaves(v)
    else:
        yield node


# -- the dataset -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tokenizer_dir(tmp_path_factory):
    return support.save_tokenizer(tmp_path_factory.mktemp("tokenizer"))


@pytest.fixture(scope="module")
def rl_dataset(recipe_config, dataset, tokenizer):
    from verl.utils.dataset.rl_dataset import RLHFDataset

    return RLHFDataset(data_files=[str(dataset / "train.parquet")], tokenizer=tokenizer,
                       config=recipe_config.data)


def test_rlhf_dataset_reads_the_parquet(rl_dataset, train_rows, tokenizer, recipe_config):
    assert len(rl_dataset) == len(train_rows)
    for i, row in enumerate(train_rows):
        item = rl_dataset[i]
        assert list(item["raw_prompt"]) == row["prompt"]
        assert item["data_source"] == row["data_source"] == f"resyn/{row['extra_info']['env']}"
        assert item["reward_model"]["ground_truth"] == row["label"]
        ids = tokenizer.apply_chat_template(list(item["raw_prompt"]), add_generation_prompt=True)
        ids = ids["input_ids"] if hasattr(ids, "keys") else ids
        assert len(ids) <= recipe_config.data.max_prompt_length


# -- the reward managers -----------------------------------------------------------------------


def responses_for(row):
    info = row["extra_info"]
    reference = resyn.generate(info["env"], info["seed"], info["difficulty"])["reference"]
    return [support.THINK + reference, reference, "<think>hm</think><answer>wrong</answer>",
            "I do not know."]


@pytest.fixture(scope="module")
def batch(rl_dataset, train_rows, tokenizer):
    from verl import DataProto
    from verl.utils.dataset.rl_dataset import collate_fn

    items, texts = [], []
    for i, row in enumerate(train_rows):
        for text in responses_for(row):
            items.append(rl_dataset[i])
            texts.append(text)
    data = DataProto.from_single_dict(collate_fn(items))
    return data, texts, support.add_responses(data, texts, tokenizer)


def expected(data, texts):
    gts = [rm["ground_truth"] for rm in data.non_tensor_batch["reward_model"]]
    return [resyn.compute_score(solution_str=t, ground_truth=g, format_weight=FORMAT_WEIGHT,
                                return_dict=True) for t, g in zip(texts, gts)]


def final_rewards(rm_scores, lengths):
    # verl puts a sample's reward on its last response token.
    return [float(rm_scores[i, n - 1]) for i, n in enumerate(lengths)]


@pytest.fixture(scope="module")
def ray_cluster(recipe_config):
    with support.local_ray(recipe_config):  # the recipe's runtime_env
        yield


def reward_loop_config(recipe_config, tokenizer_dir, manager, max_resp_len, buffer_len):
    from omegaconf import open_dict

    cfg = copy.deepcopy(recipe_config)
    with open_dict(cfg):
        cfg.actor_rollout_ref.model.path = str(tokenizer_dir)
        cfg.reward.num_workers = 1
        cfg.reward.reward_manager.name = manager
        cfg.reward.reward_kwargs.max_resp_len = max_resp_len
        cfg.reward.reward_kwargs.overlong_buffer_cfg.len = buffer_len
    return cfg


@pytest.mark.parametrize("manager", ["naive", "dapo"])
def test_reward_loop_scores_decoded_responses(manager, recipe_config, tokenizer_dir, batch,
                                              ray_cluster):
    from verl.experimental.reward_loop import RewardLoopManager

    data, texts, lengths = batch
    # A DAPO budget that puts the longer responses into the overlong buffer.
    max_len = max(lengths)
    buffer_len = max_len // 2
    cfg = reward_loop_config(recipe_config, tokenizer_dir, manager, max_len, buffer_len)
    out = RewardLoopManager(cfg).compute_rm_score(data)
    want = expected(data, texts)
    got = final_rewards(out.batch["rm_scores"], lengths)
    for key in ("score", "acc", "verifier_reward", "format_ok", "reason"):
        assert list(out.non_tensor_batch[key]) == [w[key] for w in want], key
    overlong = 0
    for g, w, n in zip(got, want, lengths):
        if manager == "dapo" and n > max_len - buffer_len:
            assert g < w["score"]  # DAPO's soft overlong punishment on top of resyn's score
            overlong += 1
        else:
            assert g == pytest.approx(w["score"])
    if manager == "dapo":
        assert overlong > 0 and list(out.non_tensor_batch["overlong"]).count(True) == overlong
    assert {w["score"] for w in want} >= {1.0 + FORMAT_WEIGHT, 1.0, FORMAT_WEIGHT, 0.0}


def test_legacy_batch_reward_manager_calls_the_plural_form(recipe_config, tokenizer, batch):
    # 0.9.1 still ships the batch manager, but `main_ppo` no longer builds any legacy manager
    # (the reward loop scores one sample per call): it runs when a custom trainer builds it.
    from verl.trainer.ppo.reward import get_custom_reward_fn
    from verl.workers.reward_manager import BatchRewardManager

    data, texts, lengths = batch
    manager = BatchRewardManager(tokenizer, num_examine=0,
                                 compute_score=get_custom_reward_fn(recipe_config))
    out = manager(data, return_dict=True)
    want = expected(data, texts)
    assert final_rewards(out["reward_tensor"], lengths) == pytest.approx([w["score"] for w in want])
    assert out["reward_extra_info"]["reason"] == [w["reason"] for w in want]
    assert np.allclose(data.batch["acc"].numpy(), [w["score"] for w in want])
