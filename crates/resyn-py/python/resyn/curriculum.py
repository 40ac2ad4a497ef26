"""Online instances that follow resyn's adaptive curriculum (docs/curriculum.md).

A :class:`Curriculum` is one training run's stream of fresh instances: each environment's
difficulty follows the policy's accuracy, environments with learning signal are drawn most,
saturated ones retire. The trainer alternates :meth:`Curriculum.draw` (dataset rows) and
:meth:`Curriculum.report` (the verifier's reward of each response), and saves the state with
each of its checkpoints; a run restored from a saved state draws exactly the instances the
uninterrupted run would have drawn.

The trainer hooks build on it: :mod:`resyn.trl` (an iterable dataset for ``GRPOTrainer``, the
reward function of :func:`resyn.make_trl_reward` with ``curriculum=``, a checkpoint callback)
and :mod:`resyn.verl` (a ``data.custom_cls`` dataset that reports each batch's rewards).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from typing import Any, Optional, Union

from . import _resyn

PathLike = Union[str, "os.PathLike[str]"]

#: ``extra_info["split"]`` of an online row; rows of a built dataset say ``train``,
#: ``validation`` or ``test``. Only online rows are reported to the curriculum.
ONLINE_SPLIT = "online"


class Curriculum:
    """The online curriculum of one training run, from a dataset config.

    ``config`` is a dataset config (TOML, the format of ``resyn dataset build``): its
    ``[select]`` (and ``max_environments``) picks the environments, ``seed`` is the run seed,
    ``[difficulty] min``/``max`` bound every environment's levels, ``[curriculum]`` holds the
    policy and ``[prompt]`` the chat template of the rows; ``reward`` must be ``"verifier"``.
    The environments are this process's (see :func:`resyn.configure`), the same that score
    the rows.

    ``state``: a file written by :meth:`save`. When it exists the run resumes from it (it
    must have been saved with the same config and environments); otherwise a new run starts
    and the file is not written until :meth:`save` is called.

    ``log``: a JSON Lines file (its directory is created) the controller's decisions are
    appended to after every :meth:`draw` and :meth:`report` (one record per decision, holds
    included; see docs/curriculum.md). Without it they wait for :meth:`take_decisions`. A
    run resumed from an older state decides again what it decided after that state was
    saved, so the log may hold a decision ``seq`` twice; the later record is the resumed
    run's.

    Every method is thread-safe (one lock) and releases the GIL while it generates, reports
    or saves.

    Raises:
        CurriculumError: the config is invalid (naming the file and field), selects no
            environment, or the state does not fit it.
        OSError: a file cannot be read.
    """

    def __init__(
        self,
        config: PathLike,
        *,
        state: Optional[PathLike] = None,
        log: Optional[PathLike] = None,
    ) -> None:
        self.config_path = os.fspath(config)
        if log is not None:
            os.makedirs(os.path.dirname(os.path.abspath(log)), exist_ok=True)
        self._inner = _resyn.Curriculum(
            self.config_path,
            None if state is None else os.fspath(state),
            None if log is None else os.fspath(log),
        )

    @classmethod
    def load(
        cls, config: PathLike, state: PathLike, *, log: Optional[PathLike] = None
    ) -> Curriculum:
        """Resume the run saved in ``state``; unlike the constructor, the file must exist."""
        if not os.path.exists(state):
            raise FileNotFoundError(f"{os.fspath(state)}: no saved curriculum state")
        return cls(config, state=state, log=log)

    def draw(self, n: int) -> list[dict[str, Any]]:
        """Draw ``n`` fresh instances as dataset rows, in order.

        Each row is the JSON Lines row ``resyn dataset build`` writes for that instance:
        ``prompt`` (the chat messages of the config's ``[prompt]`` template: system, then
        user), ``label`` (the ground truth string resyn's reward functions score against),
        ``data_source`` (``resyn/<env>``), ``ability`` and ``extra_info`` (``env``,
        ``env_version``, ``seed``, ``difficulty``, ``instance_id``, ``split`` =
        ``"online"``, ``index``: unique within the run, ``data``). No instance id repeats
        within a run.

        Raises:
            CurriculumError: every environment is retired or disabled.
        """
        return [json.loads(r) for r in self._inner.draw(int(n))]

    def report(self, outcomes: Sequence[Mapping[str, Any]]) -> dict[str, int]:
        """Report verdicts: one ``{"id", "env", "difficulty", "reward"}`` per response.

        ``reward`` is the verifier's reward in [0, 1] (not a format-weighted score); ``id``
        (the instance id, optional) lets the G responses of one prompt form a group. The
        batch is checked whole first and rejected whole.

        Returns:
            What was counted: ``accepted``, ``stale``, ``unmatched``, ``groups_closed``,
            ``mixed_groups``, ``decisions``.

        Raises:
            CurriculumError: an outcome names an unknown environment, a reward outside
                [0, 1], a difficulty the environment lacks, or an id drawn elsewhere
                (naming the outcome, e.g. ``outcomes[3]``).
        """
        return json.loads(self._inner.report(json.dumps([dict(o) for o in outcomes])))

    def report_rows(
        self, rows: Sequence[Mapping[str, Any]], rewards: Sequence[float]
    ) -> dict[str, int]:
        """Report the verifier reward of one response per row, for the online rows only.

        ``rows[i]`` is the dataset row response ``i`` answered (what the trainer passes
        along: it needs ``extra_info``), ``rewards[i]`` its verifier reward. Rows of a built
        dataset (an evaluation set) are skipped: their ``extra_info["split"]`` is not
        ``"online"``.
        """
        if len(rows) != len(rewards):
            raise ValueError(f"{len(rows)} rows but {len(rewards)} rewards")
        outcomes = []
        for row, reward in zip(rows, rewards):
            info = row.get("extra_info") if isinstance(row, Mapping) else None
            if not isinstance(info, Mapping) or info.get("split") != ONLINE_SPLIT:
                continue
            outcomes.append({
                "id": info["instance_id"],
                "env": info["env"],
                "difficulty": int(info["difficulty"]),
                "reward": float(reward),
            })
        return self.report(outcomes)

    def save(self, path: PathLike) -> None:
        """Save the whole state to ``path`` atomically (temporary file, fsync, rename)."""
        self._inner.save(os.fspath(path))

    def state(self) -> str:
        """The whole state as a JSON document (what :meth:`save` writes)."""
        return self._inner.state()

    def load_state(self, state: str) -> None:
        """Continue from a state returned by :meth:`state` (same config and environments).

        Raises:
            CurriculumError: the state was saved with another config or environments.
        """
        self._inner.load_state(str(state))

    def snapshot(self) -> list[dict[str, Any]]:
        """Every environment now, in id order: ``env``, ``status`` (``active``, ``retired``,
        ``disabled``), ``min_difficulty``, ``max_difficulty``, ``center``, ``distribution``
        (``[level, probability]`` pairs of the next draw), ``accuracy`` (of the last decided
        window, or ``None``), ``weight`` and ``stats`` (``drawn``, ``outcomes``,
        ``reward_sum``, ``stale``, ``groups``, ``mixed_groups``, ``decisions``)."""
        return json.loads(self._inner.snapshot())

    def take_decisions(self) -> list[dict[str, Any]]:
        """The decisions made since the last call (none when a ``log`` file takes them)."""
        return json.loads(self._inner.take_decisions())

    @property
    def position(self) -> int:
        """Instances drawn so far in the run (generation attempts included)."""
        return self._inner.position

    def metrics(self) -> dict[str, float]:
        """Scalars for a trainer's logger: per active environment
        ``curriculum/<env>/center``, ``.../weight`` and ``.../accuracy`` (once decided), and
        ``curriculum/position``, ``curriculum/active``, ``curriculum/retired``,
        ``curriculum/mixed_group_fraction`` (closed groups whose rewards differed)."""
        envs = self.snapshot()
        out: dict[str, float] = {"curriculum/position": float(self.position)}
        for status in ("active", "retired"):
            out[f"curriculum/{status}"] = float(sum(e["status"] == status for e in envs))
        groups = sum(e["stats"]["groups"] for e in envs)
        if groups:
            mixed = sum(e["stats"]["mixed_groups"] for e in envs)
            out["curriculum/mixed_group_fraction"] = mixed / groups
        for e in envs:
            if e["status"] != "active":
                continue
            prefix = f"curriculum/{e['env']}"
            out[f"{prefix}/center"] = float(e["center"])
            out[f"{prefix}/weight"] = float(e["weight"])
            if e["accuracy"] is not None:
                out[f"{prefix}/accuracy"] = float(e["accuracy"])
        return out
