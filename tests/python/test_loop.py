"""The paper's loop end to end (issue 12): `resyn synth` writes environments into a store,
`resyn dataset build` turns native, `envs/python` and synthesized environments into a dataset,
and every row scores the same through every reward path a trainer uses: verl's
`compute_score` (single and batch), the TRL reward function, and `resyn serve`'s `POST /verify`.

The LLM is the replay server of recorded replies (never the network). Scoring runs in a fresh
process that finds the store and the Python environments the way a trainer's reward worker
does: through `RESYN_STORE` and `RESYN_ENV_DIRS`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request

import pytest

from helpers import ROOT, Server, replay_server_bin, resyn_bin

# (verifier_weight, format_weight): the default, and with a format bonus.
WEIGHTS = [(1.0, 0.0), (1.0, 0.5)]

# Runs in a fresh interpreter: reads rows (JSON on stdin), builds the responses for each row,
# scores them through compute_score (single and batch) and the TRL reward function, and
# prints {"responses": [[kind, text], ...] per row, "scores": {path: {weights: [...]}}}.
SCORER = r"""
import json, sys
import resyn

rows = json.load(sys.stdin)
weights = [tuple(w) for w in json.loads(sys.argv[1])]
responses = []
for row in rows:
    gt = json.loads(row["label"])
    inst = resyn.generate(gt["env"], gt["seed"], gt["difficulty"])
    assert inst["id"] == gt["id"], (inst["id"], gt)
    ref = inst["reference"]
    cut = ref[: ref.lower().rindex("</answer>")]
    prompt = row["prompt"][-1]["content"]
    responses.append([
        ["reference", ref],
        ["reference_after_reasoning", "<think>checked</think>\n" + ref],
        ["empty", ""],
        ["garbage", "<answer>surely wrong</answer>"],
        ["prompt_echo", prompt],
        ["truncated_reference", cut],
        ["reference_inside_reasoning", "<think>" + ref + "</think>"],
    ])

labels = [row["label"] for row, rs in zip(rows, responses) for _ in rs]
texts = [t for rs in responses for _, t in rs]
scores = {"compute_score": {}, "compute_score_batch": {}, "trl": {}}
for vw, fw in weights:
    key = f"{vw},{fw}"
    scores["compute_score"][key] = [
        resyn.compute_score("resyn", t, g, {}, verifier_weight=vw, format_weight=fw)
        for g, t in zip(labels, texts)
    ]
    scores["compute_score_batch"][key] = resyn.compute_score(
        data_sources=["resyn"] * len(texts), solution_strs=texts, ground_truths=labels,
        verifier_weight=vw, format_weight=fw,
    )
    trl = resyn.make_trl_reward(verifier_weight=vw, format_weight=fw)
    prompts = [row["prompt"] for row, rs in zip(rows, responses) for _ in rs]
    completions = [[{"role": "assistant", "content": t}] for t in texts]
    scores["trl"][key] = trl(prompts=prompts, completions=completions, label=labels)
print(json.dumps({"responses": responses, "scores": scores}))
"""


def run(args, **kw):
    out = subprocess.run([str(a) for a in args], capture_output=True, text=True, **kw)
    assert out.returncode == 0, f"{args}: {out.stderr[-4000:]}"
    return out


@pytest.fixture(scope="module")
def loop(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("loop")
    store = tmp / "resyn.db"
    keywords = tmp / "keywords.txt"
    examples = tmp / "examples"
    examples.mkdir()
    replay = Server(
        [str(replay_server_bin()), "--write-keywords", str(keywords)],
        r"http://\S+", "stdout",
    )
    try:
        run([resyn_bin(), "synth", "--base-url", replay.url, "--model", "fixture-model",
             "--target", "100", "--concurrency", "4", "--keywords", keywords,
             "--no-builtin-keywords", "--examples", examples, "--repair-rounds", "1",
             "--call-timeout", "3", "--retry-base-ms", "20", "--validation-seeds", "6",
             "--store", store, "--json"], timeout=600)
    finally:
        replay.close()

    config = tmp / "dataset.toml"
    config.write_text(
        # No solver endpoint above: the synthesized environments are uncalibrated.
        "instances_per_env = 3\n[select]\ninclude_uncalibrated = true\n[difficulty]\nmax = 5\n"
        "[split]\ntrain = 0.8\nvalidation = 0.2\ntest = 0.0\n"
    )
    out = tmp / "ds"
    built = run([resyn_bin(), "--env-dir", ROOT / "envs" / "python", "--store", store,
                 "dataset", "build", config, "--out", out, "--json"], timeout=900)
    manifest = json.loads(built.stdout)
    rows = [json.loads(line) for split in ("train", "validation")
            for line in (out / f"{split}.jsonl").read_text().splitlines()]

    env = dict(os.environ, RESYN_STORE=str(store), RESYN_ENV_DIRS=str(ROOT / "envs" / "python"))
    scored = run([sys.executable, "-c", SCORER, json.dumps(WEIGHTS)],
                 input=json.dumps(rows), env=env, timeout=900)
    result = json.loads(scored.stdout)

    serve = Server([str(resyn_bin()), "serve", "--addr", "127.0.0.1:0", "--store", str(store),
                    "--env-dir", str(ROOT / "envs" / "python")],
                   r"http://[0-9.:]+", "stderr")
    try:
        labels = [row["label"] for row, rs in zip(rows, result["responses"]) for _ in rs]
        texts = [t for rs in result["responses"] for _, t in rs]
        result["scores"]["serve"] = {}
        for vw, fw in WEIGHTS:
            body = json.dumps({
                "items": [{"ground_truth": g, "response": t} for g, t in zip(labels, texts)],
                "reward": {"verifier_weight": vw, "format_weight": fw},
            }).encode()
            req = urllib.request.Request(serve.url + "/verify", data=body,
                                         headers={"Content-Type": "application/json"})
            with urllib.request.urlopen(req, timeout=600) as resp:
                results = json.load(resp)["results"]
            result["scores"]["serve"][f"{vw},{fw}"] = [r["score"] for r in results]
    finally:
        serve.close()
    return manifest, rows, result, store


def test_the_dataset_mixes_all_three_sources(loop):
    manifest, rows, _, _ = loop
    sources = {e["source"] for e in manifest["environments"] if e["rows"] > 0}
    assert sources == {"native", "python", "synth"}, manifest["environments"]
    synth = [e for e in manifest["environments"] if e["source"] == "synth"]
    assert len(synth) == 5, synth
    synth_ids = {e["id"] for e in synth}
    assert any(json.loads(r["label"])["env"] in synth_ids for r in rows)


def test_every_reward_path_agrees_on_every_row(loop):
    _, rows, result, _ = loop
    scores = result["scores"]
    n = sum(len(rs) for rs in result["responses"])
    for key in scores["compute_score"]:
        base = scores["compute_score"][key]
        assert len(base) == n
        for path in ("compute_score_batch", "trl", "serve"):
            other = scores[path][key]
            diff = [i for i, (a, b) in enumerate(zip(base, other)) if a != b]
            assert len(other) == n and not diff, f"{path} at weights {key}: {diff[:5]}"


def test_references_score_one_and_wrong_answers_zero(loop):
    _, rows, result, _ = loop
    default = result["scores"]["compute_score"]["1.0,0.0"]
    bonus = result["scores"]["compute_score"]["1.0,0.5"]
    kinds = [kind for rs in result["responses"] for kind, _ in rs]
    envs = [
        json.loads(row["label"])["env"] for row, rs in zip(rows, result["responses"]) for _ in rs
    ]
    right = {"reference", "reference_after_reasoning"}
    bad = [(envs[i], kinds[i], s) for i, s in enumerate(default)
           if s != (1.0 if kinds[i] in right else 0.0)]
    assert not bad, bad[:10]
    # The format bonus goes to the one response shaped <think>...</think><answer>...</answer>.
    for i, s in enumerate(bonus):
        if kinds[i] == "reference_after_reasoning":
            assert s == 1.5, (envs[i], s)
        elif kinds[i] == "reference":
            assert s == 1.0, (envs[i], s)


def test_the_python_package_finds_the_store_like_the_cli(loop, tmp_path):
    """configure(store=...), RESYN_STORE and resyn.db in the working directory all select the
    store; a named store that does not exist is an error naming it, not an empty list."""
    *_, store = loop
    env = {k: v for k, v in os.environ.items() if k not in ("RESYN_STORE", "RESYN_ENV_DIRS")}
    count = "import resyn; print(sum(m['source'] == 'synth' for m in resyn.envs()))"

    def synth_envs(code, cwd=tmp_path, **extra):
        out = run([sys.executable, "-c", code], env=dict(env, **extra), cwd=cwd, timeout=300)
        return out.stdout.strip()

    assert synth_envs(f"import resyn; resyn.configure(store={str(store)!r}); {count}") == "5"
    assert synth_envs(count, RESYN_STORE=str(store)) == "5"
    assert synth_envs(count, cwd=store.parent) == "5"  # the default resyn.db
    assert synth_envs(count) == "0"  # no store here: native only, no error
    missing = tmp_path / "missing.db"
    code = (f"import resyn\nresyn.configure(store={str(missing)!r})\n"
            "try:\n    resyn.envs()\nexcept resyn.ResynError as e:\n    print(e)\n")
    msg = synth_envs(code)
    assert "does not exist" in msg and str(missing) in msg, msg
    assert not missing.exists()
