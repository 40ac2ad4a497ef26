"""resyn: rewards for RL trainers from resyn's reasoning environments.

Everything runs in Rust (the private ``resyn._resyn`` extension); this module
holds the trainer-facing contracts, docstrings and types.

Reward functions
----------------
- :func:`compute_score` -- verl's custom reward function (``custom_reward_function.path``),
  in both forms verl calls: one sample (``NaiveRewardManager``, ``DAPORewardManager``,
  the reward loop) or lists (``BatchRewardManager``).
- :func:`trl_reward` / :func:`make_trl_reward` -- a TRL ``GRPOTrainer`` reward function.

The reward of a response is ``verifier_weight * verifier_reward + format_weight * format_ok``
where ``verifier_reward`` is the environment verifier's reward (binary for native
environments) and ``format_ok`` is 1 when the response holds one ``<think>...</think>`` block
followed by exactly one ``<answer>...</answer>`` block. Defaults: ``verifier_weight=1``,
``format_weight=0``. The same Rust function computes rewards for ``resyn serve``.

Online instances
----------------
:class:`Curriculum` draws fresh instances as dataset rows, following resyn's adaptive
curriculum, and takes the verifier's rewards back (docs/curriculum.md). Trainer hooks:
:mod:`resyn.trl` (``GRPOTrainer``: an iterable dataset, ``make_trl_reward(curriculum=...)``,
a checkpoint callback) and :mod:`resyn.verl` (a ``data.custom_cls`` dataset); neither is
imported by ``import resyn``.

Environments
------------
The same environments as the ``resyn`` command, assembled by the same Rust code: the native
environments, always; Python environments (``envs/python`` and the like) from the directories
in ``RESYN_ENV_DIRS``; and the environments ``resyn synth`` accepted into a synthesis store
(``RESYN_STORE``, else ``resyn.db`` in the current directory when it exists). :func:`configure`
overrides any of these. Python and synthesized environments run in one process-wide sandbox
worker pool.

Ground truth
------------
Rewards are computed against a dataset row's ``reward_model.ground_truth`` string, as written
by ``resyn dataset build``: a JSON object with ``reward_mode`` ``"verifier"`` (the instance:
``id``, ``env``, ``env_version``, ``seed``, ``difficulty``, ``data``) or ``"code"`` (``answer``,
matched exactly after canonicalization).

Errors
------
Bad input raises, it never scores 0: a malformed ground truth raises
:class:`GroundTruthError`, an unknown environment :class:`UnknownEnvironmentError`
(both subclasses of :class:`ResynError`). A dataset that does not decode is a bug to fix,
not a signal to train on. So does a machine that cannot run an environment: when the sandbox,
its interpreter or a worker process cannot start (no Python, a required isolation layer
missing, a process limit reached), scoring raises :class:`EnvironmentUnavailableError`
instead of a reward of 0 the response did not earn. Anything wrong with the *response* (no
answer, unparsable, wrong) is a reward of 0, never an error; so is an environment's own
failure on it (its verifier raising, timing out or crashing: reason ``env_error``).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Callable, Optional, Union

from . import _resyn
from ._resyn import (
    CurriculumError,
    EnvironmentUnavailableError,
    GroundTruthError,
    InstanceError,
    ResynError,
    UnknownEnvironmentError,
)
from .curriculum import Curriculum

__version__: str = _resyn.__version__

__all__ = [
    "Curriculum",
    "CurriculumError",
    "EnvironmentUnavailableError",
    "GroundTruthError",
    "InstanceError",
    "ResynError",
    "UnknownEnvironmentError",
    "compute_score",
    "configure",
    "envs",
    "generate",
    "make_trl_reward",
    "trl_reward",
    "verify",
    "verify_batch",
    "warm_up",
]

Score = Union[float, dict[str, Any]]


def compute_score(
    data_source: Optional[str] = None,
    solution_str: Optional[str] = None,
    ground_truth: Optional[str] = None,
    extra_info: Optional[Mapping[str, Any]] = None,
    *,
    data_sources: Optional[Iterable[str]] = None,
    solution_strs: Optional[Iterable[str]] = None,
    ground_truths: Optional[Iterable[str]] = None,
    extra_infos: Optional[Iterable[Any]] = None,
    return_dict: bool = False,
    verifier_weight: float = 1.0,
    format_weight: float = 0.0,
    **kwargs: Any,
) -> Union[Score, list[Score]]:
    """Score model responses against resyn ground truths: verl's reward function contract.

    verl (``verl/workers/reward_manager/naive.py``, ``dapo.py``, and the reward loop in
    ``verl/experimental/reward_loop/reward_manager/``) calls, once per sample::

        compute_score(data_source=..., solution_str=..., ground_truth=..., extra_info=...)

    with ``solution_str`` the decoded response only (no prompt) and ``ground_truth`` the row's
    ``reward_model["ground_truth"]``; ``BatchRewardManager`` (``batch.py``) calls once per batch::

        compute_score(data_sources=..., solution_strs=..., ground_truths=..., extra_infos=...)

    with a numpy array of data sources and lists of the rest. Both forms are supported: the
    plural form is detected by ``solution_strs`` and is scored on all cores with the GIL
    released (so is the singular form, so verl's reward-loop threads run in parallel).

    ``custom_reward_function.reward_kwargs`` from the verl config arrive as keyword
    arguments: ``verifier_weight``, ``format_weight`` and ``return_dict`` are read, any other
    keyword (verl adds its own, e.g. ``reward_router_address``) is ignored, as are
    ``data_source`` and ``extra_info``: the ground truth alone determines the reward.

    Returns:
        A float per sample, or with ``return_dict=True`` a dict per sample with keys
        ``score`` (the reward), ``acc`` (1.0 when the verifier judged the answer correct:
        the metric DAPO's dynamic sampling filters on), ``verifier_reward``, ``format_ok``
        (1.0/0.0) and ``reason`` (the verdict's reason code, e.g. ``"wrong"``). Every dict
        has the same keys, as verl's reward managers require. The plural form returns a list.

    Raises:
        GroundTruthError: a ground truth is not a resyn ground truth (also for ``None``).
        UnknownEnvironmentError: a ground truth names an environment this process lacks.
        EnvironmentUnavailableError: an environment cannot run on this machine (its sandbox
            or a worker could not start).
    """
    del data_source, extra_info, data_sources, extra_infos, kwargs
    if solution_strs is not None:
        gts = [_ground_truth_str(g) for g in _as_list(ground_truths)]
        return _resyn.score_batch(
            gts,
            [str(s) for s in _as_list(solution_strs)],
            float(verifier_weight),
            float(format_weight),
            bool(return_dict),
        )
    if solution_str is None:
        raise TypeError("compute_score needs solution_str (or solution_strs for a batch)")
    return _resyn.score(
        _ground_truth_str(ground_truth),
        str(solution_str),
        float(verifier_weight),
        float(format_weight),
        bool(return_dict),
    )


def make_trl_reward(
    *,
    verifier_weight: float = 1.0,
    format_weight: float = 0.0,
    label_key: Optional[str] = None,
    name: str = "resyn_reward",
    curriculum: Optional[Curriculum] = None,
) -> Callable[..., list[Optional[float]]]:
    """Build a TRL ``GRPOTrainer`` reward function with these weights.

    TRL (``GRPOTrainer._calculate_rewards``) calls each reward function as::

        reward_func(prompts=..., completions=..., completion_ids=..., **reward_kwargs)

    where ``reward_kwargs`` holds every other dataset column as a list (one entry per
    completion) plus ``trainer_state``, ``log_extra``, ``log_metric`` (and ``environments``),
    and expects ``list[float | None]``: ``None`` excludes that sample from this function.

    The ground truth is read from the column ``label_key`` when given, else from the first
    of ``ground_truth``, ``label`` (what ``resyn dataset build`` writes in JSONL for TRL) and
    ``reward_model`` (verl-style rows: a dict with ``ground_truth``). A row whose ground truth
    is ``None`` gets ``None`` (not a resyn row); a malformed one raises
    :class:`GroundTruthError`.

    Completions may be strings (standard format) or message lists (conversational format:
    ``[{"role": "assistant", "content": ...}, ...]``). For message lists the text of every
    assistant message is joined with newlines (``content`` as a string or a list of
    ``{"type": "text", "text": ...}`` blocks); a separate reasoning field
    (``reasoning_content``, ``reasoning`` or ``thinking``, as chat parsers produce) is put
    back as a ``<think>...</think>`` block in front, so the format check sees it.

    ``name`` becomes the function's ``__name__``, which TRL logs the reward under
    (``rewards/<name>/mean`` and a column of the completions table): give two resyn reward
    functions different names, e.g. a verifier-only and a format-only one with
    ``GRPOConfig(reward_weights=[1.0, 0.1])`` to see both parts of the reward in the logs.

    ``curriculum``: a :class:`Curriculum` the rows came from (:func:`resyn.trl.online_dataset`).
    Each call then reports the verifier's reward of every completion of an online row
    (``extra_info["split"] == "online"``; rows of a built evaluation set are scored but not
    reported) and logs the curriculum's :meth:`Curriculum.metrics` through TRL's
    ``log_metric``. Give it to one reward function only, or outcomes are counted twice.
    """

    def resyn_reward(
        prompts: Sequence[Any], completions: Sequence[Any], **kwargs: Any
    ) -> list[Optional[float]]:
        labels = _labels(kwargs, label_key, len(completions))
        idx = [i for i, g in enumerate(labels) if g is not None]
        out: list[Optional[float]] = [None] * len(completions)
        if idx:
            scores = _resyn.score_batch(
                [_ground_truth_str(labels[i]) for i in idx],
                [_completion_text(completions[i]) for i in idx],
                float(verifier_weight),
                float(format_weight),
                curriculum is not None,
            )
            for i, s in zip(idx, scores):
                out[i] = s["score"] if curriculum is not None else s
            if curriculum is not None:
                _report_to(curriculum, kwargs, idx, scores)
        return out

    resyn_reward.__name__ = resyn_reward.__qualname__ = name
    return resyn_reward


def _report_to(
    curriculum: Curriculum, kwargs: Mapping[str, Any], idx: list[int], scores: list[Any]
) -> None:
    """Report the verifier rewards of the scored completions, then log the curriculum's
    metrics through TRL's ``log_metric`` (when TRL passes it)."""
    infos = kwargs.get("extra_info")
    if infos is None:
        raise ResynError(
            "make_trl_reward(curriculum=...) needs the `extra_info` column of the online rows"
        )
    infos = list(infos)
    curriculum.report_rows(
        [{"extra_info": infos[i]} for i in idx], [s["verifier_reward"] for s in scores]
    )
    log_metric = kwargs.get("log_metric")
    if callable(log_metric):
        for key, value in curriculum.metrics().items():
            log_metric(key, value)


trl_reward: Callable[..., list[Optional[float]]] = make_trl_reward()
"""A TRL ``GRPOTrainer`` reward function with the default weights (see :func:`make_trl_reward`)."""


def envs() -> list[dict[str, Any]]:
    """Metadata of every environment: dicts with ``id``, ``version``, ``category``,
    ``description``, ``min_difficulty``, ``max_difficulty`` and ``source``."""
    return json.loads(_resyn.envs())


def generate(env: str, seed: int, difficulty: int = 1) -> dict[str, Any]:
    """Generate the instance of ``env`` for ``seed`` at ``difficulty`` (deterministic).

    Returns a dict with ``id``, ``env``, ``env_version``, ``seed``, ``difficulty``,
    ``prompt`` (the text shown to the model), ``data`` (what the verifier needs) and
    ``reference`` (a response that verifies to 1.0), exactly as ``resyn generate`` writes it.

    Raises:
        UnknownEnvironmentError: no environment ``env``.
        InstanceError: ``difficulty`` out of the environment's range, or generation failed.
        EnvironmentUnavailableError: the environment cannot run on this machine.
    """
    return json.loads(_resyn.generate(env, int(seed), int(difficulty)))


def verify(
    instance: Union[Mapping[str, Any], str],
    response: str,
    *,
    verifier_weight: float = 1.0,
    format_weight: float = 0.0,
) -> dict[str, Any]:
    """Verify one response to an instance (a dict from :func:`generate`, or its JSON).

    Returns ``{"score", "format_ok", "reward", "correct", "reason", "detail"}``: the composed
    score, the format check, and the verifier's verdict as ``resyn verify`` prints it.

    Raises:
        InstanceError: ``instance`` does not parse.
        UnknownEnvironmentError: no environment of that id.
        EnvironmentUnavailableError: the environment cannot run on this machine.
    """
    return verify_batch([instance], [response], verifier_weight=verifier_weight,
                        format_weight=format_weight)[0]


def verify_batch(
    instances: Sequence[Union[Mapping[str, Any], str]],
    responses: Sequence[str],
    *,
    verifier_weight: float = 1.0,
    format_weight: float = 0.0,
) -> list[dict[str, Any]]:
    """:func:`verify` for many items, on all cores with the GIL released."""
    raw = _resyn.verify_batch(
        [i if isinstance(i, str) else json.dumps(i) for i in instances],
        [str(r) for r in responses],
        float(verifier_weight),
        float(format_weight),
    )
    return [json.loads(r) for r in raw]


def warm_up(envs: Optional[Sequence[str]] = None) -> int:
    """Start the sandbox workers of Python environments in the background; returns at once.

    A process's first batch over many Python environments starts a worker for each (a few
    milliseconds of CPU apiece: about a second for 400). Call this where a reward process
    starts, e.g. next to :func:`configure`, so the workers start while the first rollouts are
    generated rather than inside the first :func:`compute_score`. ``envs`` names the
    environments (ids); by default every Python and synthesized one. Native environments
    need no worker. At most the pool bound (``sandbox_workers``) are kept resident.

    Returns:
        The number of Python environments whose workers are started (or already running).

    Raises:
        UnknownEnvironmentError: an id in ``envs`` is not an environment.
    """
    return _resyn.warm_up(None if envs is None else [str(e) for e in envs])


# -- helpers -------------------------------------------------------------------------------------


def _as_list(xs: Optional[Iterable[Any]]) -> list[Any]:
    # verl passes numpy object arrays; the extension takes lists.
    if xs is None:
        raise TypeError("compute_score: solution_strs and ground_truths must both be given")
    return xs.tolist() if hasattr(xs, "tolist") else list(xs)


def _ground_truth_str(g: Any) -> str:
    if isinstance(g, str):
        return g
    if isinstance(g, bytes):
        return g.decode("utf-8")
    raise GroundTruthError(
        "ground truth must be a JSON string written by `resyn dataset build`, "
        f"got {type(g).__name__}"
    )


def _labels(kwargs: Mapping[str, Any], label_key: Optional[str], n: int) -> list[Any]:
    keys = [label_key] if label_key else ["ground_truth", "label", "reward_model"]
    for key in keys:
        col = kwargs.get(key)
        if col is None:
            continue
        col = list(col)
        if len(col) != n:
            raise ResynError(f"column {key!r} has {len(col)} entries for {n} completions")
        if key == "reward_model":
            col = [(r or {}).get("ground_truth") if isinstance(r, Mapping) else r for r in col]
        return col
    raise ResynError(
        f"no ground-truth column: expected one of {keys} among the dataset columns "
        f"{sorted(k for k in kwargs if k not in ('trainer_state', 'log_extra', 'log_metric'))}"
    )


def _message_text(m: Mapping[str, Any]) -> str:
    content = m.get("content")
    if isinstance(content, list):
        text = "".join(
            str(b.get("text", ""))
            for b in content
            if isinstance(b, Mapping) and b.get("type") == "text"
        )
    else:
        text = "" if content is None else str(content)
    for key in ("reasoning_content", "reasoning", "thinking"):
        thought = m.get(key)
        if thought and "<think>" not in text.lower():
            text = f"<think>{thought}</think>{text}"
            break
    return text


def _completion_text(c: Any) -> str:
    if isinstance(c, str):
        return c
    if isinstance(c, Mapping):
        return _message_text(c)
    return "\n".join(
        _message_text(m)
        for m in c
        if isinstance(m, Mapping) and m.get("role", "assistant") == "assistant"
    )


def configure(
    env_dirs: Optional[Sequence[Union[str, os.PathLike[str]]]] = None,
    *,
    store: Optional[Union[str, os.PathLike[str]]] = None,
    allow_weak_sandbox: Optional[bool] = None,
    sandbox_workers: Optional[int] = None,
) -> None:
    """Choose where environments come from; call before any other resyn function.

    Every argument left at ``None`` keeps what the process environment selects, the same
    rules as the ``resyn`` command:

    - ``env_dirs``: directories of Python environments; default ``RESYN_ENV_DIRS``
      (``:``-separated, as for ``resyn --env-dir``).
    - ``store``: a synthesis store (SQLite file written by ``resyn synth``) whose accepted
      environments join; it must exist. Default ``RESYN_STORE``, else ``resyn.db`` in the
      current directory when that file exists.
    - ``allow_weak_sandbox``: run Python environments even when the host cannot enforce
      the required sandbox layers; default ``RESYN_ALLOW_WEAK_SANDBOX=1``.
    - ``sandbox_workers``: the most sandbox worker processes, so the most Python modules
      resident at once (least recently used ones are evicted beyond it); default
      ``RESYN_SANDBOX_WORKERS``, else 512. Each resident module costs a few MiB (see
      BENCHMARKS.md).

    In trainers that run rewards in worker processes (verl's Ray workers), set those
    environment variables rather than calling this (and prefer an absolute ``RESYN_STORE``
    to relying on the working directory). Python and synthesized environments run in one
    process-wide sandbox worker pool shared by every thread.

    Raises:
        ResynError: resyn was already used in this process. A missing directory or store is
            reported by the first call that needs the environments.
        ValueError: ``sandbox_workers`` is not a positive integer.
    """
    if sandbox_workers is not None and (
        isinstance(sandbox_workers, bool)
        or not isinstance(sandbox_workers, int)
        or sandbox_workers < 1
    ):
        raise ValueError("sandbox_workers must be a positive integer, got %r" % (sandbox_workers,))
    _resyn.configure(
        None if env_dirs is None else [os.fspath(d) for d in env_dirs],
        None if store is None else os.fspath(store),
        None if allow_weak_sandbox is None else bool(allow_weak_sandbox),
        sandbox_workers,
    )
