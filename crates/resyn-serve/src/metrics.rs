//! [`Metrics`]: counters rendered as Prometheus text exposition (format
//! 0.0.4) at `GET /metrics`.
//!
//! Series:
//! - `resyn_http_requests_total{route, status}`: finished requests;
//! - `resyn_http_request_duration_seconds{route}`: latency histogram;
//! - `resyn_verifications_total{reason}`: scored responses by verdict
//!   reason (`ok`, `wrong`, `parse_error`, ...);
//! - `resyn_format_ok_total`: scored responses that passed the format check.
//!
//! Routes are the matched route patterns (unknown paths count as
//! `unmatched`), so label cardinality stays bounded.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use resyn_reward::Reward;

/// Histogram bucket upper bounds, in seconds.
const BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

#[derive(Debug, Default, Clone)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

/// Server counters (see the module docs for the series).
#[derive(Debug, Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<(String, u16), u64>>,
    latency: Mutex<BTreeMap<String, Histogram>>,
    verdicts: Mutex<BTreeMap<&'static str, u64>>,
    format_ok: AtomicU64,
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
        let secs = elapsed.as_secs_f64();
        let mut lat = lock(&self.latency);
        let h = lat.entry(route.to_string()).or_default();
        for (c, &b) in h.counts.iter_mut().zip(&BUCKETS) {
            if secs <= b {
                *c += 1;
            }
        }
        h.count += 1;
        h.sum += secs;
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
            let r = escape(route);
            for (b, c) in BUCKETS.iter().zip(&h.counts) {
                writeln!(
                    s,
                    "resyn_http_request_duration_seconds_bucket{{route=\"{r}\",le=\"{b}\"}} {c}"
                )?;
            }
            writeln!(
                s,
                "resyn_http_request_duration_seconds_bucket{{route=\"{r}\",le=\"+Inf\"}} {}",
                h.count
            )?;
            writeln!(
                s,
                "resyn_http_request_duration_seconds_sum{{route=\"{r}\"}} {}",
                h.sum
            )?;
            writeln!(
                s,
                "resyn_http_request_duration_seconds_count{{route=\"{r}\"}} {}",
                h.count
            )?;
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
        )
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
    }
}
