//! The parameters of seller figures: date ranges (UTC days, at most two years) and
//! revenue periods, with the buckets a series is drawn in.

use chrono::{Datelike, Duration, NaiveDate};

use crate::validation::{FieldError, FieldErrors};

/// The longest range a figure may span.
pub const MAX_RANGE_DAYS: i64 = 731;

/// A revenue series' bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Period {
    /// Calendar days (UTC).
    Day,
    /// Weeks starting on Monday.
    Week,
    /// Calendar months.
    Month,
}

impl Period {
    /// Parses `day`, `week` or `month`.
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "day" => Some(Period::Day),
            "week" => Some(Period::Week),
            "month" => Some(Period::Month),
            _ => None,
        }
    }

    /// The wire spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Period::Day => "day",
            Period::Week => "week",
            Period::Month => "month",
        }
    }

    /// The first day of the bucket holding `day`.
    pub fn start_of(self, day: NaiveDate) -> NaiveDate {
        match self {
            Period::Day => day,
            Period::Week => day - Duration::days(i64::from(day.weekday().num_days_from_monday())),
            Period::Month => day.with_day(1).unwrap_or(day),
        }
    }

    /// The first day of the bucket after the one starting on `start`.
    pub fn next(self, start: NaiveDate) -> NaiveDate {
        match self {
            Period::Day => start + Duration::days(1),
            Period::Week => start + Duration::days(7),
            Period::Month => {
                let (year, month) = if start.month() == 12 {
                    (start.year() + 1, 1)
                } else {
                    (start.year(), start.month() + 1)
                };
                NaiveDate::from_ymd_opt(year, month, 1).unwrap_or(start + Duration::days(31))
            }
        }
    }

    /// The starts of every bucket touching `from..=to`, in order.
    pub fn buckets(self, from: NaiveDate, to: NaiveDate) -> Vec<NaiveDate> {
        let mut starts = Vec::new();
        let mut start = self.start_of(from);
        while start <= to {
            starts.push(start);
            start = self.next(start);
        }
        starts
    }

    /// How far back a range of this period reaches by default.
    pub fn default_days(self) -> i64 {
        match self {
            Period::Day => 29,
            Period::Week => 7 * 12 - 1,
            Period::Month => 365,
        }
    }
}

/// A range of UTC days, both ends included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateRange {
    /// The first day.
    pub from: NaiveDate,
    /// The last day.
    pub to: NaiveDate,
}

fn day(name: &str, raw: &str) -> Result<NaiveDate, FieldError> {
    let text = raw.trim();
    let date = text.get(..10).unwrap_or(text);
    NaiveDate::parse_from_str(date, "%Y-%m-%d")
        .map_err(|_| FieldError::query(name, "date_parsing", "Input should be a date, YYYY-MM-DD"))
}

impl DateRange {
    /// `from` and `to` (`YYYY-MM-DD`, or an RFC 3339 timestamp whose date counts); by
    /// default the `default_days` before `today` up to `today`. `from` after `to`, or a
    /// range longer than two years, is refused.
    pub fn parse(
        from: Option<&str>,
        to: Option<&str>,
        today: NaiveDate,
        default_days: i64,
    ) -> Result<DateRange, FieldErrors> {
        let mut errors = FieldErrors::default();
        let to =
            errors.check(to.filter(|t| !t.trim().is_empty()).map_or(Ok(today), |t| day("to", t)));
        let from = errors.check(from.filter(|f| !f.trim().is_empty()).map_or_else(
            || Ok(to.unwrap_or(today) - Duration::days(default_days)),
            |f| day("from", f),
        ));
        let (Some(from), Some(to)) = (from, to) else { return Err(errors) };
        if from > to {
            errors.push(FieldError::query("from", "date_order", "from should not be after to"));
        } else if (to - from).num_days() + 1 > MAX_RANGE_DAYS {
            errors.push(FieldError::query(
                "from",
                "range_too_long",
                "A range may span at most two years",
            ));
        }
        errors.finish(|| DateRange { from, to })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").expect("date")
    }

    #[test]
    fn buckets_cover_the_range_with_aligned_starts() {
        assert_eq!(
            Period::Week.buckets(d("2026-11-25"), d("2026-12-08")),
            [d("2026-11-23"), d("2026-11-30"), d("2026-12-07")]
        );
        assert_eq!(
            Period::Month.buckets(d("2026-11-25"), d("2027-01-02")),
            [d("2026-11-01"), d("2026-12-01"), d("2027-01-01")]
        );
        assert_eq!(Period::Day.buckets(d("2026-11-30"), d("2026-11-30")), [d("2026-11-30")]);
    }

    #[test]
    fn ranges_default_and_are_bounded() {
        let today = d("2026-11-30");
        assert_eq!(
            DateRange::parse(None, None, today, 29),
            Ok(DateRange { from: d("2026-11-01"), to: today })
        );
        assert_eq!(
            DateRange::parse(Some("2026-01-01T10:00:00Z"), Some("2026-02-01"), today, 29),
            Ok(DateRange { from: d("2026-01-01"), to: d("2026-02-01") })
        );
        assert!(DateRange::parse(Some("2024-11-29"), Some("2026-11-30"), today, 29).is_err());
        assert!(DateRange::parse(Some("2024-11-30"), Some("2026-11-30"), today, 29).is_ok());
        assert!(DateRange::parse(Some("2026-12-01"), Some("2026-11-30"), today, 29).is_err());
        assert!(DateRange::parse(Some("yesterday"), None, today, 29).is_err());
    }
}
