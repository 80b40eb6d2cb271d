//! EventBridge schedule expressions, `rate(...)` and `cron(...)`, and when they next fire.
//!
//! AWS's cron has six fields: minutes, hours, day of month, month, day of week (1-7 = SUN-SAT, or names), year;
//! one of the two day fields is `?`. That is Quartz's cron without its seconds, which the `cron` crate reads (with
//! Quartz's day numbers), so an expression is handed to it with a seconds field of `0` in front. What the crate
//! does not read — `L`, `W` and `#` — is refused with its reason rather than guessed at. AWS's rule that one day
//! field is `?` is checked here, as EventBridge would refuse the template.

use std::str::FromStr;

use chrono::{DateTime, Duration, Utc};

#[derive(Debug, Clone, PartialEq)]
pub enum Schedule {
    Rate(Duration),
    Cron(Box<cron::Schedule>),
}

impl Schedule {
    pub fn parse(expression: &str) -> Result<Self, String> {
        let expression = expression.trim();
        if let Some(inner) = expression.strip_prefix("rate(").and_then(|e| e.strip_suffix(')')) {
            return rate(expression, inner).map(Schedule::Rate);
        }
        let inner = expression
            .strip_prefix("cron(")
            .and_then(|e| e.strip_suffix(')'))
            .ok_or_else(|| format!("`{expression}` is neither rate(...) nor cron(...)"))?;
        let fields: Vec<&str> = inner.split_whitespace().collect();
        let [_, _, day_of_month, _, day_of_week, _] = fields[..] else {
            return Err(format!("`{expression}`: cron needs 6 fields, found {}", fields.len()));
        };
        if (day_of_month == "?") == (day_of_week == "?") {
            return Err(format!("`{expression}`: exactly one of day-of-month and day-of-week must be `?`"));
        }
        let quartz = format!("0 {}", fields.join(" "));
        let schedule = cron::Schedule::from_str(&quartz).map_err(|e| format!("`{expression}`: {e}"))?;
        Ok(Schedule::Cron(Box::new(schedule)))
    }

    /// The first firing strictly after `after`.
    pub fn next_after(&self, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        match self {
            Schedule::Rate(d) => Some(after + *d),
            Schedule::Cron(c) => c.after(&after).next(),
        }
    }
}

/// `rate(N unit)`: a positive whole number of minutes, hours or days (singular or plural, as AWS allows).
fn rate(expression: &str, inner: &str) -> Result<Duration, String> {
    let (n, unit) = inner.trim().split_once(' ').ok_or_else(|| format!("`{expression}`: expected rate(N unit)"))?;
    let n: i64 = n.parse().map_err(|_| format!("`{expression}`: {n} is not a number"))?;
    if n <= 0 {
        return Err(format!("`{expression}`: the rate must be positive"));
    }
    match unit.trim().trim_end_matches('s') {
        "minute" => Ok(Duration::minutes(n)),
        "hour" => Ok(Duration::hours(n)),
        "day" => Ok(Duration::days(n)),
        unit => Err(format!("`{expression}`: unknown unit {unit}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn daily_at_three_fires_at_the_next_three_oclock() {
        let s = Schedule::parse("cron(0 3 * * ? *)").unwrap();
        assert_eq!(s.next_after(at("2026-11-26T01:30:00Z")), Some(at("2026-11-26T03:00:00Z")));
        assert_eq!(s.next_after(at("2026-11-26T03:00:00Z")), Some(at("2026-11-27T03:00:00Z")));
    }

    #[test]
    fn steps_lists_ranges_and_weekday_names_work() {
        let s = Schedule::parse("cron(0/30 9-17 ? * MON-FRI *)").unwrap();
        // 2026-11-28 is a Saturday: the next firing is Monday 09:00.
        assert_eq!(s.next_after(at("2026-11-27T17:45:00Z")), Some(at("2026-11-30T09:00:00Z")));
        assert_eq!(s.next_after(at("2026-11-30T09:00:00Z")), Some(at("2026-11-30T09:30:00Z")));
        let list = Schedule::parse("cron(0 8,20 * * ? *)").unwrap();
        assert_eq!(list.next_after(at("2026-11-26T09:00:00Z")), Some(at("2026-11-26T20:00:00Z")));
        assert_eq!(list.next_after(at("2026-11-26T20:00:00Z")), Some(at("2026-11-27T08:00:00Z")));
    }

    #[test]
    fn weekday_numbers_count_from_sunday_as_aws_does() {
        // AWS: 1 = Sunday, 2 = Monday. 2026-11-29 is a Sunday.
        let sunday = Schedule::parse("cron(0 12 ? * 1 *)").unwrap();
        assert_eq!(sunday.next_after(at("2026-11-27T00:00:00Z")), Some(at("2026-11-29T12:00:00Z")));
        let monday = Schedule::parse("cron(0 12 ? * 2 *)").unwrap();
        assert_eq!(monday.next_after(at("2026-11-27T00:00:00Z")), Some(at("2026-11-30T12:00:00Z")));
    }

    #[test]
    fn a_year_field_limits_the_firings() {
        let s = Schedule::parse("cron(0 0 1 1 ? 2027)").unwrap();
        assert_eq!(s.next_after(at("2026-11-26T00:00:00Z")), Some(at("2027-01-01T00:00:00Z")));
        assert_eq!(s.next_after(at("2027-01-01T00:00:00Z")), None);
    }

    #[test]
    fn rates_add_their_interval() {
        let s = Schedule::parse("rate(30 minutes)").unwrap();
        assert_eq!(s.next_after(at("2026-11-26T01:00:00Z")), Some(at("2026-11-26T01:30:00Z")));
        assert_eq!(Schedule::parse("rate(1 day)").unwrap(), Schedule::Rate(Duration::days(1)));
    }

    #[test]
    fn bad_expressions_are_refused_with_a_reason() {
        for (bad, reason) in [
            ("cron(0 3 * *)", "cron needs 6 fields, found 4"),
            ("cron(61 3 * * ? *)", "Minutes must be less than 59. ('61' specified.)"),
            ("cron(0 3 * * * *)", "one of day-of-month and day-of-week must be `?`"),
            ("cron(0 3 ? * ? *)", "one of day-of-month and day-of-week must be `?`"),
            // AWS's `L` (last day of the month) is not the crate's: refused, so a schedule never fires on a wrong day.
            ("cron(0 3 L * ? *)", "The 'Days of Month' field does not support using names. 'L' specified."),
            ("rate(0 minutes)", "the rate must be positive"),
            ("rate(5 fortnights)", "unknown unit fortnight"),
            ("rate(five minutes)", "five is not a number"),
            ("every day", "is neither rate(...) nor cron(...)"),
        ] {
            let error = Schedule::parse(bad).expect_err(bad);
            assert!(error.contains(reason), "{bad}: {error:?} does not say {reason:?}");
        }
    }
}
