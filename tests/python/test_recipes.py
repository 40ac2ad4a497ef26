"""The recipes are well-formed. tests/trainers runs them inside the trainers themselves
(scripts/test_trainers.sh); these checks need only the resyn package."""

import pathlib
import py_compile
import shutil
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
SCRIPTS = sorted((ROOT / "recipes").rglob("*.sh"))
MODULES = sorted((ROOT / "recipes").rglob("*.py"))


def test_recipes_exist():
    assert {p.parent.name for p in SCRIPTS + MODULES} >= {"verl", "trl"}


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_shell_syntax(script):
    bash = shutil.which("bash")
    assert bash
    subprocess.run([bash, "-n", str(script)], check=True)


@pytest.mark.parametrize("module", MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_python_compiles(module, tmp_path):
    py_compile.compile(str(module), cfile=str(tmp_path / "out.pyc"), doraise=True)


def test_verl_reward_module_calls_resyn():
    # The module verl loads (custom_reward_function.path) is importable and delegates to resyn.
    import importlib.util

    import resyn

    path = ROOT / "recipes" / "verl" / "resyn_reward.py"
    spec = importlib.util.spec_from_file_location("resyn_reward", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    inst = resyn.generate("tower_of_hanoi", 1, 1)
    import json

    gt = json.dumps({"reward_mode": "verifier", **{k: inst[k] for k in
                    ("id", "env", "env_version", "seed", "difficulty", "data")}})
    assert mod.compute_score(data_source="resyn/tower_of_hanoi", solution_str=inst["reference"],
                             ground_truth=gt, extra_info={}) == 1.0


def test_verl_online_config_opens_as_a_curriculum():
    import resyn

    c = resyn.Curriculum(ROOT / "recipes" / "verl" / "online.toml")
    row = c.draw(1)[0]
    assert row["extra_info"]["split"] == "online" and row["label"]
