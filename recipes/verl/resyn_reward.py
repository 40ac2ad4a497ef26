"""verl custom reward function: resyn's rewards.

Point verl 0.9.1 at it (the recipe script does)::

    reward.custom_reward_function.path=recipes/verl/resyn_reward.py
    reward.custom_reward_function.name=compute_score
    +reward.custom_reward_function.reward_kwargs.format_weight=0.1
    +reward.custom_reward_function.reward_kwargs.return_dict=True

verl's reward loop calls ``compute_score(data_source=, solution_str=, ground_truth=,
extra_info=)`` per sample (naive and dapo managers); the legacy ``BatchRewardManager`` calls it
with the plural keywords per batch. ``resyn.compute_score`` handles both, and ``reward_kwargs``
arrive as keyword arguments. Requires ``pip install .`` of the resyn repository on every node
that computes rewards.
"""

import resyn


def compute_score(data_source=None, solution_str=None, ground_truth=None, extra_info=None,
                  **kwargs):
    """Delegate to :func:`resyn.compute_score` (see its docstring for the contract)."""
    return resyn.compute_score(data_source, solution_str, ground_truth, extra_info, **kwargs)
