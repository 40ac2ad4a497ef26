//! The two-step LLM review (code, then rendered questions), by the reviewer
//! model (`--review-model`, temperature 0 by default; the generator when
//! none is given). Problems go back through repair; a reply without any
//! verdict rejects the candidate, the reply kept as the evidence.

use resyn_core::probes::reference_answer;
use resyn_store::Candidate;
use serde_json::Value;

use super::Pipeline;
use super::stage::{Fail, Stage, Step};
use crate::validate::Validated;
use crate::{Result, prompts, review};

/// Characters of an unparseable reply kept in the record.
const KEPT_REPLY: usize = 4000;

impl Pipeline {
    pub(super) async fn review(
        &self,
        id: i64,
        cand: &Candidate,
        code: &str,
        v: &Validated,
    ) -> Result<Step<Value>> {
        let mut verdicts = serde_json::Map::new();
        for step in ["code_review", "question_review"] {
            let prompt = if step == "code_review" {
                prompts::code_review(&cand.proposal, code)
            } else {
                let samples: Vec<(u8, String, String)> = [1u8, 5, 10]
                    .into_iter()
                    .filter_map(|d| v.instances.iter().find(|i| i.difficulty == d))
                    .map(|i| {
                        (
                            i.difficulty,
                            super::module_prompt(&i.prompt).to_string(),
                            reference_answer(i).to_string(),
                        )
                    })
                    .collect();
                prompts::question_review(&samples)
            };
            let mut verdict = None;
            let mut last_reply = String::new();
            for attempt in 0..2 {
                let p = if attempt == 0 {
                    prompt.clone()
                } else {
                    format!("{prompt}\n\n{}", prompts::JSON_ONLY)
                };
                match self.reviewer.ask(step, Some(id), None, &p, None).await {
                    Err(e) => {
                        return Ok(Step::Fail(Fail::reject(Stage::Review, "llm_error", e)));
                    }
                    Ok(r) => {
                        verdict = review::parse_verdict(&r.text);
                        last_reply = r.text;
                        if verdict.is_some() {
                            break;
                        }
                    }
                }
            }
            match verdict {
                None => {
                    return Ok(Step::Fail(Fail::reject(
                        Stage::Review,
                        format!("{step}_unparseable"),
                        format!(
                            "the reviewer's reply has no verdict (asked twice); its reply:\n{}",
                            last_reply.chars().take(KEPT_REPLY).collect::<String>()
                        ),
                    )));
                }
                Some(vd) if !vd.pass => {
                    return Ok(Step::Fail(Fail::repair(
                        Stage::Review,
                        format!("{step}_failed"),
                        prompts::review_problems(step, &vd.problems),
                    )));
                }
                Some(vd) => {
                    verdicts.insert(step.into(), serde_json::to_value(vd).unwrap_or(Value::Null));
                }
            }
        }
        Ok(Step::Pass(Value::Object(verdicts)))
    }
}
