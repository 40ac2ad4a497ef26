//! End-to-end tests of the dataset builder.
#![allow(clippy::unwrap_used)]

mod fake;

use std::collections::{BTreeMap, HashSet};
use std::fs;
use std::path::Path;

use arrow_array::{Array, ListArray, RecordBatch, StringArray, StructArray};
use arrow_schema::DataType;
use fake::{Fake, registry};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use resyn_core::{
    BoxError, Category, Environment, GroundTruth, Registry, Source, probes::reference_answer,
};
use resyn_data::{
    AnswerRequest, AnswerSource, DatasetBuilder, DatasetConfig, Error, Format, Manifest,
    normalized_prompt_hash,
};
use serde_json::Value;

use resyn_test::TempDir;

fn config(toml: &str, out: &Path) -> DatasetConfig {
    let mut c = DatasetConfig::from_toml_str(toml).unwrap();
    c.output.dir = out.to_path_buf();
    c
}

fn build(c: DatasetConfig, reg: &Registry) -> resyn_data::BuildReport {
    DatasetBuilder::new(c, reg).build().unwrap()
}

fn manifest(dir: &Path) -> Manifest {
    Manifest::from_json(&fs::read_to_string(dir.join("manifest.json")).unwrap()).unwrap()
}

fn jsonl(path: &Path) -> Vec<Value> {
    fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn read_parquet(path: &Path) -> Vec<RecordBatch> {
    let f = fs::File::open(path).unwrap();
    ParquetRecordBatchReaderBuilder::try_new(f)
        .unwrap()
        .build()
        .unwrap()
        .map(|b| b.unwrap())
        .collect()
}

fn four_envs() -> Registry {
    registry(vec![
        Fake::new("alpha", Category::Logic),
        Fake::new("beta", Category::Math),
        Fake::new("gamma", Category::Math).source(Source::Python),
        Fake::new("delta", Category::Spatial),
    ])
}

const SMALL: &str = "instances_per_env = 50\n[split]\ntrain = 0.8\nvalidation = 0.1\ntest = 0.1\n";

#[test]
fn same_config_gives_identical_bytes() {
    let t = TempDir::new("determinism");
    let reg = four_envs();
    let a = t.join("a");
    build(config(SMALL, &a), &reg);
    let first: BTreeMap<String, Vec<u8>> = fs::read_dir(&a)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                fs::read(e.path()).unwrap(),
            )
        })
        .collect();
    assert_eq!(first.len(), 7, "{:?}", first.keys());
    // Rebuild into the same directory, with other thread/chunk/hold-back
    // settings: every file, the manifest included, is byte-identical.
    DatasetBuilder::new(config(SMALL, &a), &reg)
        .threads(1)
        .chunk(7)
        .hold_back(3)
        .build()
        .unwrap();
    for (name, bytes) in &first {
        assert_eq!(&fs::read(a.join(name)).unwrap(), bytes, "{name} differs");
    }
    // Into another directory: the data files are identical too.
    let b = t.join("b");
    build(config(SMALL, &b), &reg);
    for ext in ["parquet", "jsonl"] {
        for split in ["train", "validation", "test"] {
            let name = format!("{split}.{ext}");
            assert_eq!(&fs::read(b.join(&name)).unwrap(), &first[&name], "{name}");
        }
    }
    // The manifest's hashes are the files' hashes.
    for f in manifest(&a).files {
        let bytes = &first[&f.path];
        assert_eq!(f.bytes, bytes.len() as u64);
        use sha2::Digest;
        let sha: String = sha2::Sha256::digest(bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(f.sha256, sha, "{}", f.path);
    }
    // A different seed gives a different dataset.
    let c = t.join("c");
    build(config(&format!("seed = 9\n{SMALL}"), &c), &reg);
    assert_ne!(
        fs::read(c.join("train.jsonl")).unwrap(),
        first["train.jsonl"]
    );
}

#[test]
fn splits_are_disjoint_and_counted() {
    let t = TempDir::new("splits");
    // Low diversity: 30 distinct prompts per level for 50 requested instances.
    let mut lowdiv = Fake::new("lowdiv", Category::Logic);
    lowdiv.distinct = Some(7);
    let reg = registry(vec![lowdiv, Fake::new("beta", Category::Math)]);
    let out = t.join("ds");
    let rep = build(config(SMALL, &out), &reg);
    let m = &rep.manifest;
    let mut seen = HashSet::new();
    let mut ids = HashSet::new();
    let mut total = 0;
    for split in ["train", "validation", "test"] {
        let rows = jsonl(&out.join(format!("{split}.jsonl")));
        assert_eq!(rows.len() as u64, m.splits[&split.parse_split()].rows);
        for (i, r) in rows.iter().enumerate() {
            assert_eq!(r["extra_info"]["split"], split);
            assert_eq!(r["extra_info"]["index"], i as u64);
            let user = r["prompt"].as_array().unwrap().last().unwrap()["content"]
                .as_str()
                .unwrap();
            assert!(
                seen.insert(normalized_prompt_hash(user)),
                "duplicate prompt across splits: {user}"
            );
            assert!(ids.insert(r["extra_info"]["instance_id"].as_str().unwrap().to_string()));
            total += 1;
        }
    }
    assert_eq!(total, m.totals.instances);
    let low = m.environments.iter().find(|e| e.id == "lowdiv").unwrap();
    // Prompts of lowdiv depend on seed % 7 and the difficulty only.
    assert!(low.duplicates_dropped > 0);
    assert!(low.rows < 50, "{low:?}");
    assert!(
        low.generated > 50,
        "refills should have been tried: {low:?}"
    );
    assert_eq!(m.totals.duplicates_dropped, low.duplicates_dropped);
    let beta = m.environments.iter().find(|e| e.id == "beta").unwrap();
    assert_eq!((beta.rows, beta.duplicates_dropped), (50, 0));
    assert_eq!(
        beta.by_difficulty.values().copied().collect::<Vec<_>>(),
        vec![5; 10]
    );
    // Fractions are honoured to within one row overall.
    let n = m.totals.instances as f64;
    for (s, f) in [("train", 0.8), ("validation", 0.1), ("test", 0.1)] {
        let got = m.splits[&s.parse_split()].rows as f64;
        assert!((got - f * n).abs() <= 1.0, "{s}: {got} of {n}");
    }
}

trait ParseSplit {
    fn parse_split(&self) -> resyn_data::Split;
}

impl ParseSplit for str {
    fn parse_split(&self) -> resyn_data::Split {
        serde_json::from_value(Value::String(self.to_string())).unwrap()
    }
}

#[test]
fn max_environments_spreads_a_fixed_budget() {
    let t = TempDir::new("maxenv");
    let mut envs = Vec::new();
    for (i, cat) in [Category::Logic, Category::Math, Category::Spatial]
        .into_iter()
        .enumerate()
    {
        for j in 0..4 {
            envs.push(Fake::new(&format!("e{i}{j}"), cat));
        }
    }
    let reg = registry(envs);
    let pick = |k: usize, seed: u64| {
        let out = t.join(format!("k{k}-s{seed}"));
        let toml = format!("seed = {seed}\ntotal_instances = 120\nmax_environments = {k}\n");
        let m = build(config(&toml, &out), &reg).manifest;
        assert_eq!(m.totals.instances, 120, "k={k}");
        let ids: Vec<String> = m.environments.iter().map(|e| e.id.clone()).collect();
        assert_eq!(ids.len(), k);
        let per: Vec<u64> = m.environments.iter().map(|e| e.rows).collect();
        assert!(
            per.iter()
                .all(|&r| r == 120 / k as u64 || r == 120 / k as u64 + 1),
            "{per:?}"
        );
        ids
    };
    let three = pick(3, 0);
    // Round-robin over categories: one of each.
    let cats: HashSet<char> = three.iter().map(|id| id.chars().nth(1).unwrap()).collect();
    assert_eq!(cats.len(), 3, "{three:?}");
    assert_eq!(pick(3, 0), three, "deterministic");
    let six = pick(6, 0);
    assert_eq!(
        &six[..3],
        &three[..],
        "a larger K extends the smaller choice"
    );
    assert_eq!(pick(12, 0).len(), 12);
    let other: Vec<Vec<String>> = (1..6).map(|s| pick(3, s)).collect();
    assert!(
        other.iter().any(|o| *o != three),
        "the seed changes the choice"
    );
}

#[test]
fn failing_environments_are_excluded_with_reasons() {
    let t = TempDir::new("exclude");
    let mut bad = Fake::new("bad_ref", Category::Logic);
    bad.bad_reference_from = Some(30);
    let mut err = Fake::new("gen_err", Category::Math);
    err.error_from = Some(10);
    let mut pan = Fake::new("panics", Category::Math);
    pan.panics = true;
    let narrow = Fake::new("narrow", Category::Spatial).range(1, 3);
    let reg = registry(vec![
        bad,
        err,
        pan,
        narrow,
        Fake::new("good", Category::Math),
    ]);
    let toml = "instances_per_env = 40\n[difficulty]\nmin = 5\n";
    let small = build(config(toml, &t.join("a")), &reg);
    let m = &small.manifest;
    assert_eq!(small.restarts, 0);
    assert_eq!(
        m.environments
            .iter()
            .map(|e| e.id.as_str())
            .collect::<Vec<_>>(),
        ["good"]
    );
    let reason = |id: &str| m.excluded.iter().find(|x| x.id == id).unwrap().clone();
    let b = reason("bad_ref");
    assert_eq!(b.reference_failures, 10);
    assert!(
        b.reason.contains("10 of 40 reference answers"),
        "{}",
        b.reason
    );
    let g = reason("gen_err");
    assert_eq!(g.generation_errors, 30);
    assert!(g.reason.contains("fake failure"), "{}", g.reason);
    assert!(reason("panics").reason.contains("panicked"));
    assert!(reason("narrow").reason.contains("supports difficulty 1-3"));
    assert_eq!(m.totals.excluded_environments, 4);
    assert_eq!(m.totals.instances, 40);
    // Failing after rows were released (hold-back of 8 < 30) restarts the
    // build without the environment: same bytes, one restart per such env.
    let late = DatasetBuilder::new(config(toml, &t.join("b")), &reg)
        .hold_back(8)
        .chunk(8)
        .build()
        .unwrap();
    assert_eq!(late.restarts, 2, "bad_ref and gen_err fail late");
    assert_eq!(late.manifest.excluded.len(), 4);
    for f in ["train.parquet", "train.jsonl", "test.jsonl"] {
        assert_eq!(
            fs::read(t.join("a").join(f)).unwrap(),
            fs::read(t.join("b").join(f)).unwrap(),
            "{f}"
        );
    }
}

#[test]
fn uncalibrated_synthesized_environments_need_an_opt_in() {
    let t = TempDir::new("uncalibrated");
    let reg = registry(vec![
        Fake::new("calibrated", Category::Logic).synthesized(true),
        Fake::new("raw", Category::Logic).synthesized(false),
        Fake::new("native", Category::Math),
    ]);
    let ids =
        |m: &Manifest| -> Vec<String> { m.environments.iter().map(|e| e.id.clone()).collect() };
    let toml = "instances_per_env = 10\n";
    let default = build(config(toml, &t.join("a")), &reg).manifest;
    assert_eq!(ids(&default), ["calibrated", "native"]);
    assert_eq!(default.excluded.len(), 1);
    assert_eq!(default.excluded[0].id, "raw");
    assert!(
        default.excluded[0].reason.contains("include_uncalibrated"),
        "{}",
        default.excluded[0].reason
    );
    let opt_in = format!("{toml}[select]\ninclude_uncalibrated = true\n");
    let all = build(config(&opt_in, &t.join("b")), &reg).manifest;
    assert_eq!(ids(&all), ["calibrated", "native", "raw"]);
    assert!(all.excluded.is_empty());
    // Online generation draws from the same environments.
    let online = |toml: &str| {
        resyn_data::online_registry(&config(toml, &t.join("c")), &reg)
            .map(|r| r.metas().into_iter().map(|m| m.id).collect::<Vec<_>>())
    };
    assert_eq!(online(toml).unwrap(), ["calibrated", "native"]);
    assert_eq!(online(&opt_in).unwrap(), ["calibrated", "native", "raw"]);
    let only_raw = "[select]\nids = [\"raw\"]\n";
    let err = online(only_raw).unwrap_err().to_string();
    assert!(err.contains("include_uncalibrated"), "{err}");
}

#[test]
fn excluded_environments_do_not_leave_dedup_entries() {
    // `twin_bad` and `twin_ok` share prompts (same id prefix is not in the
    // prompt here: both render `[twin]`). If the failing one ran first and
    // its prompts stayed in the dedup set, `twin_ok` would lose rows.
    struct Renamed(Fake, resyn_core::EnvMeta);
    impl Environment for Renamed {
        fn meta(&self) -> &resyn_core::EnvMeta {
            &self.1
        }
        fn generate(&self, seed: u64, d: u8) -> resyn_core::Result<resyn_core::Instance> {
            let mut i = self.0.generate(seed, d)?;
            i.env = self.1.id.clone();
            Ok(i)
        }
        fn verify(&self, i: &resyn_core::Instance, r: &str) -> resyn_core::Verdict {
            self.0.verify(i, r)
        }
    }
    let mk = |id: &str, bad: bool| {
        let mut f = Fake::new("twin", Category::Logic);
        if bad {
            f.bad_reference_from = Some(39);
        }
        let mut meta = f.meta().clone();
        meta.id = id.to_string();
        std::sync::Arc::new(Renamed(f, meta)) as std::sync::Arc<dyn Environment>
    };
    let mut reg = Registry::new();
    reg.register(mk("a_twin_bad", true)).unwrap();
    reg.register(mk("b_twin_ok", false)).unwrap();
    let t = TempDir::new("dedup-rollback");
    let m = build(config("instances_per_env = 40", &t.join("ds")), &reg).manifest;
    assert_eq!(m.excluded[0].id, "a_twin_bad");
    let ok = &m.environments[0];
    assert_eq!(
        (ok.id.as_str(), ok.rows, ok.duplicates_dropped),
        ("b_twin_ok", 40, 0)
    );
}

#[test]
fn an_excluded_environment_shifts_later_quotas_with_many_small_environments() {
    // 103 instances over 4 slots: slots 0-2 get 26, slot 3 gets 25. The
    // failing environment frees its slot, so `d_last` becomes slot 2 and
    // gets 26, not the 25 the build would plan if everything passed (the
    // look-ahead prepares each environment's first round on that
    // assumption, and must not be trusted when it is wrong).
    let mut bad = Fake::new("b_fails", Category::Math);
    bad.error_from = Some(3);
    let reg = registry(vec![
        Fake::new("a_first", Category::Logic),
        bad,
        Fake::new("c_mid", Category::Logic),
        Fake::new("d_last", Category::Spatial),
    ]);
    let toml = "total_instances = 103\nrefill_rounds = 0\n";
    let t = TempDir::new("quota-shift");
    let ahead = build(config(toml, &t.join("a")), &reg).manifest;
    let rows: Vec<(&str, u64)> = ahead
        .environments
        .iter()
        .map(|e| (e.id.as_str(), e.rows))
        .collect();
    assert_eq!(rows, [("a_first", 26), ("c_mid", 26), ("d_last", 26)]);
    assert_eq!(ahead.excluded[0].id, "b_fails");
    // Chunks of one request leave nothing to prepare ahead: same bytes.
    DatasetBuilder::new(config(toml, &t.join("b")), &reg)
        .chunk(1)
        .build()
        .unwrap();
    for f in [
        "train.parquet",
        "train.jsonl",
        "validation.jsonl",
        "test.jsonl",
    ] {
        assert_eq!(
            fs::read(t.join("a").join(f)).unwrap(),
            fs::read(t.join("b").join(f)).unwrap(),
            "{f}"
        );
    }
}

#[test]
fn code_mode_ground_truth_is_the_reference_answer() {
    let t = TempDir::new("code");
    let reg = resyn_envs::registry();
    let env_id = "tower_of_hanoi";
    let toml = format!(
        "reward = \"code\"\ninstances_per_env = 12\n[select]\nids = [\"{env_id}\"]\n[difficulty]\nmax = 4\n[output]\nformats = [\"parquet\", \"jsonl\"]\n"
    );
    let out = t.join("ds");
    build(config(&toml, &out), &reg);
    let env = reg.get(env_id).unwrap();
    let mut n = 0;
    for split in ["train", "validation", "test"] {
        for row in jsonl(&out.join(format!("{split}.jsonl"))) {
            let label = row["label"].as_str().unwrap();
            let gt: Value = serde_json::from_str(label).unwrap();
            assert_eq!(gt["reward_mode"], "code");
            let ei = &row["extra_info"];
            let inst = env
                .generate(
                    ei["seed"].as_u64().unwrap(),
                    ei["difficulty"].as_u64().unwrap() as u8,
                )
                .unwrap();
            assert_eq!(gt["answer"], reference_answer(&inst));
            assert_eq!(gt["id"], inst.id);
            let truth = GroundTruth::from_json(label).unwrap();
            assert!(truth.score(&reg, &inst.reference).unwrap().correct);
            let spaced = format!(
                "<think>ok</think><answer>  {}  </answer>",
                reference_answer(&inst).to_lowercase()
            );
            assert!(
                truth.score(&reg, &spaced).unwrap().correct,
                "canonical match"
            );
            assert!(!truth.score(&reg, "<answer>A->B</answer>").unwrap().correct);
            n += 1;
        }
    }
    assert_eq!(n, 12);
}

#[test]
fn verifier_mode_ground_truth_rebuilds_the_instance() {
    let t = TempDir::new("verifier");
    let reg = resyn_envs::registry();
    let out = t.join("ds");
    let toml = "instances_per_env = 10\n[select]\nids = [\"tower_of_hanoi\"]\n[difficulty]\nmix = { 2 = 1.0, 3 = 4.0 }\n";
    let m = build(config(toml, &out), &reg).manifest;
    assert_eq!(
        m.environments[0].by_difficulty,
        BTreeMap::from([(2, 2), (3, 8)])
    );
    let env = reg.get("tower_of_hanoi").unwrap();
    for row in jsonl(&out.join("train.jsonl")) {
        let truth = GroundTruth::from_json(row["label"].as_str().unwrap()).unwrap();
        let inst = truth.to_instance().unwrap();
        let full = env.generate(inst.seed, inst.difficulty).unwrap();
        assert_eq!(inst.data, full.data);
        assert_eq!(inst.id, full.id);
        assert!(truth.score(&reg, &full.reference).unwrap().correct);
        assert_eq!(row["prompt"][0]["role"], "system");
        assert_eq!(row["prompt"][1]["content"], full.prompt);
        assert_eq!(row["data_source"], "resyn/tower_of_hanoi");
        assert_eq!(row["ability"], "algorithmic");
        let data: Value =
            serde_json::from_str(row["extra_info"]["data"].as_str().unwrap()).unwrap();
        assert_eq!(data, full.data);
    }
}

#[test]
fn parquet_has_the_verl_schema_and_the_jsonl_rows() {
    let t = TempDir::new("parquet");
    let reg = four_envs();
    let out = t.join("ds");
    let toml = format!(
        "{SMALL}[prompt]\nsystem = \"\"\nprefix = \"P: \"\nsuffix = \" :S\"\n[output]\nrow_group_size = 16\n"
    );
    build(config(&toml, &out), &reg);
    let batches = read_parquet(&out.join("train.parquet"));
    let schema = batches[0].schema();
    assert_eq!(schema.as_ref(), resyn_data::verl_schema().as_ref());
    let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    assert_eq!(
        names,
        [
            "data_source",
            "prompt",
            "ability",
            "reward_model",
            "extra_info"
        ]
    );
    assert!(matches!(schema.field(1).data_type(), DataType::List(_)));
    // Row groups hold at most row_group_size rows.
    let meta = ParquetRecordBatchReaderBuilder::try_new(
        fs::File::open(out.join("train.parquet")).unwrap(),
    )
    .unwrap()
    .metadata()
    .clone();
    assert!(meta.num_row_groups() > 1);
    assert!(meta.row_groups().iter().all(|g| g.num_rows() <= 16));
    let rows = jsonl(&out.join("train.jsonl"));
    let mut i = 0;
    for b in &batches {
        let ds = b.column(0).as_any().downcast_ref::<StringArray>().unwrap();
        let prompt = b.column(1).as_any().downcast_ref::<ListArray>().unwrap();
        let rm = b.column(3).as_any().downcast_ref::<StructArray>().unwrap();
        let gt = rm
            .column_by_name("ground_truth")
            .unwrap()
            .as_any()
            .downcast_ref::<StringArray>()
            .unwrap();
        for r in 0..b.num_rows() {
            let j = &rows[i];
            assert_eq!(ds.value(r), j["data_source"]);
            assert_eq!(gt.value(r), j["label"]);
            let msgs = prompt.value(r);
            let msgs = msgs.as_any().downcast_ref::<StructArray>().unwrap();
            assert_eq!(msgs.len(), 1, "no system message when system is empty");
            let content = msgs
                .column_by_name("content")
                .unwrap()
                .as_any()
                .downcast_ref::<StringArray>()
                .unwrap();
            assert_eq!(content.value(0), j["prompt"][0]["content"]);
            assert!(content.value(0).starts_with("P: [") && content.value(0).ends_with(" :S"));
            i += 1;
        }
    }
    assert_eq!(i, rows.len());
}

#[test]
fn a_failed_build_leaves_the_previous_output() {
    let t = TempDir::new("atomic");
    let reg = four_envs();
    let out = t.join("ds");
    build(config(SMALL, &out), &reg);
    let before: Vec<(String, Vec<u8>)> = ["manifest.json", "train.parquet", "test.jsonl"]
        .iter()
        .map(|f| (f.to_string(), fs::read(out.join(f)).unwrap()))
        .collect();
    // Every environment fails: the build errors after it started writing.
    let mut bad = Fake::new("alpha", Category::Logic);
    bad.bad_reference_from = Some(5);
    let failing = registry(vec![bad]);
    let e = DatasetBuilder::new(config(SMALL, &out), &failing)
        .build()
        .unwrap_err();
    assert!(matches!(e, Error::Empty(_)), "{e}");
    assert!(e.to_string().contains("alpha"), "{e}");
    // llm_answer without an answer source, or with a failing one.
    let llm = format!("reward = \"llm_answer\"\ninstances_per_env = 50\n{LLM}");
    let e = DatasetBuilder::new(config(&llm, &out), &reg)
        .build()
        .unwrap_err();
    assert!(matches!(e, Error::Answers(_)), "{e}");
    let e = DatasetBuilder::new(config(&llm, &out), &reg)
        .answers(&FailingAnswers)
        .build()
        .unwrap_err();
    assert!(e.to_string().contains("endpoint down"), "{e}");
    for (f, bytes) in &before {
        assert_eq!(&fs::read(out.join(f)).unwrap(), bytes, "{f} changed");
    }
    assert_eq!(t.names(), ["ds"], "no staging directory left behind");
    // A directory that is not a dataset is never replaced.
    let home = t.join("home");
    fs::create_dir(&home).unwrap();
    fs::write(home.join("notes.txt"), "mine").unwrap();
    let e = DatasetBuilder::new(config(SMALL, &home), &reg)
        .build()
        .unwrap_err();
    assert!(matches!(e, Error::RefuseOverwrite(_)), "{e}");
    assert_eq!(fs::read_to_string(home.join("notes.txt")).unwrap(), "mine");
}

#[test]
fn selection_filters_and_unknown_ids_name_the_field() {
    let t = TempDir::new("select");
    let reg = four_envs();
    let out = t.join("ds");
    let m = build(
        config(
            "instances_per_env = 5\n[select]\ncategories = [\"math\"]\nsources = [\"native\"]",
            &out,
        ),
        &reg,
    )
    .manifest;
    assert_eq!(
        m.environments
            .iter()
            .map(|e| e.id.as_str())
            .collect::<Vec<_>>(),
        ["beta"]
    );
    let m = build(
        config(
            "instances_per_env = 5\n[select]\nexclude = [\"beta\", \"gamma\"]",
            &out,
        ),
        &reg,
    )
    .manifest;
    assert_eq!(
        m.environments
            .iter()
            .map(|e| e.id.as_str())
            .collect::<Vec<_>>(),
        ["alpha", "delta"]
    );
    let e = DatasetBuilder::new(config("[select]\nids = [\"alpha\", \"nope\"]", &out), &reg)
        .build()
        .unwrap_err();
    assert!(
        e.to_string().contains("field `select.ids[1]`") && e.to_string().contains("nope"),
        "{e}"
    );
    let e = DatasetBuilder::new(
        config("[select]\ncategories = [\"constraint_satisfaction\"]", &out),
        &reg,
    )
    .build()
    .unwrap_err();
    assert!(matches!(e, Error::NoEnvironments(_)), "{e}");
}

#[test]
fn default_toml_equals_the_embedded_defaults_and_documents_every_field() {
    let path = resyn_test::repo_path("configs/default.toml");
    let text = fs::read_to_string(&path).unwrap();
    assert_eq!(
        DatasetConfig::from_path(&path).unwrap(),
        DatasetConfig::default()
    );
    // Every field of the defaults is set explicitly in the file...
    let file: toml::Table = text.parse().unwrap();
    let defaults = toml::Table::try_from(DatasetConfig::default()).unwrap();
    fn keys(t: &toml::Table, prefix: &str, out: &mut Vec<String>) {
        for (k, v) in t {
            let p = format!("{prefix}{k}");
            if let toml::Value::Table(sub) = v {
                keys(sub, &format!("{p}."), out);
            } else {
                out.push(p);
            }
        }
    }
    let (mut a, mut b) = (Vec::new(), Vec::new());
    keys(&file, "", &mut a);
    keys(&defaults, "", &mut b);
    a.sort();
    b.sort();
    assert_eq!(a, b);
    // ...and the optional ones are documented in comments.
    for opt in ["total_instances", "max_environments", "mix"] {
        assert!(
            text.contains(&format!("# {opt} =")),
            "{opt} is not documented"
        );
    }
    // The commented-out [curriculum] section is exactly the defaults, with
    // every field.
    let start = text
        .find("# [curriculum]\n")
        .expect("a [curriculum] section");
    let end = text
        .find("# [curriculum.envs.")
        .expect("a per-environment example");
    let block: String = text[start..end]
        .lines()
        .map(|l| l.strip_prefix('#').unwrap_or(l).trim_start())
        .collect::<Vec<_>>()
        .join("\n");
    let parsed = DatasetConfig::from_toml_str(&block).unwrap();
    let defaults = resyn_curriculum::CurriculumConfig::default();
    assert_eq!(parsed.curriculum.as_ref(), Some(&defaults));
    let mut documented: Vec<String> = block.parse::<toml::Table>().unwrap()["curriculum"]
        .as_table()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    let mut fields: Vec<String> = toml::Table::try_from(&defaults)
        .unwrap()
        .keys()
        .filter(|k| *k != "envs")
        .cloned()
        .collect();
    documented.sort();
    fields.sort();
    assert_eq!(documented, fields);
}

#[test]
fn jsonl_only_and_parquet_only_outputs() {
    let t = TempDir::new("formats");
    let reg = four_envs();
    let out = t.join("ds");
    let mut c = config("instances_per_env = 3", &out);
    c.output.formats = vec![Format::Jsonl];
    build(c, &reg);
    let names: Vec<String> = manifest(&out)
        .files
        .iter()
        .map(|f| f.path.clone())
        .collect();
    assert_eq!(names, ["train.jsonl", "validation.jsonl", "test.jsonl"]);
    assert!(!out.join("train.parquet").exists());
}

#[test]
fn every_shipped_config_is_valid() {
    let dir = resyn_test::repo_path("configs");
    let mut dirs = HashSet::new();
    let mut n = 0;
    for e in fs::read_dir(&dir).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "toml") {
            let c = DatasetConfig::from_path(&p).unwrap_or_else(|e| panic!("{e}"));
            assert!(
                dirs.insert(c.output.dir.clone()),
                "{}: output dir reused",
                p.display()
            );
            n += 1;
        }
    }
    assert!(n >= 6, "default + 5 ablation configs");
}

const LLM: &str = "[llm_answer]\nbase_url = \"http://127.0.0.1:9/v1\"\nmodel = \"fake-model\"\n";

struct FailingAnswers;

impl AnswerSource for FailingAnswers {
    fn answers(&self, _: &[AnswerRequest<'_>]) -> Result<Vec<Option<String>>, BoxError> {
        Err("endpoint down".into())
    }
}

/// Answers right, wrong or not at all by instance id, and records requests.
struct ScriptedAnswers {
    right: BTreeMap<String, String>,
    asked: std::sync::Mutex<Vec<(String, Option<String>, String)>>,
}

impl ScriptedAnswers {
    fn choice(&self, id: &str) -> Option<String> {
        match id.as_bytes()[0] % 3 {
            0 => Some(self.right[id].clone()),
            1 => Some("A->C".into()),
            _ => None,
        }
    }
}

impl AnswerSource for ScriptedAnswers {
    fn answers(&self, reqs: &[AnswerRequest<'_>]) -> Result<Vec<Option<String>>, BoxError> {
        let mut asked = self.asked.lock().unwrap();
        Ok(reqs
            .iter()
            .map(|r| {
                asked.push((
                    r.instance_id.to_string(),
                    r.system.map(str::to_string),
                    r.user.to_string(),
                ));
                self.choice(r.instance_id)
            })
            .collect())
    }
}

#[test]
fn llm_answer_mode_labels_each_row_once_with_the_llms_answer() {
    let t = TempDir::new("llm");
    let reg = resyn_envs::registry();
    let env = reg.get("tower_of_hanoi").unwrap();
    // Every instance the build can ask for: seeds from the plan's base.
    let base = resyn_data::seed_base(0);
    let mut right = BTreeMap::new();
    for seed in base..base + 200 {
        for d in 1..=4 {
            let inst = env.generate(seed, d).unwrap();
            right.insert(inst.id.clone(), reference_answer(&inst).to_string());
        }
    }
    let source = ScriptedAnswers {
        right,
        asked: Default::default(),
    };
    let toml = format!(
        "reward = \"llm_answer\"\ninstances_per_env = 30\n[select]\nids = [\"tower_of_hanoi\"]\n[difficulty]\nmax = 4\n[output]\nformats = [\"jsonl\"]\n{LLM}"
    );
    let out = t.join("ds");
    DatasetBuilder::new(config(&toml, &out), &reg)
        .answers(&source)
        .build()
        .unwrap();
    let asked = source.asked.lock().unwrap().clone();
    let mut rows = Vec::new();
    for split in ["train", "validation", "test"] {
        rows.extend(jsonl(&out.join(format!("{split}.jsonl"))));
    }
    // Only rows that made it into the dataset were asked for, once each,
    // with the chat the policy sees.
    assert_eq!(asked.len(), rows.len());
    let ids: HashSet<&str> = asked.iter().map(|a| a.0.as_str()).collect();
    assert_eq!(ids.len(), asked.len(), "an instance was asked twice");
    let (mut answered, mut unanswered, mut correct) = (0, 0, 0);
    for row in &rows {
        let id = row["extra_info"]["instance_id"]
            .as_str()
            .or(row["extra_info"]["id"].as_str())
            .unwrap();
        let a = asked.iter().find(|a| a.0 == id).unwrap();
        assert_eq!(a.1.as_deref(), Some(resyn_data::DEFAULT_SYSTEM_PROMPT));
        assert_eq!(row["prompt"][1]["content"], a.2.as_str());
        let label = row["label"].as_str().unwrap();
        let gt: Value = serde_json::from_str(label).unwrap();
        assert_eq!(gt["reward_mode"], "llm_answer");
        assert_eq!(gt["model"], "fake-model");
        assert_eq!(gt["id"], id);
        let truth = GroundTruth::from_json(label).unwrap();
        let right = &source.right[id];
        let with_right = truth
            .score(&reg, &format!("<answer>{right}</answer>"))
            .unwrap();
        match source.choice(id) {
            Some(ans) => {
                answered += 1;
                assert_eq!(gt["answer"], ans.as_str());
                if &ans == right {
                    correct += 1;
                    assert!(with_right.correct);
                } else {
                    // The label is wrong, so the right answer scores 0:
                    // what the llm_answer ablation measures.
                    assert!(!with_right.correct);
                    assert!(truth.score(&reg, "<answer>A->C</answer>").unwrap().correct);
                }
            }
            None => {
                unanswered += 1;
                assert!(gt["answer"].is_null());
                assert_eq!(with_right.reward, 0.0);
            }
        }
    }
    assert!(correct > 0 && answered > correct && unanswered > 0);
    let m = manifest(&out);
    let s = m.llm_answer.expect("llm_answer summary");
    assert_eq!(
        (
            s.model.as_str(),
            s.answered,
            s.unanswered,
            s.verified_correct
        ),
        ("fake-model", answered, unanswered, correct)
    );
    // Same answers, same bytes.
    let out2 = t.join("ds2");
    DatasetBuilder::new(config(&toml, &out2), &reg)
        .answers(&source)
        .build()
        .unwrap();
    for f in ["manifest.json", "train.jsonl", "test.jsonl"] {
        let a = fs::read(out.join(f)).unwrap();
        let b = fs::read(out2.join(f)).unwrap();
        if f == "manifest.json" {
            let strip = |v: &[u8]| String::from_utf8_lossy(v).replace("ds2", "ds");
            assert_eq!(strip(&a), strip(&b));
        } else {
            assert_eq!(a, b, "{f}");
        }
    }
}

#[test]
fn online_generation_follows_the_configs_selection_seed_and_bounds() {
    let reg = four_envs();
    let text = "seed = 9\n[select]\ncategories = [\"math\"]\n[difficulty]\nmin = 3\nmax = 5\n\
                [curriculum]\nmin_samples = 8\n";
    let c = DatasetConfig::from_toml_str(text).unwrap();
    let mut g = resyn_data::online_generator(&c, &reg, None).unwrap();
    let ids: Vec<String> = g.registry().iter().map(|e| e.meta().id.clone()).collect();
    assert_eq!(ids, ["beta", "gamma"]);
    assert_eq!(g.run_options().seed, 9);
    assert_eq!(g.config().min_samples, 8);
    let batch = g.draw(30).unwrap();
    assert!(batch.iter().all(|i| (3..=5).contains(&i.difficulty)));

    // With a state file: resumed, and only with the config it started with.
    let t = TempDir::new("online");
    let state = t.join("state.json");
    let fresh = resyn_data::online_generator(&c, &reg, Some(&state)).unwrap();
    assert_eq!(fresh.position(), 0, "no state file yet: a new run");
    g.save(&state).unwrap();
    let resumed = resyn_data::online_generator(&c, &reg, Some(&state)).unwrap();
    assert_eq!(resumed.state_json(), g.state_json());
    // The same from a state kept in memory (a trainer's own checkpoint).
    let restored = resyn_data::online_generator_from_state(&c, &reg, &g.state_json()).unwrap();
    assert_eq!(restored.state_json(), g.state_json());
    for other in [
        text.replace("min_samples = 8", "min_samples = 9"),
        text.replace("seed = 9", "seed = 10"),
        text.replace("max = 5", "max = 6"),
    ] {
        let c = DatasetConfig::from_toml_str(&other).unwrap();
        let e = resyn_data::online_generator(&c, &reg, Some(&state)).unwrap_err();
        assert!(
            e.to_string().contains("another [curriculum] section"),
            "{e}"
        );
        let e = resyn_data::online_generator_from_state(&c, &reg, &g.state_json()).unwrap_err();
        assert!(
            e.to_string().contains("another [curriculum] section"),
            "{e}"
        );
    }
    // Another selection does not fit the saved environments.
    let c = DatasetConfig::from_toml_str(&text.replace("\"math\"", "\"logic\"")).unwrap();
    let e = resyn_data::online_generator(&c, &reg, Some(&state)).unwrap_err();
    assert!(e.to_string().contains("`beta` is missing"), "{e}");
    // max_environments takes the front of the build's ranking.
    let c = DatasetConfig::from_toml_str("max_environments = 1").unwrap();
    assert_eq!(resyn_data::online_registry(&c, &reg).unwrap().len(), 1);
}

#[test]
fn online_rows_are_the_rows_a_build_writes() {
    let reg = four_envs();
    let t = TempDir::new("online-rows");
    let text = "seed = 4\ninstances_per_env = 6\n[difficulty]\nmax = 3\n\
                [prompt]\nsystem = \"Be brief.\"\nprefix = \"Task: \"\nsuffix = \"\\nGo.\"\n";
    let mut c = config(text, &t.join("ds"));
    c.output.formats = vec![Format::Jsonl];
    build(c.clone(), &reg);
    let built = jsonl(&t.join("ds/train.jsonl"));
    let mut g = resyn_data::online_generator(&c, &reg, None).unwrap();
    let rows = resyn_data::OnlineRows::new(&c, g.registry()).unwrap();
    // The row of an instance is the built row of that instance, but for its split and index.
    for (i, want) in built.iter().enumerate() {
        let info = &want["extra_info"];
        let env = reg.get(info["env"].as_str().unwrap()).unwrap();
        let inst = env
            .generate(
                info["seed"].as_u64().unwrap(),
                info["difficulty"].as_u64().unwrap() as u8,
            )
            .unwrap();
        let got: Value = serde_json::from_str(&rows.render(100 + i as u64, inst).unwrap()).unwrap();
        let mut want = want.clone();
        want["extra_info"]["split"] = "online".into();
        want["extra_info"]["index"] = (100 + i as u64).into();
        assert_eq!(got, want);
    }
    assert_eq!(built[0]["prompt"][0]["content"], "Be brief.");
    // Drawn rows: in stream order, indexed by stream position.
    let mut draw = |n| -> Vec<Value> {
        let batch = rows.draw(&mut g, n).unwrap();
        batch
            .iter()
            .map(|r| serde_json::from_str(r).unwrap())
            .collect()
    };
    let first = draw(3);
    let next = draw(2);
    let index: Vec<u64> = first
        .iter()
        .chain(&next)
        .map(|r| r["extra_info"]["index"].as_u64().unwrap())
        .collect();
    assert_eq!(index, [0, 1, 2, 3, 4]);
    assert!(
        first
            .iter()
            .all(|r| r["extra_info"]["split"] == resyn_data::ONLINE_SPLIT)
    );
    // Only verifier-mode ground truths can be made online.
    for mode in ["code", "llm_answer"] {
        let extra = if mode == "llm_answer" {
            "[llm_answer]\nbase_url = \"http://127.0.0.1:9\"\nmodel = \"m\"\n"
        } else {
            ""
        };
        let c = DatasetConfig::from_toml_str(&format!("reward = \"{mode}\"\n{extra}")).unwrap();
        let e = resyn_data::OnlineRows::new(&c, &reg).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("field `reward`: online instances"),
            "{e}"
        );
    }
}
