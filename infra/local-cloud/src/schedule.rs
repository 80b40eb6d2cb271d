//! EventBridge schedule expressions, `rate(...)` and `cron(...)`, and when they next fire.
//!
//! AWS's cron has six fields: minutes, hours, day of month, month, day of week (1-7 = SUN-SAT, or names), year;
//! one of the two day fields is `?`. Supported: `*`, `?`, values, names, lists, ranges and `/` steps; the rarer
//! `L`, `W` and `#` are refused with a clear error rather than guessed at.

use chrono::{DateTime, Datelike, Duration, Timelike, Utc};

#[derive(Debug, Clone, PartialEq)]
pub enum Schedule {
    Rate(Duration),
    Cron(Cron),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Cron {
    minutes: Vec<u32>,
    hours: Vec<u32>,
    days: Option<Vec<u32>>,
    months: Vec<u32>,
    /// 0 = Sunday.
    weekdays: Option<Vec<u32>>,
    years: Option<Vec<u32>>,
}

const MONTHS: [&str; 12] = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];
const DAYS: [&str; 7] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

fn field(text: &str, min: u32, max: u32, names: &[&str], name_base: u32) -> Result<Option<Vec<u32>>, String> {
    if text == "?" {
        return Ok(None);
    }
    if text.contains(['L', 'W', '#']) && !names.iter().any(|n| text.contains(n)) {
        return Err(format!("`{text}`: L, W and # are not supported locally"));
    }
    let value = |s: &str| -> Result<u32, String> {
        if let Some(i) = names.iter().position(|n| n.eq_ignore_ascii_case(s)) {
            return Ok(i as u32 + name_base);
        }
        s.parse::<u32>().map_err(|_| format!("`{s}` is not a value"))
    };
    let mut out = Vec::new();
    for part in text.split(',') {
        let (range, step) = match part.split_once('/') {
            Some((r, s)) => (r, s.parse::<u32>().map_err(|_| format!("`{s}` is not a step"))?.max(1)),
            None => (part, 1),
        };
        let (from, to) = match range {
            "*" => (min, max),
            r => match r.split_once('-') {
                Some((a, b)) => (value(a)?, value(b)?),
                None if part.contains('/') => (value(r)?, max),
                None => (value(r)?, value(r)?),
            },
        };
        if from < min || to > max || from > to {
            return Err(format!("`{part}` is outside {min}-{max}"));
        }
        out.extend((from..=to).step_by(step as usize));
    }
    out.sort_unstable();
    out.dedup();
    Ok(Some(out))
}

impl Schedule {
    pub fn parse(expression: &str) -> Result<Self, String> {
        let expression = expression.trim();
        if let Some(inner) = expression.strip_prefix("rate(").and_then(|e| e.strip_suffix(')')) {
            let (n, unit) =
                inner.trim().split_once(' ').ok_or_else(|| format!("`{expression}`: expected rate(N unit)"))?;
            let n: i64 = n.parse().map_err(|_| format!("`{expression}`: {n} is not a number"))?;
            let unit = unit.trim().trim_end_matches('s');
            let duration = match unit {
                "minute" => Duration::minutes(n),
                "hour" => Duration::hours(n),
                "day" => Duration::days(n),
                _ => return Err(format!("`{expression}`: unknown unit {unit}")),
            };
            if n <= 0 {
                return Err(format!("`{expression}`: the rate must be positive"));
            }
            return Ok(Schedule::Rate(duration));
        }
        let inner = expression
            .strip_prefix("cron(")
            .and_then(|e| e.strip_suffix(')'))
            .ok_or_else(|| format!("`{expression}` is neither rate(...) nor cron(...)"))?;
        let f: Vec<&str> = inner.split_whitespace().collect();
        if f.len() != 6 {
            return Err(format!("`{expression}`: cron needs 6 fields, found {}", f.len()));
        }
        let all = |v: Option<Vec<u32>>, what: &str| {
            v.ok_or_else(|| format!("`{expression}`: `?` is only for a day field, not {what}"))
        };
        let cron = Cron {
            minutes: all(field(f[0], 0, 59, &[], 0)?, "minutes")?,
            hours: all(field(f[1], 0, 23, &[], 0)?, "hours")?,
            days: field(f[2], 1, 31, &[], 0)?,
            months: all(field(f[3], 1, 12, &MONTHS, 1)?, "months")?,
            weekdays: field(f[4], 1, 7, &DAYS, 1)?.map(|d| d.into_iter().map(|x| x - 1).collect()),
            years: if f[5] == "*" { None } else { field(f[5], 1970, 2199, &[], 0)? },
        };
        if cron.days.is_some() == cron.weekdays.is_some() && f[2] != "*" && f[4] != "*" {
            return Err(format!("`{expression}`: one of day-of-month and day-of-week must be `?`"));
        }
        Ok(Schedule::Cron(cron))
    }

    /// The first firing strictly after `after`.
    pub fn next_after(&self, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        match self {
            Schedule::Rate(d) => Some(after + *d),
            Schedule::Cron(c) => {
                let mut t = after.with_second(0)?.with_nanosecond(0)? + Duration::minutes(1);
                // Minute by minute is quick enough for a local emulator: at most five years of minutes.
                let limit = after + Duration::days(366 * 5);
                while t <= limit {
                    let day_ok = match (&c.days, &c.weekdays) {
                        (Some(d), Some(w)) => d.contains(&t.day()) && w.contains(&t.weekday().num_days_from_sunday()),
                        (Some(d), None) => d.contains(&t.day()),
                        (None, Some(w)) => w.contains(&t.weekday().num_days_from_sunday()),
                        (None, None) => true,
                    };
                    if c.months.contains(&t.month())
                        && day_ok
                        && c.years.as_ref().is_none_or(|y| y.contains(&(t.year() as u32)))
                        && c.hours.contains(&t.hour())
                        && c.minutes.contains(&t.minute())
                    {
                        return Some(t);
                    }
                    t += Duration::minutes(1);
                }
                None
            }
        }
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
    }

    #[test]
    fn rates_add_their_interval() {
        let s = Schedule::parse("rate(30 minutes)").unwrap();
        assert_eq!(s.next_after(at("2026-11-26T01:00:00Z")), Some(at("2026-11-26T01:30:00Z")));
        assert_eq!(Schedule::parse("rate(1 day)").unwrap(), Schedule::Rate(Duration::days(1)));
    }

    #[test]
    fn bad_expressions_are_refused_with_a_reason() {
        for bad in [
            "cron(0 3 * *)",
            "cron(61 3 * * ? *)",
            "rate(0 minutes)",
            "rate(5 fortnights)",
            "every day",
            "cron(0 3 L * ? *)",
        ] {
            assert!(Schedule::parse(bad).is_err(), "{bad}");
        }
    }
}
