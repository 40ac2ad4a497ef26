"""OpenRLHF 0.11: `resyn serve` called by OpenRLHF's own remote reward client.

OpenRLHF's rollout executor (`openrlhf.utils.agent.SingleTurnAgentExecutor`, what its vLLM
engine actors run) tokenizes the chat-templated prompt that OpenRLHF's `PromptDataset` built
from the resyn JSONL, asks the engine for a response, decodes prompt + response with special
tokens into the query, and POSTs it to `--reward.remote_url`. vLLM needs a GPU, so the engine
here is a stand-in that returns fixed response tokens; everything else is OpenRLHF's code.
"""

import asyncio
from types import SimpleNamespace

import pytest

import resyn
import support

FORMAT_WEIGHT = 0.1


@pytest.fixture(scope="module")
def reward_url(store):
    server = support.Server(
        [str(support.resyn_bin()), "serve", "--addr", "127.0.0.1:0",
         "--format-weight", str(FORMAT_WEIGHT),
         "--env-dir", str(support.PYTHON_ENVS), "--store", str(store)],
        r"http://[0-9.:]+", "stderr")
    yield server.url + "/get_reward"
    server.close()


@pytest.fixture(scope="module")
def prompt_dataset(train_rows, tokenizer):
    from openrlhf.datasets.prompts_dataset import PromptDataset

    # The flags of the docs' command line: --data.input_key prompt --data.label_key label
    # --data.apply_chat_template.
    data_args = SimpleNamespace(input_key="prompt", label_key="label", apply_chat_template=True)
    strategy = SimpleNamespace(args=SimpleNamespace(data=data_args), is_rank_0=lambda: True)
    return PromptDataset(train_rows, tokenizer, strategy)


class FixedResponseEngine:
    """Stands in for OpenRLHF's vLLM engine actor (`generate` as the executor calls it)."""

    def __init__(self, token_ids):
        self.token_ids = token_ids

    async def generate(self, prompt_token_ids, sampling_params, multi_modal_data=None):
        out = SimpleNamespace(token_ids=list(self.token_ids), finish_reason="stop", logprobs=None)
        return SimpleNamespace(outputs=[out])


def responses_for(label):
    import json

    gt = json.loads(label)
    reference = resyn.generate(gt["env"], gt["seed"], gt["difficulty"])["reference"]
    return [support.THINK + reference, reference, "<think>x</think><answer>wrong</answer>",
            "no idea"]


def want(text, label):
    d = resyn.compute_score(solution_str=text, ground_truth=label, format_weight=FORMAT_WEIGHT,
                            return_dict=True)
    return d["score"], d["verifier_reward"], d["format_ok"], d["acc"]


def execute(executor, prompt, label, text, tokenizer, max_length=4096):
    ids = tokenizer.encode(text, add_special_tokens=False) + [tokenizer.eos_token_id]
    params = SimpleNamespace(max_tokens=len(ids), logprobs=None)
    return asyncio.run(executor.execute(prompt, label, params, max_length, tokenizer,
                                        FixedResponseEngine(ids)))


@pytest.fixture(scope="module")
def single(prompt_dataset, tokenizer, reward_url):
    """Every (prompt, response) through `execute`, one request each, as in training; the
    queries OpenRLHF built are recorded for the batched test."""
    from openrlhf.utils.agent import SingleTurnAgentExecutor

    executor = SingleTurnAgentExecutor(reward_url)
    sent = []
    fetch = executor._fetch_rewards_via_http

    async def recording_fetch(queries, prompts, labels):
        sent.append((queries, prompts, labels))
        return await fetch(queries, prompts, labels)

    executor._fetch_rewards_via_http = recording_fetch
    outputs = []
    for _, prompt, label, _ in prompt_dataset:
        for text in responses_for(label):
            outputs.append((text, label, execute(executor, prompt, label, text, tokenizer)))
    return outputs, sent


def test_single_queries_score_as_resyn(single):
    outputs, sent = single
    assert len(sent) == len(outputs)  # one request per sample
    seen = set()
    for text, label, out in outputs:
        score, verifier, format_ok, acc = want(text, label)
        assert out["reward"] == [pytest.approx(score)], (text, out)
        assert out["scores"] == [pytest.approx(verifier)]
        assert out["extra_logs"] == {"format_ok": [format_ok], "correct": [acc]}
        seen.add(score)
    assert seen >= {1.0 + FORMAT_WEIGHT, 1.0, FORMAT_WEIGHT, 0.0}
    # The query is prompt + response with the chat markers, as OpenRLHF decodes it.
    query, prompt = sent[0][0][0], sent[0][1][0]
    assert query.startswith(prompt) and query.endswith("<|im_end|>")


def test_truncated_prompt_falls_back_to_the_assistant_marker(prompt_dataset, tokenizer, reward_url):
    # With a prompt longer than its budget the executor keeps only the prompt's tail, so the
    # query no longer starts with the prompt; the server finds the response after the last
    # ChatML assistant marker.
    from openrlhf.utils.agent import SingleTurnAgentExecutor

    executor = SingleTurnAgentExecutor(reward_url)
    _, prompt, label, _ = prompt_dataset[0]
    text = responses_for(label)[0]
    n_response = len(tokenizer.encode(text, add_special_tokens=False)) + 1
    out = execute(executor, prompt, label, text, tokenizer, max_length=n_response + 20)
    assert out["reward"] == [pytest.approx(want(text, label)[0])]


def test_batched_queries_sharded_over_two_servers(single, reward_url):
    from openrlhf.utils.agent import SingleTurnAgentExecutor

    outputs, sent = single
    queries = [q for s in sent for q in s[0]]
    prompts = [p for s in sent for p in s[1]]
    labels = [lb for s in sent for lb in s[2]]
    # Two URLs: OpenRLHF splits the batch into one request per server.
    executor = SingleTurnAgentExecutor([reward_url, reward_url])
    shards = asyncio.run(executor._fetch_rewards_via_http(queries, prompts, labels))
    assert len(shards) == 2
    rewards = [r for s in shards for r in s["rewards"]]
    scores = [r for s in shards for r in s["scores"]]
    assert rewards == pytest.approx([want(t, lb)[0] for t, lb, _ in outputs])
    assert scores == pytest.approx([want(t, lb)[1] for t, lb, _ in outputs])
