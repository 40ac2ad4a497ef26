//! Rows of the store, as plain data.

use serde::{Deserialize, Serialize};

/// One `resyn synth` run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Run {
    /// Run id (printed by `resyn synth`, passed to `--resume`).
    pub id: i64,
    /// Where the run stands.
    pub status: RunStatus,
    /// The configuration the run was started with.
    pub config: serde_json::Value,
    /// Creation time, Unix seconds.
    pub created_at: i64,
    /// Wall time spent in the run so far (all sessions), milliseconds.
    pub wall_ms: i64,
}

/// Where a run stands (the `runs.status` column).
///
/// A run is `running` from its creation and again whenever a session starts
/// (`resyn synth`, `resyn synth --resume`); the session ends it with one of
/// the other three. A run left `running` (the process was killed) or
/// `interrupted` has work left for `--resume`; a `finished` or `exhausted`
/// one has none under its configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum RunStatus {
    /// A session is working on it, or was killed before it could record an
    /// end (`kill -9`, power loss).
    Running,
    /// The run accepted its target number of environments.
    Finished,
    /// The session ended without reaching the target: the candidate budget
    /// (`--max-candidates`) is spent or the keywords ran out.
    Exhausted,
    /// The session stopped on an error (store, sandbox, a panicked task);
    /// the error was reported and the run is resumable.
    Interrupted,
}

impl RunStatus {
    /// Every status, in lifecycle order.
    pub const ALL: [Self; 4] = [
        Self::Running,
        Self::Finished,
        Self::Exhausted,
        Self::Interrupted,
    ];

    /// The name stored in the `status` column.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Running => "running",
            Self::Finished => "finished",
            Self::Exhausted => "exhausted",
            Self::Interrupted => "interrupted",
        }
    }
}

/// A keyword a run works through.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeywordRow {
    /// Row id.
    pub id: i64,
    /// Position in the run's keyword order.
    pub ord: i64,
    /// The keyword.
    pub keyword: String,
    /// Its category.
    pub category: String,
}

/// A proposed task, as inserted.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NewCandidate {
    /// The keyword it was proposed for.
    pub keyword: String,
    /// Its title.
    pub title: String,
    /// The full proposal (title, description, verifiability, scaling, ...).
    pub proposal: serde_json::Value,
}

/// Where a candidate is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum CandidateStatus {
    /// Not finished (a resumed run picks it up).
    Pending,
    /// Stored as an environment.
    Accepted,
    /// Rejected at some stage (see `stage` and `reason`).
    Rejected,
    /// Not processed further because the run reached its target.
    Skipped,
}

impl CandidateStatus {
    /// The name stored in the `status` column.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Accepted => "accepted",
            Self::Rejected => "rejected",
            Self::Skipped => "skipped",
        }
    }

    /// Every status.
    pub const ALL: [Self; 4] = [Self::Pending, Self::Accepted, Self::Rejected, Self::Skipped];
}

/// The statuses stored in a text `status` column: names out, strict parsing
/// in (see `rows::Cols::status`).
pub(crate) trait StatusColumn: Copy + 'static {
    /// Every value.
    const VALUES: &'static [Self];
    /// The stored name.
    fn name(self) -> &'static str;
}

impl StatusColumn for RunStatus {
    const VALUES: &'static [Self] = &Self::ALL;
    fn name(self) -> &'static str {
        self.as_str()
    }
}

impl StatusColumn for CandidateStatus {
    const VALUES: &'static [Self] = &Self::ALL;
    fn name(self) -> &'static str {
        self.as_str()
    }
}

impl std::fmt::Display for RunStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::fmt::Display for CandidateStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a candidate has achieved so far; saved after every LLM reply so a
/// resumed run does not repeat it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// The current module source.
    pub code: Option<String>,
    /// Repair rounds used.
    pub round: u32,
    /// Whether the current code passed the LLM review.
    pub review_passed: bool,
    /// The independently written second verifier, once there is one.
    pub cross_code: Option<String>,
    /// Independent verifiers drawn so far (second verifiers and
    /// tie-breakers; bounded per candidate).
    #[serde(default)]
    pub cross_draws: u32,
    /// Answers whose verdict independent checks settled: later repairs
    /// must keep judging them the same way.
    #[serde(default)]
    pub settled: Vec<Finding>,
}

/// An answer whose correctness adjudication settled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// Instance seed.
    pub seed: u64,
    /// Instance difficulty.
    pub difficulty: u8,
    /// The answer string `verify()` received.
    pub answer: String,
    /// Whether it is correct.
    pub correct: bool,
}

/// A candidate row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Candidate {
    /// Row id.
    pub id: i64,
    /// Run id.
    pub run_id: i64,
    /// Keyword.
    pub keyword: String,
    /// Proposal title.
    pub title: String,
    /// The proposal.
    pub proposal: serde_json::Value,
    /// Outcome so far.
    pub status: CandidateStatus,
    /// Last stage reached.
    pub stage: String,
    /// Short machine-readable reason of the last outcome.
    pub reason: String,
    /// The precise detail.
    pub detail: String,
    /// Saved progress.
    pub checkpoint: Checkpoint,
    /// The environment `NAME`, once accepted.
    pub env_name: Option<String>,
}

/// One stage outcome of a candidate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StageEvent {
    /// Stage name (`extract`, `validate`, `review`, ...).
    pub stage: String,
    /// Whether the candidate passed it.
    pub passed: bool,
    /// Short machine-readable reason (the failing check, or `ok`).
    pub reason: String,
    /// The precise detail (error text, traceback, failing seed, probe).
    pub detail: String,
    /// Repair round the event belongs to.
    pub round: u32,
}

/// An environment to store.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewEnvironment {
    /// `NAME` (unique in the store).
    pub name: String,
    /// `VERSION`.
    pub version: u32,
    /// Content hash of the code (unique in the store).
    pub content_hash: String,
    /// Category (snake_case).
    pub category: String,
    /// `DESCRIPTION`.
    pub description: String,
    /// Module source.
    pub code: String,
    /// Endpoint, model, prompts, run and candidate ids.
    pub provenance: serde_json::Value,
    /// The validation report.
    pub validation: serde_json::Value,
    /// The calibration report (pass-rate curve), when calibrated.
    pub calibration: Option<serde_json::Value>,
    /// Behavioural fingerprint used for duplicate detection.
    pub fingerprint: serde_json::Value,
    /// Run that produced it.
    pub run_id: Option<i64>,
    /// Candidate that became it.
    pub candidate_id: Option<i64>,
}

/// A stored environment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredEnv {
    /// Row id.
    pub id: i64,
    /// The stored fields.
    #[serde(flatten)]
    pub env: NewEnvironment,
    /// Creation time, Unix seconds.
    pub created_at: i64,
}

/// Outcome of [`crate::Store::accept`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Accepted {
    /// Stored under this row id.
    Stored(i64),
    /// Not stored: an environment with the same `NAME` or content hash exists.
    Duplicate {
        /// Which unique key clashed: `name` or `content_hash`.
        key: &'static str,
        /// The existing environment's name.
        existing: String,
    },
}

/// One LLM call, for audit and replay.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CallRecord {
    /// Run id.
    pub run_id: Option<i64>,
    /// Candidate the call was for.
    pub candidate_id: Option<i64>,
    /// What the call was for (`proposal`, `implement`, `repair`, ...).
    pub purpose: String,
    /// Hash of the request body (replay key).
    pub request_hash: String,
    /// The request body (JSON).
    pub request: serde_json::Value,
    /// The reply text (first choice), on success.
    pub reply: Option<String>,
    /// The finish reason, on success.
    pub finish_reason: Option<String>,
    /// Prompt tokens.
    pub prompt_tokens: u64,
    /// Completion tokens.
    pub completion_tokens: u64,
    /// Latency of the successful attempt (or of the failure), milliseconds.
    pub latency_ms: u64,
    /// `ok` or `error`.
    pub status: String,
    /// The error, on failure.
    pub error: Option<String>,
}

/// Totals of a run, for the final table.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Run id.
    pub run_id: i64,
    /// Candidates proposed.
    pub candidates: u64,
    /// Accepted.
    pub accepted: u64,
    /// Rejected.
    pub rejected: u64,
    /// Skipped (target reached).
    pub skipped: u64,
    /// Still pending.
    pub pending: u64,
    /// Rejections by `(stage, reason)`, most frequent first.
    pub failures: Vec<(String, String, u64)>,
    /// Stage failures (including repaired ones) by stage, in first-seen order.
    pub stage_failures: Vec<(String, u64)>,
    /// Candidates that passed each stage at least once, by stage (the
    /// funnel), in first-seen order.
    #[serde(default)]
    pub passed_by_stage: Vec<(String, u64)>,
    /// Disagreements between verifiers, by how adjudication resolved them
    /// (`upheld`, `overruled`, `unresolved`: the events of stage
    /// `adjudicate`, one per disputed answer).
    #[serde(default)]
    pub disagreements: Vec<(String, u64)>,
    /// Environments this run stored without calibration (no solver).
    #[serde(default)]
    pub uncalibrated: u64,
    /// Keywords whose proposal call failed or could not be parsed.
    pub keyword_failures: u64,
    /// Repair rounds used in total.
    pub repairs: u64,
    /// LLM calls (all purposes), successful and failed.
    pub llm_calls: u64,
    /// Failed LLM calls.
    pub llm_errors: u64,
    /// Prompt tokens.
    pub prompt_tokens: u64,
    /// Completion tokens.
    pub completion_tokens: u64,
    /// Wall time of the run (all sessions), milliseconds.
    pub wall_ms: i64,
}
