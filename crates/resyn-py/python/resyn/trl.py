"""TRL hooks: a ``GRPOTrainer`` that trains on online instances following a
:class:`resyn.Curriculum` (docs/curriculum.md).

::

    import resyn, resyn.trl

    curriculum = resyn.Curriculum("online.toml")          # or resumed, see below
    trainer = GRPOTrainer(
        model=...,
        reward_funcs=[
            resyn.make_trl_reward(curriculum=curriculum, name="resyn_verifier"),
            resyn.make_trl_reward(verifier_weight=0, format_weight=1, name="resyn_format"),
        ],
        args=GRPOConfig(max_steps=..., num_generations=8, shuffle_dataset=False,
                        ignore_data_skip=True, ...),
        train_dataset=resyn.trl.online_dataset(curriculum),
        callbacks=[resyn.trl.CurriculumCallback(curriculum)],
    )

- :func:`online_dataset` draws rows as the trainer reads them;
- the reward function given ``curriculum=`` reports every completion's verifier reward
  (``num_generations`` outcomes per prompt: set the config's ``[curriculum] group_size`` to
  it) and logs the curriculum's metrics;
- :class:`CurriculumCallback` saves the curriculum's state into every checkpoint folder
  (``checkpoint-N/resyn_curriculum.json``, :data:`STATE_FILE`). To resume, open the
  curriculum from the checkpoint's state, ``resyn.Curriculum.load("online.toml",
  resyn.trl.checkpoint_state(ckpt))``, and call ``trainer.train(resume_from_checkpoint=ckpt)``.

One process: TRL on several processes would run one curriculum per process, each seeing
only its share of the rewards; train several processes from ``resyn serve --curriculum``
instead. Importing this module imports ``datasets`` and ``transformers``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any, Union

from datasets import Features, IterableDataset, List, Value
from transformers import TrainerCallback
from transformers.trainer_utils import PREFIX_CHECKPOINT_DIR

from .curriculum import Curriculum

#: The curriculum state's file name inside a checkpoint folder.
STATE_FILE = "resyn_curriculum.json"

# The columns of an online row (resyn's JSON Lines dataset row), declared so that `datasets`
# never reads a row ahead to infer them.
_FEATURES = Features({
    "prompt": List({"role": Value("string"), "content": Value("string")}),
    "label": Value("string"),
    "data_source": Value("string"),
    "ability": Value("string"),
    "extra_info": {
        "env": Value("string"),
        "env_version": Value("int64"),
        "seed": Value("int64"),
        "difficulty": Value("int64"),
        "instance_id": Value("string"),
        "split": Value("string"),
        "index": Value("int64"),
        "data": Value("string"),
    },
})


def online_dataset(curriculum: Curriculum, *, draw_size: int = 1) -> IterableDataset:
    """An endless ``datasets.IterableDataset`` of online rows drawn from ``curriculum``.

    Rows are drawn ``draw_size`` at a time as the trainer reads them (``GRPOTrainer``
    reads ``generation_batch_size / num_generations`` prompts per generation, plus one
    batch ahead); a larger ``draw_size`` batches generation per environment but draws
    instances earlier, before the rewards of the batches in between are reported. Rows have
    the columns of resyn's JSON Lines datasets: ``prompt`` (conversational), ``label``,
    ``data_source``, ``ability``, ``extra_info``.

    Use it with ``GRPOConfig(max_steps=..., shuffle_dataset=False)``: TRL's shuffle of an
    iterable dataset buffers 1000 rows, drawn long before they are trained on
    (:class:`CurriculumCallback` refuses it).
    """
    if draw_size < 1:
        raise ValueError(f"draw_size must be at least 1, got {draw_size}")
    # `datasets` fingerprints the generator and its arguments by pickling them, and a
    # curriculum does not pickle (a copy would fork the run): the arguments name it instead.
    key = f"{id(curriculum):x}"
    _CURRICULA[key] = curriculum
    return IterableDataset.from_generator(
        _rows, features=_FEATURES, gen_kwargs={"key": key, "draw_size": draw_size}
    )


_CURRICULA: dict[str, Curriculum] = {}


def _rows(key: str, draw_size: int) -> Iterator[dict]:
    curriculum = _CURRICULA[key]
    while True:
        yield from curriculum.draw(draw_size)


def checkpoint_state(checkpoint: Union[str, os.PathLike[str]]) -> str:
    """The curriculum state file that :class:`CurriculumCallback` saved in a checkpoint folder."""
    return os.path.join(os.fspath(checkpoint), STATE_FILE)


class CurriculumCallback(TrainerCallback):
    """Saves the curriculum's state with every checkpoint, and refuses trainer settings that
    would draw instances the run never trains on.

    ``on_save`` writes :data:`STATE_FILE` into the checkpoint folder the trainer just wrote
    (atomically), so each checkpoint holds the curriculum as it was at that step.
    ``on_train_begin`` raises ``ValueError`` for ``shuffle_dataset=True`` (a buffered shuffle
    reads 1000 rows ahead) and for a resumed run without ``ignore_data_skip=True`` (the
    trainer would read and drop the batches of the steps already done, drawing instances the
    restored curriculum has already moved past).
    """

    def __init__(self, curriculum: Curriculum) -> None:
        self.curriculum = curriculum

    def on_train_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        if getattr(args, "shuffle_dataset", False):
            raise ValueError(
                "resyn.trl: set GRPOConfig(shuffle_dataset=False): shuffling an online dataset "
                "buffers 1000 rows drawn long before they are trained on"
            )
        if state.global_step > 0 and not args.ignore_data_skip:
            raise ValueError(
                "resyn.trl: resuming with an online dataset needs ignore_data_skip=True: the "
                "curriculum restored from the checkpoint continues the stream, and skipping "
                "the steps already done would draw and drop instances"
            )

    def on_save(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        if state.is_world_process_zero:
            folder = os.path.join(args.output_dir, f"{PREFIX_CHECKPOINT_DIR}-{state.global_step}")
            self.curriculum.save(checkpoint_state(folder))
