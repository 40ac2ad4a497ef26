//! [`Metrics`]: counters rendered as Prometheus text exposition (format
//! 0.0.4) at `GET /metrics`.
//!
//! Series:
//! - `resyn_http_requests_total{route, status}`: finished requests;
//! - `resyn_http_request_duration_seconds{route}`: latency histogram;
//! - `resyn_verifications_total{reason}`: scored responses by verdict
//!   reason (`ok`, `wrong`, `parse_error`, ...);
//! - `resyn_format_ok_total`: scored responses that passed the format check;
//! - `resyn_env_verify_seconds{env}`: per environment, a histogram of the
//!   time to verify its share of one request (one call into the
//!   environment: for a sandboxed environment, one round trip to its worker,
//!   or a worker start when none is resident), and
//!   `resyn_env_verifications_total{env}`: the responses it verified. Their
//!   ratio (`_sum / verifications`) is the time per response.
//!
//! Routes are the matched route patterns (unknown paths count as
//! `unmatched`), so label cardinality stays bounded. Environment series
//! exist only for environments that verified something, seven each (four
//! buckets, `+Inf`, sum, count) plus the counter: 3,200 series with 400
//! environments in use.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use resyn_reward::Reward;

/// Request latency bucket upper bounds, in seconds.
const BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];
/// Per-environment bucket upper bounds, in seconds: few, so hundreds of
/// environments stay a few thousand series.
const ENV_BUCKETS: [f64; 4] = [0.005, 0.05, 0.5, 5.0];

#[derive(Debug, Clone)]
struct Histogram<const N: usize> {
    counts: [u64; N],
    count: u64,
    sum: f64,
}

impl<const N: usize> Default for Histogram<N> {
    fn default() -> Self {
        Self {
            counts: [0; N],
            count: 0,
            sum: 0.0,
        }
    }
}

impl<const N: usize> Histogram<N> {
    fn observe(&mut self, bounds: &[f64; N], secs: f64) {
        for (c, &b) in self.counts.iter_mut().zip(bounds) {
            if secs <= b {
                *c += 1;
            }
        }
        self.count += 1;
        self.sum += secs;
    }

    /// The `_bucket`, `_sum` and `_count` lines of `name` with `labels`
    /// (`key="value",` pairs, escaped, possibly empty).
    fn render(
        &self,
        s: &mut String,
        name: &str,
        labels: &str,
        bounds: &[f64; N],
    ) -> std::fmt::Result {
        for (b, c) in bounds.iter().zip(&self.counts) {
            writeln!(s, "{name}_bucket{{{labels}le=\"{b}\"}} {c}")?;
        }
        writeln!(s, "{name}_bucket{{{labels}le=\"+Inf\"}} {}", self.count)?;
        let labels = labels.trim_end_matches(',');
        writeln!(s, "{name}_sum{{{labels}}} {}", self.sum)?;
        writeln!(s, "{name}_count{{{labels}}} {}", self.count)
    }
}

/// One environment's series.
#[derive(Debug, Default, Clone)]
struct EnvSeries {
    calls: Histogram<{ ENV_BUCKETS.len() }>,
    verifications: u64,
}

/// Server counters (see the module docs for the series).
#[derive(Debug, Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<(String, u16), u64>>,
    latency: Mutex<BTreeMap<String, Histogram<{ BUCKETS.len() }>>>,
    verdicts: Mutex<BTreeMap<&'static str, u64>>,
    format_ok: AtomicU64,
    envs: Mutex<BTreeMap<String, EnvSeries>>,
}

impl resyn_reward::Observer for Metrics {
    fn verified(&self, env: &str, items: usize, elapsed: Duration) {
        let mut envs = lock(&self.envs);
        let e = match envs.get_mut(env) {
            Some(e) => e,
            None => envs.entry(env.to_string()).or_default(),
        };
        e.calls.observe(&ENV_BUCKETS, elapsed.as_secs_f64());
        e.verifications += items as u64;
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // Counters stay meaningful after a panic elsewhere; keep serving them.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Metrics {
    /// Record one finished request.
    pub fn record_request(&self, route: &str, status: u16, elapsed: Duration) {
        *lock(&self.requests)
            .entry((route.to_string(), status))
            .or_default() += 1;
        lock(&self.latency)
            .entry(route.to_string())
            .or_default()
            .observe(&BUCKETS, elapsed.as_secs_f64());
    }

    /// Record a batch of scored responses.
    pub fn record_rewards<'a>(&self, rewards: impl IntoIterator<Item = &'a Reward>) {
        let mut by_reason: BTreeMap<&'static str, u64> = BTreeMap::new();
        let mut fmt = 0;
        for r in rewards {
            *by_reason.entry(r.verdict.reason.as_str()).or_default() += 1;
            fmt += u64::from(r.format_ok);
        }
        self.format_ok.fetch_add(fmt, Ordering::Relaxed);
        let mut v = lock(&self.verdicts);
        for (k, n) in by_reason {
            *v.entry(k).or_default() += n;
        }
    }

    /// Total scored responses so far.
    pub fn verifications(&self) -> u64 {
        lock(&self.verdicts).values().sum()
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut s = String::new();
        // Writing to a String cannot fail.
        let _ = self.render_into(&mut s);
        s
    }

    fn render_into(&self, s: &mut String) -> std::fmt::Result {
        writeln!(
            s,
            "# HELP resyn_http_requests_total Finished HTTP requests."
        )?;
        writeln!(s, "# TYPE resyn_http_requests_total counter")?;
        for ((route, status), n) in lock(&self.requests).iter() {
            writeln!(
                s,
                "resyn_http_requests_total{{route=\"{}\",status=\"{status}\"}} {n}",
                escape(route)
            )?;
        }
        writeln!(
            s,
            "# HELP resyn_http_request_duration_seconds HTTP request latency."
        )?;
        writeln!(s, "# TYPE resyn_http_request_duration_seconds histogram")?;
        for (route, h) in lock(&self.latency).iter() {
            let labels = format!("route=\"{}\",", escape(route));
            h.render(s, "resyn_http_request_duration_seconds", &labels, &BUCKETS)?;
        }
        writeln!(
            s,
            "# HELP resyn_verifications_total Scored responses by verdict reason."
        )?;
        writeln!(s, "# TYPE resyn_verifications_total counter")?;
        for (reason, n) in lock(&self.verdicts).iter() {
            writeln!(s, "resyn_verifications_total{{reason=\"{reason}\"}} {n}")?;
        }
        writeln!(
            s,
            "# HELP resyn_format_ok_total Scored responses that passed the format check."
        )?;
        writeln!(s, "# TYPE resyn_format_ok_total counter")?;
        writeln!(
            s,
            "resyn_format_ok_total {}",
            self.format_ok.load(Ordering::Relaxed)
        )?;
        let envs = lock(&self.envs);
        writeln!(
            s,
            "# HELP resyn_env_verify_seconds Time to verify one environment's share of a request."
        )?;
        writeln!(s, "# TYPE resyn_env_verify_seconds histogram")?;
        for (env, e) in envs.iter() {
            let labels = format!("env=\"{}\",", escape(env));
            e.calls
                .render(s, "resyn_env_verify_seconds", &labels, &ENV_BUCKETS)?;
        }
        writeln!(
            s,
            "# HELP resyn_env_verifications_total Responses verified, by environment."
        )?;
        writeln!(s, "# TYPE resyn_env_verifications_total counter")?;
        for (env, e) in envs.iter() {
            writeln!(
                s,
                "resyn_env_verifications_total{{env=\"{}\"}} {}",
                escape(env),
                e.verifications
            )?;
        }
        Ok(())
    }
}

fn escape(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_and_cumulative_buckets() {
        let m = Metrics::default();
        m.record_request("/verify", 200, Duration::from_millis(3));
        m.record_request("/verify", 200, Duration::from_millis(30));
        let text = m.render();
        assert!(text.contains("resyn_http_requests_total{route=\"/verify\",status=\"200\"} 2"));
        assert!(text.contains("le=\"0.005\"} 1"), "{text}");
        assert!(text.contains("le=\"0.05\"} 2"), "{text}");
        assert!(text.contains("le=\"+Inf\"} 2"), "{text}");
        assert!(
            text.contains("resyn_http_request_duration_seconds_count{route=\"/verify\"} 2"),
            "{text}"
        );
    }

    #[test]
    fn environments_get_their_own_latency_series() {
        use resyn_reward::Observer;
        let m = Metrics::default();
        m.verified("maze", 20, Duration::from_millis(2));
        m.verified("maze", 5, Duration::from_millis(70));
        m.verified("py_env", 1, Duration::from_secs(7));
        let text = m.render();
        for line in [
            "resyn_env_verify_seconds_bucket{env=\"maze\",le=\"0.005\"} 1",
            "resyn_env_verify_seconds_bucket{env=\"maze\",le=\"0.5\"} 2",
            "resyn_env_verify_seconds_bucket{env=\"maze\",le=\"+Inf\"} 2",
            "resyn_env_verify_seconds_count{env=\"maze\"} 2",
            "resyn_env_verifications_total{env=\"maze\"} 25",
            "resyn_env_verify_seconds_bucket{env=\"py_env\",le=\"5\"} 0",
            "resyn_env_verifications_total{env=\"py_env\"} 1",
        ] {
            assert!(text.contains(line), "{line}\n{text}");
        }
        // Seven histogram lines and one counter per environment.
        assert_eq!(
            text.lines().filter(|l| l.contains("env=\"maze\"")).count(),
            8
        );
    }
}
