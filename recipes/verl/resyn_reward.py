"""verl custom reward function: resyn's rewards.

Point verl at it (the recipe script does)::

    custom_reward_function.path=recipes/verl/resyn_reward.py
    custom_reward_function.name=compute_score
    +custom_reward_function.reward_kwargs.format_weight=0.1
    +custom_reward_function.reward_kwargs.return_dict=True

verl calls ``compute_score(data_source=, solution_str=, ground_truth=, extra_info=)`` per
sample (naive/dapo reward managers, reward loop) or with the plural keywords per batch
(``reward_model.reward_manager=batch``); ``resyn.compute_score`` handles both, and
``reward_kwargs`` arrive as keyword arguments. Requires ``pip install .`` of the resyn
repository on every node that computes rewards.
"""

import resyn


def compute_score(data_source=None, solution_str=None, ground_truth=None, extra_info=None, **kwargs):
    """Delegate to :func:`resyn.compute_score` (see its docstring for the contract)."""
    return resyn.compute_score(data_source, solution_str, ground_truth, extra_info, **kwargs)
