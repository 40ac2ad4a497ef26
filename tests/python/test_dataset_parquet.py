"""The verl parquet written by `resyn dataset build`, read back with pyarrow.

verl's RL datasets are parquet files read with `datasets`/pyarrow; its
reward path calls `compute_score(data_source, solution_str, ground_truth,
extra_info)` with `ground_truth = row["reward_model"]["ground_truth"]`, which
must be a str. These tests build a small dataset with the `resyn` binary
(RESYN_BIN, else $CARGO_TARGET_DIR/debug/resyn, else target/debug/resyn) and
check the columns and types verl expects.
"""

import json
import subprocess
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from helpers import resyn_bin

SPLITS = ("train", "validation", "test")
COLUMNS = ["data_source", "prompt", "ability", "reward_model", "extra_info"]


def build(tmp: Path, config: str) -> tuple[Path, dict]:
    cfg = tmp / "config.toml"
    cfg.write_text(config)
    out = tmp / "ds"
    run = subprocess.run(
        [str(resyn_bin()), "dataset", "build", str(cfg), "--out", str(out), "--json"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    return out, json.loads(run.stdout)


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("verifier")
    return build(
        tmp,
        "instances_per_env = 30\n[difficulty]\nmax = 4\n"
        "[split]\ntrain = 0.8\nvalidation = 0.1\ntest = 0.1\n",
    )


@pytest.fixture(scope="module")
def code_dataset(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("code")
    return build(tmp, 'reward = "code"\ninstances_per_env = 10\n[difficulty]\nmax = 3\n')


def test_columns_and_types_match_verl(dataset):
    out, _ = dataset
    string = pa.string()
    expected = pa.schema(
        [
            ("data_source", string),
            ("prompt", pa.list_(pa.struct([("role", string), ("content", string)]))),
            ("ability", string),
            ("reward_model", pa.struct([("style", string), ("ground_truth", string)])),
            (
                "extra_info",
                pa.struct(
                    [
                        ("env", string),
                        ("env_version", pa.int64()),
                        ("seed", pa.int64()),
                        ("difficulty", pa.int64()),
                        ("instance_id", string),
                        ("split", string),
                        ("index", pa.int64()),
                        ("data", string),
                    ]
                ),
            ),
        ]
    )
    for split in SPLITS:
        table = pq.read_table(out / f"{split}.parquet")
        assert table.column_names == COLUMNS
        # Field names and types (list item naming and metadata aside).
        assert table.schema.remove_metadata().equals(expected, check_metadata=False), table.schema


def test_rows_are_what_verl_reads(dataset):
    out, manifest = dataset
    total = 0
    for split in SPLITS:
        rows = pq.read_table(out / f"{split}.parquet").to_pylist()
        assert len(rows) == manifest["splits"][split]["rows"]
        for i, row in enumerate(rows):
            assert row["data_source"].startswith("resyn/")
            assert row["ability"] in {
                "constraint_satisfaction",
                "algorithmic",
                "spatial",
                "logic",
                "math",
            }
            roles = [m["role"] for m in row["prompt"]]
            assert roles == ["system", "user"]
            assert all(isinstance(m["content"], str) and m["content"] for m in row["prompt"])
            gt = row["reward_model"]["ground_truth"]
            assert isinstance(gt, str), "verl passes ground_truth through as a str"
            decoded = json.loads(gt)
            assert decoded["reward_mode"] == "verifier"
            assert decoded["env"] == row["extra_info"]["env"]
            assert isinstance(decoded["data"], dict)
            assert row["reward_model"]["style"] == "rule"
            info = row["extra_info"]
            assert info["split"] == split and info["index"] == i
            assert row["data_source"] == "resyn/" + info["env"]
            assert json.loads(info["data"]) == decoded["data"]
            assert 1 <= info["difficulty"] <= 4
        total += len(rows)
    assert total == manifest["totals"]["instances"] > 0


def test_jsonl_carries_the_same_rows(dataset):
    out, _ = dataset
    for split in SPLITS:
        table = pq.read_table(out / f"{split}.parquet").to_pylist()
        lines = [json.loads(text) for text in (out / f"{split}.jsonl").read_text().splitlines()]
        assert len(lines) == len(table)
        for row, line in zip(table, lines):
            assert line["prompt"] == row["prompt"]
            assert line["label"] == row["reward_model"]["ground_truth"]
            assert isinstance(line["label"], str)
            assert line["extra_info"] == row["extra_info"]
            assert line["data_source"] == row["data_source"]


def test_manifest_hashes_match_files(dataset):
    import hashlib

    out, manifest = dataset
    for f in manifest["files"]:
        data = (out / f["path"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == f["sha256"]
        assert len(data) == f["bytes"]


def test_pandas_view_keeps_ground_truth_a_str(dataset):
    # Older verl versions read the parquet with pandas.
    pytest.importorskip("pandas")
    out, _ = dataset
    df = pq.read_table(out / "train.parquet").to_pandas()
    assert list(df.columns) == COLUMNS
    assert all(isinstance(rm["ground_truth"], str) for rm in df["reward_model"])


def test_code_mode_ground_truth_is_a_json_string(code_dataset):
    out, _ = code_dataset
    rows = pq.read_table(out / "train.parquet").to_pylist()
    assert rows
    for row in rows:
        gt = row["reward_model"]["ground_truth"]
        assert isinstance(gt, str)
        decoded = json.loads(gt)
        assert decoded["reward_mode"] == "code"
        assert isinstance(decoded["answer"], str) and decoded["answer"]
