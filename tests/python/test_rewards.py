"""The `resyn` Python package, called the way each trainer calls it.

Run after `pip install .` at the repository root: `python -m pytest tests/python`.
"""

import json
import os
import pathlib
import subprocess
import sys
import threading
import time

import pytest

import resyn

ENV = "tower_of_hanoi"
PY_ENVS = pathlib.Path(__file__).resolve().parents[2] / "envs" / "python"


def run_fresh(code, env_dirs=PY_ENVS, timeout=600, **env):
    """Run `code` in a fresh interpreter (resyn's environment sources are fixed at first use)
    with RESYN_ENV_DIRS=`env_dirs` and the extra environment variables `env`."""
    full = dict(os.environ, RESYN_ENV_DIRS=str(env_dirs), **env)
    return subprocess.run([sys.executable, "-c", code], env=full, capture_output=True,
                          text=True, timeout=timeout)


def ground_truth(inst, mode="verifier"):
    """The ground-truth string `resyn dataset build` writes for `inst`."""
    if mode == "code":
        answer = inst["reference"].split("<answer>")[1].split("</answer>")[0].strip()
        return json.dumps({"reward_mode": "code", "id": inst["id"], "env": inst["env"],
                           "env_version": inst["env_version"], "answer": answer})
    return json.dumps({"reward_mode": "verifier", "id": inst["id"], "env": inst["env"],
                       "env_version": inst["env_version"], "seed": inst["seed"],
                       "difficulty": inst["difficulty"], "data": inst["data"]})


@pytest.fixture(scope="module")
def inst():
    return resyn.generate(ENV, 7, 3)


def think(resp):
    return "<think>move the smaller disks first</think>\n" + resp


# -- verl --------------------------------------------------------------------------------------


def test_verl_single_call(inst):
    # As verl's NaiveRewardManager / DAPORewardManager / reward loop call it.
    extra = {"index": 0, "split": "train", "num_turns": None, "rollout_reward_scores": {}}
    kw = dict(data_source="resyn/" + ENV, ground_truth=ground_truth(inst), extra_info=extra)
    assert resyn.compute_score(solution_str=inst["reference"], **kw) == 1.0
    assert resyn.compute_score(solution_str="<answer>A->C</answer>", **kw) == 0.0
    assert resyn.compute_score(solution_str="", **kw) == 0.0
    # Positional, as the documented signature allows.
    assert resyn.compute_score("resyn/" + ENV, inst["reference"], ground_truth(inst), None) == 1.0


def test_verl_reward_kwargs_and_dict(inst):
    # custom_reward_function.reward_kwargs arrive merged into the call's kwargs,
    # together with keys verl adds (ignored).
    gt = ground_truth(inst)
    s = resyn.compute_score(data_source="x", solution_str=think(inst["reference"]), ground_truth=gt,
                            extra_info={}, format_weight=0.1, reward_router_address=None)
    assert s == pytest.approx(1.1)
    d = resyn.compute_score(data_source="x", solution_str=inst["reference"], ground_truth=gt,
                            extra_info={}, format_weight=0.1, return_dict=True)
    assert d == {"score": 1.0, "acc": 1.0, "verifier_reward": 1.0, "format_ok": 0.0, "reason": "ok"}
    bad = resyn.compute_score(data_source="x", solution_str=think("<answer>A->C</answer>"),
                              ground_truth=gt, return_dict=True, format_weight=0.1)
    assert bad["score"] == pytest.approx(0.1) and bad["acc"] == 0.0 and set(bad) == set(d)


def test_verl_batch_call(inst):
    # As verl's BatchRewardManager calls it: plural keywords, lists (data_sources is a
    # numpy array there), extra_infos carrying rollout_reward_scores.
    insts = [resyn.generate(ENV, s, 2) for s in range(50)]
    sols = [i["reference"] if k % 3 else "<answer>A->B</answer>" for k, i in enumerate(insts)]
    kw = dict(data_sources=["resyn/" + ENV] * 50, solution_strs=sols,
              ground_truths=[ground_truth(i) for i in insts],
              extra_infos=[{"rollout_reward_scores": {}} for _ in insts])
    scores = resyn.compute_score(**kw)
    assert isinstance(scores, list) and len(scores) == 50
    for k, (s, i) in enumerate(zip(scores, insts)):
        assert s == (1.0 if k % 3 else resyn.verify(i, "<answer>A->B</answer>")["score"])
    dicts = resyn.compute_score(**kw, return_dict=True)
    assert [d["score"] for d in dicts] == scores
    np = pytest.importorskip("numpy")
    kw["data_sources"] = np.array(kw["data_sources"], dtype=object)
    kw["ground_truths"] = np.array(kw["ground_truths"], dtype=object)
    assert resyn.compute_score(**kw) == scores


def test_code_mode_ground_truth(inst):
    gt = ground_truth(inst, "code")

    def score(response: str) -> float:
        return resyn.compute_score(data_source="x", solution_str=response, ground_truth=gt)

    assert score(inst["reference"]) == 1.0
    assert score("<answer>A->C</answer>") == 0.0


def test_bad_ground_truth_raises(inst):
    for bad in ["not json", "{}", '{"reward_mode": "magic"}', None, 42]:
        with pytest.raises(resyn.GroundTruthError):
            resyn.compute_score(
                data_source="x", solution_str="<answer>1</answer>", ground_truth=bad
            )
    alien = json.loads(ground_truth(inst))
    alien["env"] = "no_such_env"
    with pytest.raises(resyn.UnknownEnvironmentError, match="no_such_env"):
        resyn.compute_score(data_source="x", solution_str="r", ground_truth=json.dumps(alien))
    # In a batch the error names the item.
    with pytest.raises(resyn.GroundTruthError, match="item 1"):
        resyn.compute_score(data_sources=["x", "x"], solution_strs=["a", "b"],
                            ground_truths=[ground_truth(inst), "{"], extra_infos=[{}, {}])
    assert issubclass(resyn.GroundTruthError, resyn.ResynError)
    with pytest.raises(resyn.ResynError, match="finite"):
        resyn.compute_score(data_source="x", solution_str="r", ground_truth=ground_truth(inst),
                            format_weight=float("nan"))


# -- TRL ---------------------------------------------------------------------------------------


def trl_kwargs(labels, n):
    # What GRPOTrainer._calculate_rewards passes besides prompts/completions.
    return dict(completion_ids=[[1, 2, 3]] * n, label=labels, trainer_state=object(),
                log_extra=lambda *a, **k: None, log_metric=lambda *a, **k: None)


def test_trl_conversational(inst):
    prompts = [[{"role": "user", "content": inst["prompt"]}]] * 4
    completions = [
        [{"role": "assistant", "content": inst["reference"]}],
        [{"role": "assistant", "content": "<answer>A->C</answer>"}],
        [{"role": "assistant", "content": [{"type": "text", "text": inst["reference"]}]}],
        [{"role": "assistant", "content": inst["reference"]}],
    ]
    labels = [ground_truth(inst)] * 3 + [None]
    out = resyn.trl_reward(prompts=prompts, completions=completions, **trl_kwargs(labels, 4))
    assert out == [1.0, 0.0, 1.0, None]


def test_trl_standard_format_weights_and_reasoning_field(inst):
    f = resyn.make_trl_reward(format_weight=0.5, label_key="ground_truth")
    gt = ground_truth(inst)
    out = f(prompts=[inst["prompt"]] * 2, completions=[think(inst["reference"]), inst["reference"]],
            ground_truth=[gt, gt], trainer_state=None)
    assert out == [1.5, 1.0]
    # A chat parser that split the reasoning into its own field keeps the format credit.
    msg = [{"role": "assistant", "reasoning_content": "plan", "content": inst["reference"]}]
    assert f(prompts=[[]], completions=[msg], ground_truth=[gt]) == [1.5]
    assert f.__name__ == "resyn_reward"
    # TRL logs each reward function under its __name__: parts of the reward get their own names.
    fmt = resyn.make_trl_reward(verifier_weight=0.0, format_weight=1.0, name="resyn_format")
    assert fmt.__name__ == "resyn_format"
    assert fmt(prompts=[""] * 2, completions=[think("<answer>x</answer>"), inst["reference"]],
               label=[gt, gt]) == [1.0, 0.0]
    # verl-style rows: the ground truth inside reward_model.
    rm = [{"style": "rule", "ground_truth": gt}]
    assert resyn.trl_reward(prompts=[""], completions=[inst["reference"]], reward_model=rm) == [1.0]
    with pytest.raises(resyn.ResynError, match="ground-truth column"):
        resyn.trl_reward(prompts=[""], completions=["x"], answer=["1"])


# -- environments ------------------------------------------------------------------------------


def test_envs_generate_verify_round_trip():
    metas = resyn.envs()
    assert len(metas) >= 18 and {"id", "version", "category", "min_difficulty"} <= set(metas[0])
    for m in metas:
        i = resyn.generate(m["id"], 11, m["min_difficulty"])
        assert i == resyn.generate(m["id"], 11, m["min_difficulty"])  # deterministic
        v = resyn.verify(i, i["reference"])
        assert v["correct"] and v["score"] == 1.0 and v["reason"] == "ok", (m["id"], v)
        assert resyn.verify(json.dumps(i), "")["reason"] == "no_answer"
    with pytest.raises(resyn.UnknownEnvironmentError):
        resyn.generate("no_such_env", 0, 1)
    with pytest.raises(resyn.InstanceError, match="difficulty"):
        resyn.generate(ENV, 0, 99)
    with pytest.raises(resyn.InstanceError):
        resyn.verify({"id": "x"}, "r")


# -- GIL ---------------------------------------------------------------------------------------


def test_batch_scoring_releases_the_gil():
    """While one thread is inside a long `compute_score` batch, another thread runs Python.

    The switch interval is raised so that a thread holding the GIL is never asked to drop it:
    if the batch held the GIL, the other thread could not run until the batch had returned
    and the main thread had read the flag.
    """
    insts = [resyn.generate(ENV, s, 6) for s in range(200)]
    gts = [ground_truth(i) for i in insts] * 100
    sols = [i["reference"] for i in insts] * 100
    started, ran = threading.Event(), threading.Event()

    def other():
        started.wait()
        total = sum(range(1000))  # some Python bytecode
        if total:
            ran.set()

    t = threading.Thread(target=other)
    old = sys.getswitchinterval()
    sys.setswitchinterval(1000.0)
    try:
        t.start()
        started.set()
        scores = resyn.compute_score(data_sources=None, solution_strs=sols, ground_truths=gts)
        ran_during_batch = ran.is_set()
    finally:
        sys.setswitchinterval(old)
        t.join()
    assert scores == [1.0] * len(sols)
    assert ran_during_batch, "the other thread did not run while the batch was scored"


# -- Python environments (sandboxed) -----------------------------------------------------------


def test_python_environments_through_the_sandbox_pool():
    """In a fresh process (the environment sources are fixed at first use): load the bundled
    Python environments from RESYN_ENV_DIRS and score a batch over several of them."""
    out = run_fresh(
        "import json, resyn\n"
        "py = [m for m in resyn.envs() if m['source'] == 'python'][:4]\n"
        "assert len(py) == 4, py\n"
        "insts = [resyn.generate(m['id'], s, m['min_difficulty']) for m in py for s in range(3)]\n"
        "gts = [json.dumps({'reward_mode': 'verifier', **{k: i[k] for k in "
        "('id', 'env', 'env_version', 'seed', 'difficulty', 'data')}}) for i in insts]\n"
        "sols = [i['reference'] if k % 2 == 0 else '<answer>surely wrong</answer>'\n"
        "        for k, i in enumerate(insts)]\n"
        "scores = resyn.compute_score(data_sources=None, solution_strs=sols, ground_truths=gts)\n"
        "assert [s for s in scores[::2]] == [1.0] * len(scores[::2]), scores\n"
        "assert all(s == 0.0 for s in scores[1::2]), scores\n"
        "try:\n"
        "    resyn.configure(['/nonexistent'])\n"
        "    raise SystemExit('configure after first use must fail')\n"
        "except resyn.ResynError:\n"
        "    pass\n"
        "print('ok', len(insts))\n"
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok 12"


def test_an_environment_that_cannot_run_raises_never_scores_zero():
    """A machine whose sandbox cannot start (here: no such interpreter) raises
    EnvironmentUnavailableError from compute_score, verl's batch form, verify and generate: a
    reward of 0 would pass for the response's fault. Native environments still score."""
    made = run_fresh(
        "import json, resyn\n"
        "i = resyn.generate('base_conversion', 3, 2)\n"
        "print(json.dumps([i, {'reward_mode': 'verifier', **{k: i[k] for k in "
        "('id', 'env', 'env_version', 'seed', 'difficulty', 'data')}}]))\n"
    )
    assert made.returncode == 0, made.stderr
    inst, gt = json.loads(made.stdout)
    code = (
        "import json, sys, resyn\n"
        "inst, gt = json.loads(sys.argv[1])\n"
        "gt = json.dumps(gt)\n"
        "calls = [\n"
        "    lambda: resyn.compute_score('resyn', inst['reference'], gt),\n"
        "    lambda: resyn.compute_score(data_sources=None, solution_strs=[inst['reference']],\n"
        "                                ground_truths=[gt]),\n"
        "    lambda: resyn.verify(inst, inst['reference']),\n"
        "]\n"
        "for call in calls:\n"
        "    try:\n"
        "        print('scored', call())\n"
        "    except resyn.EnvironmentUnavailableError as e:\n"
        "        assert isinstance(e, resyn.ResynError)\n"
        "        print('unavailable:', e)\n"
        "try:\n"
        "    resyn.generate('base_conversion', 1, 1)\n"
        "except resyn.EnvironmentUnavailableError as e:\n"
        "    print('unavailable:', e)\n"
        "native = resyn.generate('tower_of_hanoi', 1, 1)\n"
        "print('native', resyn.verify(native, native['reference'])['score'])\n"
    )
    full = dict(os.environ, RESYN_ENV_DIRS=str(PY_ENVS), RESYN_PYTHON="/nonexistent/python3")
    out = subprocess.run([sys.executable, "-c", code, json.dumps([inst, gt])], env=full,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.strip().splitlines()
    assert len(lines) == 5, out.stdout
    for line in lines[:4]:
        assert line.startswith("unavailable: "), line
        assert "environment `base_conversion` cannot run on this machine" in line, line
        assert "/nonexistent/python3" in line, line
    assert lines[4] == "native 1.0", out.stdout


PIDS_CGROUP = pathlib.Path("/sys/fs/cgroup/pids")


@pytest.mark.skipif(not os.access(PIDS_CGROUP, os.W_OK),
                    reason="needs a writable cgroup-v1 pids controller (root)")
def test_a_process_limit_raises_never_scores_zero():
    """Under a process limit (a cgroup's pids.max, as in a container) that lets the sandbox
    start but not a worker per module, scoring raises EnvironmentUnavailableError for the
    forks refused: the responses, all correct, never score 0."""
    group = PIDS_CGROUP / ("resyn-test-%d" % os.getpid())
    group.mkdir()
    try:
        (group / "pids.max").write_text("30")
        # References of every bundled Python environment, made without a limit ...
        made = run_fresh(
            "import json, resyn\n"
            "refs, gts = [], []\n"
            "for m in resyn.envs():\n"
            "    if m['source'] == 'python':\n"
            "        i = resyn.generate(m['id'], 1, m['min_difficulty'])\n"
            "        refs.append(i['reference'])\n"
            "        gts.append(json.dumps({'reward_mode': 'verifier', **{k: i[k] for k in "
            "('id', 'env', 'env_version', 'seed', 'difficulty', 'data')}}))\n"
            "print(json.dumps([refs, gts]))\n", timeout=300)
        assert made.returncode == 0, made.stderr
        # ... and scored in one process whose budget (threads included) runs out.
        code = (
            "import json, sys, resyn\n"
            "refs, gts = json.loads(sys.stdin.read())\n"
            "try:\n"
            "    scores = resyn.compute_score(data_sources=None, solution_strs=refs,\n"
            "                                 ground_truths=gts)\n"
            "    print('scored', scores)\n"
            "except resyn.EnvironmentUnavailableError as e:\n"
            "    print('unavailable:', e)\n"
        )

        def enter():
            (group / "cgroup.procs").write_text(str(os.getpid()))

        env = dict(os.environ, RESYN_ENV_DIRS=str(PY_ENVS),
                   RESYN_PYTHON=os.path.realpath(sys.executable))
        out = subprocess.run([sys.executable, "-c", code], env=env, input=made.stdout,
                             capture_output=True, text=True, timeout=300, preexec_fn=enter)
        assert out.returncode == 0, out.stderr
        assert out.stdout.startswith("unavailable: "), out.stdout
        assert "cannot run on this machine" in out.stdout, out.stdout
        assert "Resource temporarily unavailable" in out.stdout, out.stdout
    finally:
        for _ in range(100):
            try:
                group.rmdir()
                break
            except OSError:
                time.sleep(0.05)


def test_missing_env_dir_is_a_clear_error(tmp_path):
    code = "import resyn\ntry:\n    resyn.envs()\nexcept resyn.ResynError as e:\n    print(e)\n"
    out = run_fresh(code, env_dirs=tmp_path / "missing", timeout=120)
    assert "does not exist" in out.stdout, out


def test_the_sandbox_pool_size_is_configurable():
    """configure(sandbox_workers=N) and RESYN_SANDBOX_WORKERS bound the pool; a pool of one
    worker still scores every environment (evicting); bad values are errors."""
    code = (
        "import json, resyn\n"
        "try:\n"
        "    resyn.configure(sandbox_workers=0)\n"
        "    raise SystemExit('0 workers accepted')\n"
        "except ValueError:\n"
        "    pass\n"
        "resyn.configure(sandbox_workers=1)\n"
        "py = [m for m in resyn.envs() if m['source'] == 'python'][:3]\n"
        "insts = [resyn.generate(m['id'], 1, m['min_difficulty']) for m in py]\n"
        "gts = [json.dumps({'reward_mode': 'verifier', **{k: i[k] for k in "
        "('id', 'env', 'env_version', 'seed', 'difficulty', 'data')}}) for i in insts]\n"
        "print(resyn.compute_score(data_sources=None,"
        " solution_strs=[i['reference'] for i in insts], ground_truths=gts))\n"
    )
    out = run_fresh(code)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[1.0, 1.0, 1.0]", out.stdout

    code = "import resyn\ntry:\n    resyn.envs()\nexcept resyn.ResynError as e:\n    print(e)\n"
    out = run_fresh(code, timeout=120, RESYN_SANDBOX_WORKERS="lots")
    assert "RESYN_SANDBOX_WORKERS" in out.stdout, out


def test_warm_up_starts_workers_in_the_background():
    """warm_up() returns at once, counting the Python environments; their workers appear
    as processes (descendants of this process) without any call; native and unknown ids."""
    code = (
        "import os, time, resyn\n"
        "def python_descendants():\n"
        "    kids = {}\n"
        "    for p in os.listdir('/proc'):\n"
        "        if p.isdigit():\n"
        "            try:\n"
        "                stat = open('/proc/%s/stat' % p).read()\n"
        "            except OSError:\n"
        "                continue\n"
        "            comm = stat[stat.index('(') + 1:stat.rindex(')')]\n"
        "            ppid = int(stat[stat.rindex(')') + 2:].split()[1])\n"
        "            kids.setdefault(ppid, []).append((int(p), comm))\n"
        "    todo, n = [os.getpid()], 0\n"
        "    while todo:\n"
        "        for pid, comm in kids.get(todo.pop(), []):\n"
        "            n += comm.startswith('python')\n"
        "            todo.append(pid)\n"
        "    return n\n"
        "py = [m['id'] for m in resyn.envs() if m['source'] == 'python']\n"
        "assert resyn.warm_up(['tower_of_hanoi']) == 0\n"
        "try:\n"
        "    resyn.warm_up(['no_such_env'])\n"
        "    raise SystemExit('an unknown id was accepted')\n"
        "except resyn.UnknownEnvironmentError:\n"
        "    pass\n"
        "assert resyn.warm_up() == len(py), py\n"
        "deadline = time.monotonic() + 300\n"
        "while python_descendants() < len(py) + 1:  # the workers and their zygote\n"
        "    assert time.monotonic() < deadline, python_descendants()\n"
        "    time.sleep(0.05)\n"
        "print('ok', len(py))\n"
    )
    out = run_fresh(code)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok %d" % len(list(PY_ENVS.glob("[a-z]*.py")))
