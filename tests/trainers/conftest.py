"""Session fixtures of the trainer tests: a synthesis store, resyn configured for it, a dataset.

Run by `scripts/test_trainers.sh` inside its virtualenv (torch, transformers, TRL, verl,
OpenRLHF, verifiers, SmolLM2); see that script.
"""

import pathlib
import sys

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

import support  # noqa: E402  (sets the offline variables before anything imports transformers)

# isort: split
import resyn  # noqa: E402


@pytest.fixture(scope="session")
def workdir(tmp_path_factory) -> pathlib.Path:
    return tmp_path_factory.mktemp("trainers")


@pytest.fixture(scope="session")
def store(workdir) -> pathlib.Path:
    return support.synth_store(workdir)


@pytest.fixture(scope="session", autouse=True)
def configured(store) -> None:
    # Once per process, before any other resyn call: Python environments (sandboxed) and
    # the synthesized environments of the store.
    resyn.configure([str(support.PYTHON_ENVS)], store=str(store))


@pytest.fixture(scope="session")
def env_ids(store):
    synth = support.synth_env_ids(store)
    assert synth, "resyn synth against the replay server accepted no environment"
    return support.NATIVE_ENVS + [support.PYTHON_ENV] + synth[:1]


@pytest.fixture(scope="session")
def dataset(workdir, env_ids, store) -> pathlib.Path:
    out = workdir / "dataset"
    support.build_dataset(out, env_ids, store)
    return out


@pytest.fixture(scope="session")
def train_rows(dataset):
    return support.read_jsonl(dataset / "train.jsonl")


@pytest.fixture(scope="session")
def tokenizer():
    return support.load_tokenizer()
