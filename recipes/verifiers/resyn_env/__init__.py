"""resyn environments as a `verifiers` taskset (taskset id ``resyn-env``).

Each row of a dataset written by ``resyn dataset build`` becomes one single-turn task: the
row's system and user messages are the prompt, and two weighted rewards score the model's
reply with resyn (the same Rust function as ``resyn.compute_score``):

- ``verifier``: the environment verifier's reward in [0, 1] (weight ``verifier_weight``);
- ``format``: 1 when the reply holds one ``<think>`` block then one ``<answer>`` block
  (weight ``format_weight``),

so a trace's reward is ``verifier_weight * verifier + format_weight * format``, resyn's score.

prime-rl / verifiers' CLI::

    --env.taskset.id resyn-env --env.taskset.data out/dataset [--env.taskset.split train]
    [--env.taskset.format-weight 0.1]

Python::

    from resyn_env import load_environment
    env = load_environment("out/dataset", format_weight=0.1)   # a verifiers SingleAgentEnv

Python environments and synthesized ones are found as everywhere in resyn
(``RESYN_ENV_DIRS``, ``RESYN_STORE``); the default harness is verifiers' tool-less chat loop.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import verifiers.v1 as vf
from verifiers.v1.harnesses.null import NullHarness

import resyn
from resyn import _completion_text

__all__ = ["ResynTaskset", "NullHarness", "load_environment"]

TASKSET_ID = "resyn-env"


class ResynData(vf.TaskData):
    label: str
    """The row's ground truth (``reward_model.ground_truth``, ``label`` in JSONL)."""
    env: str
    """The environment the instance comes from."""


class ResynTask(vf.Task[ResynData]):
    @vf.stop
    async def single_turn(self, trace: vf.Trace) -> bool:
        return trace.num_turns >= 1

    async def _verdict(self, trace: vf.Trace) -> dict[str, Any]:
        # Only the model's messages count; a reasoning field is put back as <think>.
        text = _completion_text([m.model_dump() for m in trace.assistant_messages])
        # resyn releases the GIL (and a Python environment runs in its sandbox): off the loop.
        return await asyncio.to_thread(
            resyn.compute_score, solution_str=text, ground_truth=self.data.label, return_dict=True)

    @vf.reward(weight=1.0)
    async def verifier(self, trace: vf.Trace) -> float:
        return (await self._verdict(trace))["verifier_reward"]

    @vf.reward(weight=0.0)
    async def format(self, trace: vf.Trace) -> float:
        return (await self._verdict(trace))["format_ok"]


class ResynTasksetConfig(vf.TasksetConfig):
    data: str = ""
    """A directory written by ``resyn dataset build`` (its ``{split}.jsonl``) or a JSONL file."""
    split: str = "train"
    verifier_weight: float = 1.0
    format_weight: float = 0.0


class ResynTaskset(vf.Taskset[ResynTask, ResynTasksetConfig]):
    def load(self) -> list[ResynTask]:
        cfg = self.config
        if not cfg.data:
            raise ValueError("resyn-env needs a dataset: --env.taskset.data DIR_OR_JSONL")
        path = Path(cfg.data)
        if path.is_dir():
            path = path / f"{cfg.split}.jsonl"
        # The weights are the rewards' weights; explicit task.rewards entries still win.
        weights = {"verifier": vf.RewardFunctionConfig(weight=cfg.verifier_weight),
                   "format": vf.RewardFunctionConfig(weight=cfg.format_weight)}
        task_config = cfg.task.model_copy(update={"rewards": {**weights, **cfg.task.rewards}})
        tasks = []
        with path.open(encoding="utf-8") as f:
            for n, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                    messages = {m["role"]: m["content"] for m in row["prompt"]}
                    data = ResynData(id=row["extra_info"]["instance_id"],
                                     name=row["extra_info"]["env"], prompt=messages["user"],
                                     system_prompt=messages.get("system"), label=row["label"],
                                     env=row["extra_info"]["env"])
                except (KeyError, TypeError, ValueError) as e:
                    raise ValueError(f"{path}:{n}: not a resyn dataset row ({e!r})") from None
                tasks.append(ResynTask(data, task_config))
        return tasks


def load_environment(data: str, *, split: str = "train", verifier_weight: float = 1.0,
                     format_weight: float = 0.0) -> vf.Env:
    """The verifiers environment of a resyn dataset: single-turn, rewarded by resyn."""
    config = vf.resolve_env_config({"taskset": {
        "id": TASKSET_ID, "data": str(data), "split": split,
        "verifier_weight": verifier_weight, "format_weight": format_weight}})
    return vf.load_environment(config)
