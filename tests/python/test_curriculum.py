"""`resyn.Curriculum`: online rows, outcomes back, decisions, state, and a killed process
that resumes the same instance stream.

Run after `pip install .` at the repository root: `python -m pytest tests/python`.
"""

import hashlib
import json
import signal
import subprocess
import sys

import pytest

import resyn
from helpers import ROOT

G = 4  # responses per prompt (the config's group_size)
ENVS = ["basic_arithmetic", "maze", "tower_of_hanoi"]


def write_config(path, envs=ENVS, seed=5, extra=""):
    path.write_text(
        f"seed = {seed}\n{extra}"
        f"[select]\nids = {json.dumps(envs)}\n"
        "[prompt]\nsuffix = \"\\n(online)\"\n"
        f"[curriculum]\nmin_samples = 8\ngroup_size = {G}\n"
    )
    return path


@pytest.fixture
def config(tmp_path):
    return write_config(tmp_path / "online.toml")


def rewards_of(row):
    """G deterministic, mixed rewards for a row's responses (from its instance id)."""
    h = int(hashlib.sha256(row["extra_info"]["instance_id"].encode()).hexdigest(), 16)
    return [float((h >> k) & 1) for k in range(G)]


def report(c, rows):
    return c.report_rows([r for r in rows for _ in range(G)],
                         [x for r in rows for x in rewards_of(r)])


def test_rows_are_dataset_rows_the_reward_functions_score(config):
    c = resyn.Curriculum(config)
    rows = c.draw(12)
    assert [r["extra_info"]["index"] for r in rows] == list(range(12))
    assert len({r["extra_info"]["instance_id"] for r in rows}) == 12
    for row in rows:
        info = row["extra_info"]
        assert info["split"] == "online" and info["env"] in ENVS
        assert row["data_source"] == f"resyn/{info['env']}"
        inst = resyn.generate(info["env"], info["seed"], info["difficulty"])
        assert inst["id"] == info["instance_id"] and json.loads(info["data"]) == inst["data"]
        system, user = row["prompt"]
        assert system["role"] == "system" and "<answer>" in system["content"]
        assert user == {"role": "user", "content": inst["prompt"] + "\n(online)"}
        # The label is a verifier-mode ground truth: resyn's reward functions score it.
        label = row["label"]
        assert resyn.compute_score(solution_str=inst["reference"], ground_truth=label) == 1.0
        assert resyn.compute_score(solution_str="<answer>?</answer>", ground_truth=label) == 0.0


def test_reports_move_the_controller_and_are_logged(tmp_path, config):
    c = resyn.Curriculum(config)
    rows = c.draw(8)
    # Every response right: the environments' windows fill and their difficulty goes up.
    summary = c.report_rows([r for r in rows for _ in range(G)], [1.0] * (G * len(rows)))
    assert summary["accepted"] == G * len(rows) and summary["groups_closed"] == len(rows)
    assert summary["decisions"] >= 1
    decisions = c.take_decisions()
    assert len(decisions) == summary["decisions"] and c.take_decisions() == []
    up = [d for d in decisions if d["action"] == "up"]
    assert up and all(d["accuracy"] == 1.0 and d["to"] > d["from"] for d in up)
    env = {e["env"]: e for e in c.snapshot()}[up[0]["env"]]
    assert env["center"] == up[-1]["to"] and env["stats"]["outcomes"] >= 8
    assert all(level >= 2 for level, _ in env["distribution"])
    m = c.metrics()
    assert m[f"curriculum/{up[0]['env']}/center"] == env["center"]
    assert m["curriculum/mixed_group_fraction"] == 0.0 and m["curriculum/position"] == 8

    # With a log file, decisions go there as JSON Lines.
    log = tmp_path / "decisions.jsonl"
    logged = resyn.Curriculum(config, log=log)
    report(logged, logged.draw(16))
    lines = [json.loads(x) for x in log.read_text().splitlines()]
    assert lines and [d["seq"] for d in lines] == list(range(len(lines)))
    assert logged.take_decisions() == []


def test_evaluation_rows_are_not_reported(config):
    c = resyn.Curriculum(config)
    row = c.draw(1)[0]
    built = json.loads(json.dumps(row))
    built["extra_info"]["split"] = "validation"
    assert c.report_rows([row, built], [1.0, 1.0])["accepted"] == 1


def test_save_load_and_state_continue_the_same_stream(tmp_path, config):
    a = resyn.Curriculum(config)
    for _ in range(3):
        report(a, a.draw(6))
    a.draw(2)  # drawn, not reported: open groups are part of the state
    path = tmp_path / "state.json"
    a.save(path)
    b = resyn.Curriculum.load(config, path)
    c = resyn.Curriculum(config)
    c.load_state(a.state())
    assert b.state() == c.state() == a.state() == path.read_text().rstrip("\n")
    for _ in range(3):
        rows = [x.draw(6) for x in (a, b, c)]
        assert rows[0] == rows[1] == rows[2]
        for x, r in zip((a, b, c), rows):
            report(x, r)
    assert a.state() == b.state() == c.state()
    assert a.take_decisions() == b.take_decisions() == c.take_decisions() != []


def test_bad_input_raises_naming_the_problem(tmp_path, config):
    bad = tmp_path / "bad.toml"
    bad.write_text("[curriculum]\ntarget_low = 0.9\n")
    with pytest.raises(resyn.CurriculumError, match=r"bad\.toml: field `curriculum\.target_low`"):
        resyn.Curriculum(bad)
    code = write_config(tmp_path / "code.toml", extra='reward = "code"\n')
    with pytest.raises(resyn.CurriculumError, match="field `reward`"):
        resyn.Curriculum(code)
    with pytest.raises(OSError, match="missing.toml"):
        resyn.Curriculum(tmp_path / "missing.toml")
    with pytest.raises(FileNotFoundError):
        resyn.Curriculum.load(config, tmp_path / "none.json")

    c = resyn.Curriculum(config)
    row = c.draw(1)[0]
    info = row["extra_info"]
    before = c.state()
    with pytest.raises(resyn.CurriculumError, match=r"outcomes\[1\]: reward 1.5"):
        c.report([{"env": info["env"], "difficulty": 1, "reward": 0.0},
                  {"env": info["env"], "difficulty": 1, "reward": 1.5}])
    with pytest.raises(resyn.CurriculumError, match=r"outcomes\[0\]: unknown environment"):
        c.report([{"env": "nope", "difficulty": 1, "reward": 0.0}])
    with pytest.raises(resyn.CurriculumError, match=r"outcomes\[0\]"):
        c.report([{"env": info["env"], "reward": 0.0}])
    with pytest.raises(ValueError):
        c.report_rows([row], [1.0, 0.0])
    # A rejected report changes nothing.
    assert c.state() == before

    # A state saved with another seed does not resume this config.
    path = tmp_path / "state.json"
    c.save(path)
    other = write_config(tmp_path / "other.toml", seed=6)
    with pytest.raises(resyn.CurriculumError, match="another \\[curriculum\\] section, seed"):
        resyn.Curriculum(other, state=path)
    with pytest.raises(resyn.CurriculumError, match="not a curriculum state"):
        c.load_state("{}")


def test_trl_reward_function_reports_what_it_scores(config):
    # Called as TRL's GRPOTrainer calls reward functions: every column as a list with one
    # entry per completion, plus `log_metric`.
    c = resyn.Curriculum(config)
    rows = c.draw(2)
    insts = [resyn.generate(r["extra_info"]["env"], r["extra_info"]["seed"],
                            r["extra_info"]["difficulty"]) for r in rows]
    completions = [[{"role": "assistant", "content": text}]
                   for inst in insts
                   for text in (inst["reference"], "<think>x</think><answer>?</answer>",
                                inst["reference"], "no answer")]
    expanded = [r for r in rows for _ in range(G)]
    logged = {}
    fn = resyn.make_trl_reward(format_weight=0.5, curriculum=c)
    scores = fn(prompts=[r["prompt"] for r in expanded], completions=completions,
                completion_ids=[[0]] * len(completions), label=[r["label"] for r in expanded],
                extra_info=[r["extra_info"] for r in expanded],
                log_metric=lambda k, v: logged.__setitem__(k, v))
    assert scores == [1.0, 0.5, 1.0, 0.0] * 2
    stats = {e["env"]: e["stats"] for e in c.snapshot()}
    assert sum(s["outcomes"] for s in stats.values()) == 8
    # The verifier's rewards were reported, not the format-weighted scores.
    assert sum(s["reward_sum"] for s in stats.values()) == 4.0
    assert sum(s["groups"] for s in stats.values()) == 2
    assert logged == c.metrics()


CHILD = r"""
import hashlib, json, sys
import resyn

config, state, steps, env_dir = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
resyn.configure([env_dir])
c = resyn.Curriculum(config, state=state)
print(json.dumps({"start": c.position}), flush=True)
for _ in range(steps):
    position = c.position
    rows = c.draw(4)
    rewards = []
    for r in rows:
        h = int(hashlib.sha256(r["extra_info"]["instance_id"].encode()).hexdigest(), 16)
        rewards += [float((h >> k) & 1) for k in range(4)]
    c.report_rows([r for r in rows for _ in range(4)], rewards)
    c.save(state)
    ids = [r["extra_info"]["instance_id"] for r in rows]
    print(json.dumps({"position": position, "ids": ids}), flush=True)
"""


def child(config, state, steps):
    return subprocess.Popen(
        [sys.executable, "-c", CHILD, str(config), str(state), str(steps),
         str(ROOT / "envs" / "python")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def records(lines):
    return {r["position"]: r["ids"] for r in map(json.loads, lines) if "position" in r}


def test_killed_process_resumes_the_same_instance_stream(tmp_path):
    # A Python (sandboxed) environment among native ones: every source resumes alike.
    config = write_config(
        tmp_path / "online.toml", envs=["base_conversion", "maze", "tower_of_hanoi"]
    )
    steps = 12
    ref = child(config, tmp_path / "reference.json", steps)
    out, err = ref.communicate(timeout=300)
    assert ref.returncode == 0, err
    reference = records(out.splitlines())
    assert len(reference) == steps

    state = tmp_path / "state.json"
    run = child(config, state, 10_000)
    seen = []
    for line in run.stdout:
        seen.append(line)
        if len(seen) == 1 + 4:  # the start line, then four steps saved
            run.send_signal(signal.SIGKILL)
            break
    run.wait(timeout=60)
    assert run.returncode == -signal.SIGKILL
    killed = records(seen)
    assert killed == {p: reference[p] for p in killed}

    resumed = child(config, state, 4)
    out, err = resumed.communicate(timeout=300)
    assert resumed.returncode == 0, err
    lines = out.splitlines()
    start = json.loads(lines[0])["start"]
    # The state is the last one saved before the kill: at least the fourth step's.
    assert start >= max(killed) + 4 and start in reference
    got = records(lines)
    assert list(got) == [p for p in sorted(reference) if p >= start][:4]
    assert got == {p: reference[p] for p in got}
