//! Text every report and page writes the same way, with no locale and no
//! clock: UTC timestamps and error chains.

/// `YYYY-MM-DD HH:MM UTC` for Unix seconds (proleptic Gregorian calendar,
/// H. Hinnant's `civil_from_days`).
pub fn utc_minute(unix_secs: i64) -> String {
    let days = unix_secs.div_euclid(86_400);
    let secs = unix_secs.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02} UTC",
        secs / 3600,
        secs % 3600 / 60
    )
}

/// An error and its sources on one line, `error: cause: cause`, as the CLI
/// prints errors (for libraries that report without `anyhow`).
///
/// A cause whose text already ends the line (`context: cause`) is not
/// repeated: some errors, here and in other crates, put their source's
/// message in their own as well as returning it from `source()`.
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        let text = c.to_string();
        if s != text && !s.ends_with(&format!(": {text}")) {
            s.push_str(": ");
            s.push_str(&text);
        }
        cur = c.source();
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_minutes() {
        assert_eq!(utc_minute(0), "1970-01-01 00:00 UTC");
        assert_eq!(utc_minute(1_709_251_200), "2024-03-01 00:00 UTC");
        assert_eq!(utc_minute(951_782_400 + 3661), "2000-02-29 01:01 UTC");
        assert_eq!(utc_minute(1_796_457_772), "2026-12-05 08:02 UTC");
        assert_eq!(utc_minute(-1), "1969-12-31 23:59 UTC");
    }

    #[test]
    fn chains_name_every_cause() {
        let e = Wrapped(std::io::Error::other("disk full"));
        assert_eq!(error_chain(&e), "writing: disk full");
    }

    #[test]
    fn chains_name_each_cause_once() {
        // `{context}: {source}` with `#[source]`: the cause is already said.
        let e = Said(Wrapped(std::io::Error::other("disk full")));
        assert_eq!(error_chain(&e), "saving: writing: disk full");
        // A cause that only looks like the end of the message still counts.
        let e = Said(Wrapped(std::io::Error::other("ing")));
        assert_eq!(error_chain(&e), "saving: writing: ing");
    }

    #[derive(Debug)]
    struct Wrapped(std::io::Error);
    impl std::fmt::Display for Wrapped {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("writing")
        }
    }
    impl std::error::Error for Wrapped {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&self.0)
        }
    }

    /// Says its source's message in its own, like `#[error("saving: {0}")]`.
    #[derive(Debug)]
    struct Said(Wrapped);
    impl std::fmt::Display for Said {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "saving: {}", self.0)
        }
    }
    impl std::error::Error for Said {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&self.0)
        }
    }
}
