"""The dataset every trainer test reads mixes the three sources of environments."""

import collections

import support


def sources(rows):
    import resyn

    by_id = {e["id"]: e["source"] for e in resyn.envs()}
    return collections.Counter(by_id[r["extra_info"]["env"]] for r in rows)


def test_dataset_mixes_native_python_and_synthesized_rows(train_rows):
    counts = sources(train_rows)
    assert counts["native"] > 0 and counts["python"] > 0 and counts["synth"] > 0, counts


def test_every_reference_scores_one(train_rows):
    # The references the TRL test adds to its groups verify, in every environment.
    import resyn

    refs = support.reference_completions(train_rows)
    for row in train_rows:
        for text in refs[support.user_text(row["prompt"])]:
            assert resyn.compute_score(solution_str=text, ground_truth=row["label"]) == 1.0
