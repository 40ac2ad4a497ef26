"""prime-rl / verifiers 0.4: resyn's taskset package (`recipes/verifiers`, id `resyn-env`)
loaded by verifiers' plugin loader and scored by verifiers' own rollout scoring.

A rollout ends with `Rollout.close()`, which runs the task's stop hooks during generation and
`Task.score(trace, runtime)` on the finished trace; here the traces carry fixed replies (the
harness would need a model endpoint), and scoring is verifiers' own `Task.score`.
"""

import asyncio
import json

import pytest

import resyn
import support

FORMAT_WEIGHT = 0.1


@pytest.fixture(scope="module")
def env(dataset):
    from resyn_env import load_environment

    return load_environment(str(dataset), format_weight=FORMAT_WEIGHT)


def test_load_environment_is_a_single_turn_chat_env(env, train_rows):
    import verifiers.v1 as vf
    from verifiers.v1.harnesses.null import NullHarness

    assert isinstance(env, vf.SingleAgentEnv)
    assert env.config.taskset.id == "resyn-env"
    # The default harness is verifiers' tool-less chat loop (no code execution).
    assert [type(h) for h in env._harnesses.values()] == [NullHarness]
    tasks = list(env.taskset)
    assert [t.data.label for t in tasks] == [r["label"] for r in train_rows]
    assert [t.data.prompt for t in tasks] == [support.user_text(r["prompt"]) for r in train_rows]


def trace_for(task, reply):
    import verifiers.v1 as vf
    from verifiers.v1.graph import MessageNode
    from verifiers.v1.types import UserMessage

    return vf.Trace(
        agent=vf.AgentInfo(config=vf.AgentConfig()),
        task=vf.TraceTask(type=type(task).__name__, data=task.data),
        nodes=[
            MessageNode(parent=None, message=UserMessage(content=task.data.prompt), sampled=False),
            MessageNode(parent=0, message=reply, sampled=True),
        ],
    )


def replies(task):
    from verifiers.v1.types import AssistantMessage

    gt = json.loads(task.data.label)
    reference = resyn.generate(gt["env"], gt["seed"], gt["difficulty"])["reference"]
    return [
        AssistantMessage(content=support.THINK + reference),
        AssistantMessage(content=reference),
        # A chat parser that split the reasoning off keeps the format credit.
        AssistantMessage(content=reference, reasoning_content="worked it out"),
        AssistantMessage(content="<think>x</think><answer>wrong</answer>"),
        AssistantMessage(content="I give up."),
    ]


def test_verifiers_scoring_equals_resyn(env):
    seen = set()

    async def score_all():
        for task in env.taskset:
            for reply in replies(task):
                trace = trace_for(task, reply)
                (stop,) = task.hooks("stop")
                assert await stop(trace)  # single turn: done after the first reply
                await task.score(trace)
                text = reply.content if reply.reasoning_content is None else \
                    f"<think>{reply.reasoning_content}</think>{reply.content}"
                want = resyn.compute_score(solution_str=text, ground_truth=task.data.label,
                                           format_weight=FORMAT_WEIGHT, return_dict=True)
                assert trace.rewards["verifier"].score == want["verifier_reward"]
                assert trace.rewards["format"].score == want["format_ok"]
                weights = (trace.rewards["verifier"].weight, trace.rewards["format"].weight)
                assert weights == (1.0, FORMAT_WEIGHT)
                assert trace.reward == pytest.approx(want["score"])
                seen.add(want["score"])

    asyncio.run(score_all())
    assert seen >= {1.0 + FORMAT_WEIGHT, 1.0, FORMAT_WEIGHT, 0.0}


def test_bad_dataset_rows_name_the_line(tmp_path):
    from resyn_env import load_environment

    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"prompt": [], "label": "x"}\n')
    with pytest.raises(Exception, match=r"bad\.jsonl:1: not a resyn dataset row"):
        list(load_environment(str(bad)).taskset)
