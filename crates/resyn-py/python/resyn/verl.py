"""verl hooks (verl 0.9.1): PPO/GRPO on online instances that follow a
:class:`resyn.Curriculum` (docs/curriculum.md).

:class:`CurriculumDataset` is a ``data.custom_cls``. Given a resyn dataset config (TOML) as
its data file it draws online rows, and verl's own ``RLHFDataset`` code turns each into a
training sample; given parquet or JSON files (a validation set built by ``resyn dataset
build``) it is exactly ``RLHFDataset``. verl calls ``on_batch_end(batch)`` after every
training step, and the dataset reports each response's verifier reward from the batch to the
curriculum. Its state travels in verl's checkpoint (``data.pt``, the dataloader's state)::

    data.train_files=online.toml                 # [select], seed, [difficulty], [curriculum],
                                                 # [prompt]
    data.val_files=data/validation.parquet       # a built dataset, read as RLHFDataset reads it
    data.custom_cls.path=pkg://resyn.verl
    data.custom_cls.name=CurriculumDataset
    data.train_max_samples=51200                 # rows per epoch (an online stream has no end)
    data.dataloader_num_workers=0                # one process draws, the one verl reports to
    trainer.use_v1=False                         # the trainer that calls on_batch_end (see below)
    +reward.custom_reward_function.reward_kwargs.return_dict=True  # verifier_reward per sample

and ``[curriculum] group_size`` equal to ``actor_rollout_ref.rollout.n``. Optionally
``+data.resyn_decision_log=PATH`` appends every decision to a JSON Lines file.

What verl 0.9.1 offers and what it does not:

- ``on_batch_end`` is called by the legacy ``RayPPOTrainer`` (``trainer.use_v1=False``), not
  by the v1 trainer ``main_ppo`` uses by default: under v1 the rows are drawn but no reward
  reaches the curriculum (a warning says so once a whole epoch was drawn unreported).
- There is no curriculum sampler interface any more (``AbstractCurriculumSampler`` of
  earlier releases is gone, and ``create_rl_sampler`` builds only random or sequential
  samplers); the dataset ignores the sampler's indices and draws in request order.
- verl saves the dataloader state of step *k* before it calls ``on_batch_end`` for step
  *k*, so a checkpoint's curriculum state lacks its own step's rewards: a run resumed from it
  continues the stream deterministically (no repeated ids), without those rewards.

Importing this module imports verl and torch.
"""

from __future__ import annotations

import os
import warnings
from collections import deque
from collections.abc import Sequence
from typing import Any, Optional

import torch
from omegaconf import ListConfig
from verl.utils.dataset.rl_dataset import RLHFDataset

from .curriculum import Curriculum

# `reward_model.style` of the rows `resyn dataset build` writes in parquet.
_REWARD_STYLE = "rule"


def _online_config(data_files: Any) -> Optional[str]:
    """The dataset config among verl's data files, or None for data files to read."""
    files = list(data_files) if isinstance(data_files, (list, tuple, ListConfig)) else [data_files]
    configs = [os.fspath(f) for f in files if os.fspath(f).endswith(".toml")]
    if not configs:
        return None
    if len(files) != 1:
        raise ValueError(
            f"resyn.verl.CurriculumDataset: one dataset config (TOML) or data files, got {files}"
        )
    return configs[0]


class _OnlineRows:
    """Stands in for ``RLHFDataset.dataframe``: item ``i`` is the next online row in the
    order items are asked for (the sampler's index is not used), in verl's parquet shape."""

    def __init__(self, curriculum: Curriculum, rows_per_epoch: int) -> None:
        self.curriculum = curriculum
        self.rows_per_epoch = rows_per_epoch
        self.ahead: deque[dict[str, Any]] = deque()
        self.drawn = 0

    def __len__(self) -> int:
        return self.rows_per_epoch

    def draw(self, n: int) -> None:
        if torch.utils.data.get_worker_info() is not None:
            raise RuntimeError(
                "resyn.verl.CurriculumDataset draws in the trainer process: set "
                "data.dataloader_num_workers=0 (a worker would draw from a copy of the curriculum)"
            )
        for row in self.curriculum.draw(n):
            row["reward_model"] = {"style": _REWARD_STYLE, "ground_truth": row.pop("label")}
            self.ahead.append(row)
        self.drawn += n

    def __getitem__(self, item: int) -> dict[str, Any]:
        if not self.ahead:
            self.draw(1)
        return self.ahead.popleft()


class CurriculumDataset(RLHFDataset):
    """verl's ``RLHFDataset`` over online rows when its data file is a resyn dataset config.

    Constructed by verl (``create_rl_dataset``) as ``CurriculumDataset(data_files=,
    tokenizer=, processor=, config=data_config, max_samples=)``. Online, ``max_samples``
    (``data.train_max_samples``) is the number of rows per epoch and must be set; the
    curriculum is :attr:`curriculum`. Rows of one dataloader batch are drawn together
    (``__getitems__``), so each environment generates its share at once.
    """

    def __init__(
        self,
        data_files: Any,
        tokenizer: Any,
        config: Any,
        processor: Any = None,
        max_samples: int = -1,
    ) -> None:
        self._online = _online_config(data_files)
        self.curriculum: Optional[Curriculum] = None
        self._reported = False  # has any batch been reported
        self._warned = False
        super().__init__(data_files, tokenizer, config, processor, max_samples)

    # RLHFDataset's loading steps, skipped for an online stream.

    def _download(self, use_origin_parquet: bool = False) -> None:
        if self._online is None:
            super()._download(use_origin_parquet)

    def _read_files_and_tokenize(self) -> None:
        if self._online is None:
            super()._read_files_and_tokenize()
            return
        if self.max_samples is None or self.max_samples <= 0:
            raise ValueError(
                "resyn.verl.CurriculumDataset: set data.train_max_samples to the rows per epoch "
                "of the online stream (verl derives the steps per epoch from it)"
            )
        if self.curriculum is None:
            log = self.config.get("resyn_decision_log", None)
            self.curriculum = Curriculum(self._online, log=log)
        self.dataframe = _OnlineRows(self.curriculum, int(self.max_samples))

    def __getitems__(self, items: Sequence[int]) -> list[dict[str, Any]]:
        if self.curriculum is not None:
            self.dataframe.draw(len(items))
            self._warn_if_unreported()
        return [self[i] for i in items]

    def _warn_if_unreported(self) -> None:
        if not (self._reported or self._warned) and self.dataframe.drawn > len(self.dataframe):
            warnings.warn(
                "resyn.verl.CurriculumDataset: a whole epoch of online rows was drawn and no "
                "batch was reported; verl 0.9.1 calls on_batch_end only with trainer.use_v1=False",
                stacklevel=3,
            )
            self._warned = True

    def on_batch_end(self, batch: Any) -> None:
        """Report the verifier reward of every response of a training batch (verl's
        ``DataProto`` after the step: ``non_tensor_batch`` holds each response's row
        ``extra_info`` and, from resyn's reward function with ``return_dict=True``,
        ``verifier_reward``)."""
        if self.curriculum is None:
            return
        nt = batch.non_tensor_batch
        if "verifier_reward" not in nt:
            raise KeyError(
                "resyn.verl.CurriculumDataset.on_batch_end: the batch has no `verifier_reward`; "
                "score with resyn.compute_score and "
                "+reward.custom_reward_function.reward_kwargs.return_dict=True"
            )
        self.curriculum.report_rows(
            [{"extra_info": info} for info in nt["extra_info"]],
            [float(r) for r in nt["verifier_reward"]],
        )
        self._reported = True

    # The dataloader's state (verl's checkpoint `data.pt`) carries the curriculum's.

    def state_dict(self) -> dict[str, str]:
        return {} if self.curriculum is None else {"resyn_curriculum": self.curriculum.state()}

    def load_state_dict(self, state: dict[str, str]) -> None:
        if self.curriculum is not None and state.get("resyn_curriculum"):
            self.curriculum.load_state(state["resyn_curriculum"])
