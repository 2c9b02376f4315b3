//! Time for the history and the gates: instants in UTC, durations as users write them (`36h`,
//! `2d`), and the few ways Baton prints them. The current time is never read here: requests
//! carry it (`now`), so that a run, and a test, decides what "now" is.

use std::time::Duration;

pub use jiff::Timestamp;

/// An instant from seconds since the Unix epoch (out-of-range values are clamped).
pub fn from_unix(secs: i64) -> Timestamp {
    Timestamp::from_second(secs).unwrap_or(if secs < 0 {
        Timestamp::MIN
    } else {
        Timestamp::MAX
    })
}

/// The time of this machine.
pub fn system_now() -> Timestamp {
    Timestamp::now()
}

/// Parses a duration as users write it: a number and a unit, repeated (`36h`, `2d`, `1d12h`,
/// `90m`, `1w`, `45s`), units `w`, `d`, `h`, `m`, `s`. A day is 24 hours. `0` alone is zero.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let s = text.trim();
    let bad = || {
        format!(
            "{text:?} is not a duration: write a number and a unit, e.g. 36h, 2d, 1d12h, 90m (units w, d, h, m, s)"
        )
    };
    if s == "0" {
        return Ok(Duration::ZERO);
    }
    if s.is_empty() {
        return Err(bad());
    }
    let mut total: u64 = 0;
    let mut digits = String::new();
    let mut any = false;
    for c in s.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        if c.is_whitespace() && digits.is_empty() {
            continue;
        }
        let unit: u64 = match c {
            'w' => 7 * 86_400,
            'd' => 86_400,
            'h' => 3_600,
            'm' => 60,
            's' => 1,
            _ => return Err(bad()),
        };
        let n: u64 = digits.parse().map_err(|_| bad())?;
        digits.clear();
        total = n
            .checked_mul(unit)
            .and_then(|x| total.checked_add(x))
            .ok_or_else(bad)?;
        any = true;
    }
    if !digits.is_empty() || !any {
        return Err(bad());
    }
    Ok(Duration::from_secs(total))
}

/// A duration as Baton prints it, to the minute: `2d`, `1d 12h`, `5h`, `5h 20m`, `12m`, `0m`.
pub fn human(d: Duration) -> String {
    let mins = d.as_secs() / 60;
    let (days, hours, minutes) = (mins / 1440, (mins / 60) % 24, mins % 60);
    let mut parts = Vec::new();
    if days > 0 {
        parts.push(format!("{days}d"));
    }
    if hours > 0 {
        parts.push(format!("{hours}h"));
    }
    // Minutes only matter when there are no days.
    if minutes > 0 && days == 0 {
        parts.push(format!("{minutes}m"));
    }
    if parts.is_empty() {
        "0m".into()
    } else {
        parts.join(" ")
    }
}

/// The time from `earlier` to `later` (zero when `later` is not after `earlier`).
pub fn since(earlier: Timestamp, later: Timestamp) -> Duration {
    let secs = later.as_second().saturating_sub(earlier.as_second());
    Duration::from_secs(u64::try_from(secs).unwrap_or(0))
}

/// `t` plus `d` (saturating).
pub fn add(t: Timestamp, d: Duration) -> Timestamp {
    let secs = i64::try_from(d.as_secs()).unwrap_or(i64::MAX);
    from_unix(t.as_second().saturating_add(secs))
}

/// An instant as Baton prints it in messages: UTC, to the minute (`2026-12-03T10:00Z`).
pub fn stamp(t: Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%MZ").to_string()
}

/// An instant in full (`2026-12-03T10:00:00Z`), for JSON.
pub fn rfc3339(t: Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// Parses an instant: RFC 3339 (`2026-12-03T10:00:00Z`, with an offset, or to the minute
/// `2026-12-03T10:00Z`), a date (`2026-12-03`, midnight UTC), or `@<seconds since the epoch>`.
pub fn parse_instant(text: &str) -> Result<Timestamp, String> {
    let s = text.trim();
    let bad = || {
        format!(
            "{text:?} is not a date or time: write 2026-12-03, 2026-12-03T10:00:00Z or @<seconds since 1970>"
        )
    };
    if let Some(secs) = s.strip_prefix('@') {
        return secs
            .parse::<i64>()
            .ok()
            .and_then(|n| Timestamp::from_second(n).ok())
            .ok_or_else(bad);
    }
    if let Ok(t) = s.parse::<Timestamp>() {
        return Ok(t);
    }
    let is_date = s.len() == 10 && s.as_bytes()[4] == b'-' && s.as_bytes()[7] == b'-';
    let candidate = if is_date {
        format!("{s}T00:00:00Z")
    } else if let Some(minute) = s.strip_suffix('Z').filter(|m| m.len() == 16) {
        format!("{minute}:00Z")
    } else {
        return Err(bad());
    };
    candidate.parse::<Timestamp>().map_err(|_| bad())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_as_users_write_them() {
        assert_eq!(
            parse_duration("36h").unwrap(),
            Duration::from_secs(36 * 3600)
        );
        assert_eq!(
            parse_duration("2d").unwrap(),
            Duration::from_secs(2 * 86_400)
        );
        assert_eq!(
            parse_duration("1d12h").unwrap(),
            Duration::from_secs(36 * 3600)
        );
        assert_eq!(
            parse_duration("1d 12h").unwrap(),
            Duration::from_secs(36 * 3600)
        );
        assert_eq!(parse_duration("1w").unwrap(), Duration::from_secs(604_800));
        assert_eq!(parse_duration("90m").unwrap(), Duration::from_secs(5400));
        assert_eq!(parse_duration("0").unwrap(), Duration::ZERO);
        for bad in [
            "",
            "2",
            "h",
            "2x",
            "-1d",
            "1.5d",
            "2 days",
            "99999999999999999999d",
        ] {
            assert!(parse_duration(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn durations_print_to_the_minute() {
        assert_eq!(human(Duration::from_secs(5 * 3600)), "5h");
        assert_eq!(human(Duration::from_secs(5 * 3600 + 20 * 60 + 7)), "5h 20m");
        assert_eq!(human(Duration::from_secs(2 * 86_400)), "2d");
        assert_eq!(human(Duration::from_secs(36 * 3600 + 60)), "1d 12h");
        assert_eq!(human(Duration::from_secs(59)), "0m");
    }

    #[test]
    fn instants_parse_and_print_in_utc() {
        let t = parse_instant("2026-12-03T10:00:00Z").unwrap();
        assert_eq!(stamp(t), "2026-12-03T10:00Z");
        assert_eq!(rfc3339(t), "2026-12-03T10:00:00Z");
        assert_eq!(parse_instant("2026-12-03T10:00Z").unwrap(), t);
        assert_eq!(parse_instant("2026-12-03T12:00:00+02:00").unwrap(), t);
        assert_eq!(
            stamp(parse_instant("2026-12-03").unwrap()),
            "2026-12-03T00:00Z"
        );
        assert_eq!(parse_instant(&format!("@{}", t.as_second())).unwrap(), t);
        for bad in ["yesterday", "2026-13-01", "12/03/2026", "@x"] {
            assert!(parse_instant(bad).is_err(), "{bad:?}");
        }
        let later = add(t, Duration::from_secs(3600));
        assert_eq!(since(t, later), Duration::from_secs(3600));
        assert_eq!(since(later, t), Duration::ZERO);
    }
}
