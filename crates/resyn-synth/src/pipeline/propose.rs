//! Proposals: several tasks per keyword, told the environments that exist
//! (stored, native and seed examples) so it does not repeat them.

use resyn_store::{KeywordRow, NewCandidate};
use serde_json::Value;

use super::{Event, Pipeline};
use crate::{Result, prompts};

impl Pipeline {
    pub(super) async fn propose(&self, k: KeywordRow) -> Result<()> {
        let mut existing = self.store.titles()?;
        existing.extend(self.examples.iter().map(|e| e.name.replace('_', " ")));
        existing.extend(self.native_titles.iter().cloned());
        let prompt = prompts::proposal(
            &k.keyword,
            &k.category,
            self.cfg.tasks_per_keyword,
            &existing,
        );
        let format = self.cfg.structured_proposals.response_format(
            "proposals",
            prompts::proposal_schema(self.cfg.tasks_per_keyword),
        );
        let reply = self
            .llm
            .ask_formatted(
                "proposal",
                None,
                Some(prompts::SYSTEM),
                &prompt,
                None,
                format,
            )
            .await;
        let parsed = match reply {
            Err(e) => Err(format!("llm_error: {e}")),
            Ok(r) if r.truncated && crate::extract::extract_json(&r.text, true).is_none() => {
                Err("truncated: the proposal reply was cut off by the token limit".to_string())
            }
            Ok(r) => match crate::extract::extract_json(&r.text, true) {
                Some(Value::Array(items)) => {
                    let c: Vec<NewCandidate> = items
                        .into_iter()
                        .filter(|v| v["title"].as_str().is_some_and(|t| !t.trim().is_empty()))
                        .take(self.cfg.tasks_per_keyword.max(1))
                        .map(|v| NewCandidate {
                            keyword: k.keyword.clone(),
                            title: v["title"].as_str().unwrap_or("").trim().to_string(),
                            proposal: v,
                        })
                        .collect();
                    if c.is_empty() {
                        Err("unparseable: no proposal has a title".into())
                    } else {
                        Ok(c)
                    }
                }
                _ => Err("unparseable: no JSON array of proposals in the reply".into()),
            },
        };
        match parsed {
            Ok(c) => {
                let n = c.len();
                self.store.finish_keyword(k.id, &c)?;
                self.observer.event(&Event::Proposed {
                    keyword: k.keyword,
                    candidates: n,
                });
            }
            Err(reason) => {
                self.store.fail_keyword(k.id, &reason)?;
                self.observer.event(&Event::ProposalFailed {
                    keyword: k.keyword,
                    reason,
                });
            }
        }
        Ok(())
    }

    // ------------------------------------------------------------ candidate
}
