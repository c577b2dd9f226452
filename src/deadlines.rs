//! Deadline clocks: working-day arithmetic with Dutch public holidays, and the SLA clocks of a
//! submission.
//!
//! Pure logic on jiff types, no I/O. Working days are counted in the calendar's time zone: the
//! local day of receipt decides, not the UTC day. Every deadline is an instant (a `Timestamp`),
//! so comparing it with "now" needs no time zone.
//!
//! The functions here cannot fail: a deadline that would fall outside jiff's range (around year
//! 9999, only reachable with absurd promises) saturates to `Timestamp::MAX`, i.e. "never due".
//! The config validates the promises long before that.

use jiff::{SignedDuration, Span, Timestamp, ToSpan, civil::Date, civil::Weekday, tz::TimeZone};
use std::collections::BTreeSet;

/// How Liberation Day (5 May) counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum LiberationDay {
    /// A day off every year.
    #[default]
    Always,
    /// A day off only in lustrum years (`year % 5 == 0`), as many collective agreements say.
    Lustrum,
    /// Never a day off.
    Never,
}

/// Which days are working days, in which time zone.
#[derive(Debug, Clone)]
pub struct Calendar {
    tz: TimeZone,
    good_friday_closed: bool,
    liberation_day: LiberationDay,
    closed_days: BTreeSet<Date>,
}

impl Calendar {
    /// A calendar in `tz`, closed on the Dutch public holidays (Good Friday and Liberation Day as
    /// configured) and on `closed_days`.
    pub fn new(
        tz: TimeZone,
        good_friday_closed: bool,
        liberation_day: LiberationDay,
        closed_days: impl IntoIterator<Item = Date>,
    ) -> Calendar {
        Calendar {
            tz,
            good_friday_closed,
            liberation_day,
            closed_days: closed_days.into_iter().collect(),
        }
    }

    /// The Dutch public holidays of `year` that this calendar closes on, with their English
    /// names, in date order (extra closed days not included).
    ///
    /// Two holidays can share a date (Ascension Day fell on Liberation Day in 2016); both are
    /// listed. King's Day follows the rule in force since 2014 (27 April, or Saturday 26 April
    /// when the 27th is a Sunday); earlier years get Queen's Day under the 1980–2013 rule
    /// (30 April, or Saturday 29 April when the 30th is a Sunday), also for years before 1980.
    pub fn holidays(&self, year: i16) -> Vec<(Date, &'static str)> {
        let easter = easter_sunday(year);
        // Offsets of at most 50 days from a date in March/April stay inside the year, so the
        // saturating arithmetic never saturates.
        let from_easter = |days: i32| easter.saturating_add(days.days());
        let mut days = vec![(day(year, 1, 1), "New Year's Day")];
        if self.good_friday_closed {
            days.push((from_easter(-2), "Good Friday"));
        }
        days.push((from_easter(1), "Easter Monday"));
        days.push(if year >= 2014 {
            (sunday_to_saturday(day(year, 4, 27)), "King's Day")
        } else {
            (sunday_to_saturday(day(year, 4, 30)), "Queen's Day")
        });
        let liberation = match self.liberation_day {
            LiberationDay::Always => true,
            LiberationDay::Lustrum => year.rem_euclid(5) == 0,
            LiberationDay::Never => false,
        };
        if liberation {
            days.push((day(year, 5, 5), "Liberation Day"));
        }
        days.push((from_easter(39), "Ascension Day"));
        days.push((from_easter(50), "Whit Monday"));
        days.push((day(year, 12, 25), "Christmas Day"));
        days.push((day(year, 12, 26), "Boxing Day"));
        // With an early Easter, Ascension Day (30 April – 3 June) comes before 5 May; a stable
        // sort keeps same-day holidays in the order above.
        days.sort_by_key(|&(date, _)| date);
        days
    }

    /// Weekday, not a holiday, not an extra closed day.
    pub fn is_working_day(&self, d: Date) -> bool {
        !matches!(d.weekday(), Weekday::Saturday | Weekday::Sunday)
            && !self.closed_days.contains(&d)
            && !self.holidays(d.year()).iter().any(|&(h, _)| h == d)
    }

    /// How many working days after the local day of `from` the local day of `to` is: 0 on the
    /// same day (or before), 1 on the next working day, and so on. A promise of n working days
    /// is kept when this is at most n.
    pub fn working_days_between(&self, from: Timestamp, to: Timestamp) -> u32 {
        let mut day = from.to_zoned_datetime(self.tz.clone()).date();
        let end = to.to_zoned_datetime(self.tz.clone()).date();
        let mut n = 0;
        while day < end {
            let Ok(next) = day.tomorrow() else {
                break;
            };
            day = next;
            if self.is_working_day(day) {
                n += 1;
            }
        }
        n
    }

    /// The local month (`YYYY-MM`) and year of `at`.
    pub fn local_month(&self, at: Timestamp) -> (i16, String) {
        let date = at.to_zoned_datetime(self.tz.clone()).date();
        (
            date.year(),
            format!("{:04}-{:02}", date.year(), date.month()),
        )
    }

    /// The calendar's time zone.
    pub fn time_zone(&self) -> &TimeZone {
        &self.tz
    }

    /// The end of the n-th working day after the local day of `from`: the instant local midnight
    /// starts the following day. n = 0 → end of the day of `from` itself, even if that is not a
    /// working day.
    pub fn working_days_after(&self, from: Timestamp, n: u32) -> Timestamp {
        let mut current = from.to_zoned_datetime(self.tz.clone()).date();
        let mut left = n;
        while left > 0 {
            // Only fails at the end of jiff's date range: never due.
            let Ok(next) = current.tomorrow() else {
                return Timestamp::MAX;
            };
            current = next;
            if self.is_working_day(current) {
                left -= 1;
            }
        }
        self.end_of_day(current)
    }

    /// The instant the local day after `day` starts. The next midnight rather than 23:59:59.999
    /// of this day, so no precision has to be picked; a zone whose DST starts at midnight still
    /// gets the real start of the next day, because jiff resolves the gap forwards.
    fn end_of_day(&self, day: Date) -> Timestamp {
        day.tomorrow()
            .and_then(|next| next.to_zoned_datetime(self.tz.clone()))
            .map_or(Timestamp::MAX, |zdt| zdt.timestamp())
    }

    /// The same local wall-clock time `days` calendar days after `from`: across a DST change the
    /// elapsed time is 23 or 25 hours per changed day, which is what a reporter reading "90 days"
    /// expects.
    fn calendar_days_after(&self, from: Timestamp, days: u32) -> Timestamp {
        Span::new()
            .try_days(i64::from(days))
            .and_then(|span| from.to_zoned_datetime(self.tz.clone()).checked_add(span))
            .map_or(Timestamp::MAX, |zdt| zdt.timestamp())
    }
}

/// A fixed-date holiday. Callers pass valid month/day pairs (1 Jan, 27/30 Apr, 5 May, 25/26
/// Dec exist in every year), so `civil::date` cannot panic.
fn day(year: i16, month: i8, dom: i8) -> Date {
    jiff::civil::date(year, month, dom)
}

/// King's and Queen's Day are not celebrated on a Sunday but the day before.
fn sunday_to_saturday(d: Date) -> Date {
    if d.weekday() == Weekday::Sunday {
        d.saturating_sub(1.day())
    } else {
        d
    }
}

/// Easter Sunday of `year` (Gregorian; anonymous Gregorian / Meeus algorithm). Valid for
/// 1583..=9999; other years get the proleptic Gregorian date the formula gives, which is always
/// between 22 March and 25 April.
pub fn easter_sunday(year: i16) -> Date {
    let y = i32::from(year);
    // Euclidean division so that the formula stays in range (and cannot panic) for negative
    // years too; for positive years it equals the textbook integer division.
    let (a, b, c) = (y.rem_euclid(19), y.div_euclid(100), y.rem_euclid(100));
    let (d, e) = (b.div_euclid(4), b.rem_euclid(4));
    let f = (b + 8).div_euclid(25);
    let g = (b - f + 1).div_euclid(3);
    let h = (19 * a + b - d - g + 15).rem_euclid(30);
    let (i, k) = (c / 4, c % 4);
    let l = (32 + 2 * e + 2 * i - h - k).rem_euclid(7);
    let m = (a + 11 * h + 22 * l) / 451;
    let month = (h + l - 7 * m + 114) / 31;
    let dom = (h + l - 7 * m + 114) % 31 + 1;
    // month is 3 or 4 and dom at most 31 (25 in April), so both fit in i8 and make a valid date.
    day(year, month as i8, dom as i8)
}

/// The promises of the disclosure policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Promises {
    /// Acknowledge within this many working days.
    pub acknowledge_working_days: u32,
    /// First assessment within this many working days.
    pub assess_working_days: u32,
    /// Resolution within this many calendar days.
    pub resolve_days: u32,
    /// Data breaches: hours until the data protection authority must be notified.
    pub data_breach_notify_hours: u32,
}

/// One clock.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, PartialOrd, Ord, Hash,
)]
#[serde(rename_all = "kebab-case")]
pub enum ClockKind {
    /// Acknowledge receipt to the reporter.
    Acknowledge,
    /// First assessment of the report.
    Assess,
    /// Resolve the case.
    Resolve,
    /// Decide on notifying the data protection authority (data breaches only).
    NotifyAuthority,
}

impl ClockKind {
    /// The stable kebab-case name, as serialized.
    pub fn as_str(self) -> &'static str {
        match self {
            ClockKind::Acknowledge => "acknowledge",
            ClockKind::Assess => "assess",
            ClockKind::Resolve => "resolve",
            ClockKind::NotifyAuthority => "notify-authority",
        }
    }

    /// What the clock is waiting for, for people.
    pub fn describe(self) -> &'static str {
        match self {
            ClockKind::Acknowledge => "acknowledgement",
            ClockKind::Assess => "first assessment",
            ClockKind::Resolve => "resolution",
            ClockKind::NotifyAuthority => {
                "notification of the data protection authority (GDPR art. 33)"
            }
        }
    }
}

/// When each clock was stopped (the first time the case reached the state that stops it).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stops {
    /// Stops the acknowledge clock.
    pub acknowledged: Option<Timestamp>,
    /// Stops the assess clock.
    pub assessed: Option<Timestamp>,
    /// Stops the resolve clock.
    pub resolved: Option<Timestamp>,
    /// Stops the notify-authority clock.
    pub authority_decided: Option<Timestamp>,
}

/// Where a clock stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ClockState {
    /// Stopped on time.
    Met,
    /// Stopped after its due time.
    Late,
    /// Running, not yet due.
    Running,
    /// Running and past due.
    Overdue,
}

/// One SLA clock of a submission.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Clock {
    /// Which promise this clock measures.
    pub kind: ClockKind,
    /// The instant the promise expires.
    pub due: Timestamp,
    /// When the clock was stopped, if it was.
    pub stopped_at: Option<Timestamp>,
}

impl Clock {
    /// The state at `now`. `due` itself still counts as in time: a clock stopped exactly at
    /// `due` is met, and a running one becomes overdue only after it.
    pub fn state(&self, now: Timestamp) -> ClockState {
        match self.stopped_at {
            Some(at) if at <= self.due => ClockState::Met,
            Some(_) => ClockState::Late,
            None if now > self.due => ClockState::Overdue,
            None => ClockState::Running,
        }
    }
}

/// The clocks of a submission received at `received`: acknowledge (N working days), assess (N
/// working days), resolve (N calendar days: same local wall-clock time N days later in the
/// calendar's zone, DST-aware), and for a data breach the notify-authority clock (received + N
/// hours, absolute: GDPR counts elapsed hours). Order: acknowledge, assess, resolve,
/// notify-authority.
pub fn clocks(
    calendar: &Calendar,
    promises: &Promises,
    data_breach: bool,
    received: Timestamp,
    stops: &Stops,
) -> Vec<Clock> {
    let clock = |kind, due, stopped_at| Clock {
        kind,
        due,
        stopped_at,
    };
    let mut out = vec![
        clock(
            ClockKind::Acknowledge,
            calendar.working_days_after(received, promises.acknowledge_working_days),
            stops.acknowledged,
        ),
        clock(
            ClockKind::Assess,
            calendar.working_days_after(received, promises.assess_working_days),
            stops.assessed,
        ),
        clock(
            ClockKind::Resolve,
            calendar.calendar_days_after(received, promises.resolve_days),
            stops.resolved,
        ),
    ];
    if data_breach {
        // u32::MAX hours in seconds fits easily in an i64, so from_hours cannot panic.
        let hours = SignedDuration::from_hours(i64::from(promises.data_breach_notify_hours));
        out.push(clock(
            ClockKind::NotifyAuthority,
            received.checked_add(hours).unwrap_or(Timestamp::MAX),
            stops.authority_decided,
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn amsterdam() -> TimeZone {
        TimeZone::get("Europe/Amsterdam").unwrap()
    }

    fn calendar(good_friday_closed: bool, liberation_day: LiberationDay) -> Calendar {
        Calendar::new(amsterdam(), good_friday_closed, liberation_day, [])
    }

    fn dutch() -> Calendar {
        calendar(true, LiberationDay::Always)
    }

    /// A local wall-clock time in Amsterdam.
    fn local(d: Date, hour: i8, minute: i8) -> Timestamp {
        d.at(hour, minute, 0, 0)
            .to_zoned_datetime(amsterdam())
            .unwrap()
            .timestamp()
    }

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn promises() -> Promises {
        Promises {
            acknowledge_working_days: 1,
            assess_working_days: 3,
            resolve_days: 90,
            data_breach_notify_hours: 72,
        }
    }

    fn ack(cal: &Calendar, from: Timestamp) -> Timestamp {
        cal.working_days_after(from, 1)
    }

    #[test]
    fn easter_sunday_matches_known_dates() {
        // Published dates, cross-checked against Oudin's algorithm (a different formula).
        for (year, easter) in [
            (1583, date(1583, 4, 10)),
            (1818, date(1818, 3, 22)), // earliest possible
            (2024, date(2024, 3, 31)),
            (2025, date(2025, 4, 20)),
            (2026, date(2026, 4, 5)),
            (2027, date(2027, 3, 28)),
            (2031, date(2031, 4, 13)),
            (2038, date(2038, 4, 25)), // latest possible
            (2285, date(2285, 3, 22)),
        ] {
            assert_eq!(easter_sunday(year), easter, "{year}");
            assert_eq!(easter.weekday(), Weekday::Sunday);
        }
    }

    #[test]
    fn easter_sunday_does_not_panic_outside_the_gregorian_range() {
        for year in [-9999, -1, 0, 1, 1582, 9999] {
            let easter = easter_sunday(year);
            assert_eq!(easter.year(), year);
            assert!((date(year, 3, 22)..=date(year, 4, 25)).contains(&easter));
        }
    }

    #[test]
    fn holidays_of_2026_are_the_dutch_ones_in_date_order() {
        // Easter 2026 is 5 April: Good Friday 3 Apr, Easter Monday 6 Apr, Ascension 14 May
        // (+39), Whit Monday 25 May (+50). 27 April 2026 is a Monday.
        let expected = vec![
            (date(2026, 1, 1), "New Year's Day"),
            (date(2026, 4, 3), "Good Friday"),
            (date(2026, 4, 6), "Easter Monday"),
            (date(2026, 4, 27), "King's Day"),
            (date(2026, 5, 5), "Liberation Day"),
            (date(2026, 5, 14), "Ascension Day"),
            (date(2026, 5, 25), "Whit Monday"),
            (date(2026, 12, 25), "Christmas Day"),
            (date(2026, 12, 26), "Boxing Day"),
        ];
        assert_eq!(dutch().holidays(2026), expected);
        let without_good_friday = calendar(false, LiberationDay::Always).holidays(2026);
        assert_eq!(without_good_friday.len(), 8);
        assert!(!without_good_friday.iter().any(|&(_, n)| n == "Good Friday"));
    }

    #[test]
    fn an_early_ascension_day_is_sorted_before_liberation_day() {
        // Easter 2008 was 23 March, so Ascension Day was 1 May; in 2016 (Easter 27 March) it
        // fell on 5 May itself and both are listed.
        let names = |year| -> Vec<_> {
            let h = dutch().holidays(year);
            assert!(h.windows(2).all(|w| w[0].0 <= w[1].0));
            h.into_iter().filter(|&(d, _)| d.month() == 5).collect()
        };
        assert_eq!(
            names(2008),
            [
                (date(2008, 5, 1), "Ascension Day"),
                (date(2008, 5, 5), "Liberation Day"),
                (date(2008, 5, 12), "Whit Monday"),
            ]
        );
        assert_eq!(
            names(2016),
            [
                (date(2016, 5, 5), "Liberation Day"),
                (date(2016, 5, 5), "Ascension Day"),
                (date(2016, 5, 16), "Whit Monday"),
            ]
        );
    }

    #[test]
    fn good_friday_closure_moves_maundy_thursday_deadlines_past_easter() {
        // Thursday 2 April 2026, 21:30 CEST. Closed: Good Friday 3 Apr, weekend, Easter Monday
        // 6 Apr, so the working days after are Tue 7, Wed 8, Thu 9. Ends are CEST midnights,
        // 22:00Z the day before.
        let from = local(date(2026, 4, 2), 21, 30);
        assert_eq!(from, ts("2026-04-02T19:30:00Z"));
        let closed = dutch();
        assert_eq!(ack(&closed, from), ts("2026-04-07T22:00:00Z"));
        assert_eq!(
            closed.working_days_after(from, 3),
            ts("2026-04-09T22:00:00Z")
        );
        // Good Friday open: Fri 3, Tue 7, Wed 8.
        let open = calendar(false, LiberationDay::Always);
        assert_eq!(ack(&open, from), ts("2026-04-03T22:00:00Z"));
        assert_eq!(open.working_days_after(from, 3), ts("2026-04-08T22:00:00Z"));
    }

    #[test]
    fn kings_day_moves_to_saturday_when_27_april_is_a_sunday() {
        // 27 April 2031 is a Sunday, so King's Day is Saturday 26 April.
        let holidays = dutch().holidays(2031);
        assert!(holidays.contains(&(date(2031, 4, 26), "King's Day")));
        assert!(!holidays.iter().any(|&(d, _)| d == date(2031, 4, 27)));
        // Friday evening: Sat 26 and Sun 27 are off anyway, Monday 28 is the first working day.
        let from = local(date(2031, 4, 25), 20, 0);
        assert_eq!(ack(&dutch(), from), ts("2031-04-28T22:00:00Z"));
    }

    #[test]
    fn kings_day_on_a_weekday_is_skipped() {
        // Friday 24 April 2026; Monday 27 April is King's Day, Tuesday 28 the first working day.
        let from = local(date(2026, 4, 24), 20, 0);
        assert_eq!(ack(&dutch(), from), ts("2026-04-28T22:00:00Z"));
    }

    #[test]
    fn queens_day_applies_before_2014() {
        // 30 April 2006 was a Sunday, so Queen's Day was Saturday 29 April; 2013 a Tuesday.
        assert!(
            dutch()
                .holidays(2006)
                .contains(&(date(2006, 4, 29), "Queen's Day"))
        );
        assert!(
            dutch()
                .holidays(2013)
                .contains(&(date(2013, 4, 30), "Queen's Day"))
        );
        assert!(!dutch().is_working_day(date(2013, 4, 30)));
    }

    #[test]
    fn christmas_and_new_year_are_skipped() {
        let cal = dutch();
        // Wednesday 23 December 2026: Thu 24 is a working day; Fri 25 and Sat 26 are holidays,
        // Sun 27 a Sunday, so the three days are 24, Mon 28, Tue 29. CET: midnight is 23:00Z.
        let from = local(date(2026, 12, 23), 15, 0);
        assert_eq!(ack(&cal, from), ts("2026-12-24T23:00:00Z"));
        assert_eq!(cal.working_days_after(from, 3), ts("2026-12-29T23:00:00Z"));
        // Thursday 31 December 2026: Fri 1 January 2027 is New Year's Day, then the weekend, so
        // Monday 4 January.
        let from = local(date(2026, 12, 31), 15, 0);
        assert_eq!(ack(&cal, from), ts("2027-01-04T23:00:00Z"));
    }

    #[test]
    fn liberation_day_lustrum_closes_only_in_years_divisible_by_five() {
        // 5 May 2030 is a Sunday, so it cannot show the difference; 5 May 2025 is a Monday and
        // 2025 a lustrum year, 5 May 2026 a Tuesday and not.
        assert_eq!(date(2030, 5, 5).weekday(), Weekday::Sunday);
        let (y2025, y2026) = (date(2025, 5, 5), date(2026, 5, 5));
        let always = calendar(true, LiberationDay::Always);
        let lustrum = calendar(true, LiberationDay::Lustrum);
        let never = calendar(true, LiberationDay::Never);
        assert!(!always.is_working_day(y2025) && !always.is_working_day(y2026));
        assert!(!lustrum.is_working_day(y2025) && lustrum.is_working_day(y2026));
        assert!(never.is_working_day(y2025) && never.is_working_day(y2026));
        assert!(lustrum.holidays(2025).contains(&(y2025, "Liberation Day")));
        assert!(!lustrum.holidays(2026).iter().any(|&(d, _)| d == y2026));
    }

    #[test]
    fn liberation_day_setting_uses_kebab_case() {
        let parsed: LiberationDay = serde_json::from_str("\"lustrum\"").unwrap();
        assert_eq!(parsed, LiberationDay::Lustrum);
        assert_eq!(LiberationDay::default(), LiberationDay::Always);
    }

    #[test]
    fn extra_closed_day_from_config_is_skipped() {
        // Friday 12 June 2026; Monday 15 June closed by config, so Tuesday 16.
        let from = local(date(2026, 6, 12), 10, 0);
        assert_eq!(ack(&dutch(), from), ts("2026-06-15T22:00:00Z"));
        let cal = Calendar::new(
            amsterdam(),
            true,
            LiberationDay::Always,
            [date(2026, 6, 15)],
        );
        assert!(!cal.is_working_day(date(2026, 6, 15)));
        assert!(
            !cal.holidays(2026)
                .iter()
                .any(|&(d, _)| d == date(2026, 6, 15))
        );
        assert_eq!(ack(&cal, from), ts("2026-06-16T22:00:00Z"));
    }

    #[test]
    fn report_on_a_saturday_counts_from_monday() {
        // Saturday 13 June 2026: the first working day after it is Monday 15 June.
        let from = local(date(2026, 6, 13), 10, 0);
        assert_eq!(ack(&dutch(), from), ts("2026-06-15T22:00:00Z"));
    }

    #[test]
    fn local_day_decides_not_the_utc_day() {
        // Both instants are on Thursday 11 June in UTC; in Amsterdam (UTC+2) the first is
        // Thursday 23:30 and the second Friday 00:30.
        let thursday = ts("2026-06-11T21:30:00Z");
        let friday = ts("2026-06-11T22:30:00Z");
        assert_eq!(ack(&dutch(), thursday), ts("2026-06-12T22:00:00Z"));
        assert_eq!(ack(&dutch(), friday), ts("2026-06-15T22:00:00Z"));
    }

    #[test]
    fn zero_working_days_ends_the_day_of_receipt_even_across_dst() {
        let cal = dutch();
        // Saturday 28 March 2026 ends at CET midnight; Sunday 29 March is the 23-hour day of
        // the switch and ends at CEST midnight.
        let saturday = local(date(2026, 3, 28), 10, 0);
        assert_eq!(
            cal.working_days_after(saturday, 0),
            ts("2026-03-28T23:00:00Z")
        );
        let sunday = local(date(2026, 3, 29), 10, 0);
        assert_eq!(
            cal.working_days_after(sunday, 0),
            ts("2026-03-29T22:00:00Z")
        );
    }

    #[test]
    fn resolve_clock_keeps_local_wall_clock_time_across_dst() {
        // 1 March 2026 10:00 CET (09:00Z) + 90 days = 30 May (31 + 30 + 29 days), 10:00 CEST,
        // which is 08:00Z: 89 days and 23 hours of elapsed time.
        let received = local(date(2026, 3, 1), 10, 0);
        assert_eq!(received, ts("2026-03-01T09:00:00Z"));
        let clocks = clocks(&dutch(), &promises(), false, received, &Stops::default());
        assert_eq!(clocks[2].kind, ClockKind::Resolve);
        assert_eq!(clocks[2].due, ts("2026-05-30T08:00:00Z"));
    }

    #[test]
    fn notify_authority_is_72_absolute_hours_and_only_for_data_breaches() {
        // The clocks go forward on 29 March 2026; GDPR hours are elapsed hours, so the local
        // time moves from 13:00 CET to 14:00 CEST.
        let received = ts("2026-03-28T12:00:00Z");
        let breach = clocks(&dutch(), &promises(), true, received, &Stops::default());
        let kinds: Vec<_> = breach.iter().map(|c| c.kind).collect();
        assert_eq!(
            kinds,
            [
                ClockKind::Acknowledge,
                ClockKind::Assess,
                ClockKind::Resolve,
                ClockKind::NotifyAuthority
            ]
        );
        assert_eq!(breach[3].due, ts("2026-03-31T12:00:00Z"));
        let plain = clocks(&dutch(), &promises(), false, received, &Stops::default());
        assert_eq!(plain.len(), 3);
        assert!(plain.iter().all(|c| c.kind != ClockKind::NotifyAuthority));
    }

    #[test]
    fn each_clock_is_stopped_by_its_own_stop() {
        let received = ts("2026-03-28T12:00:00Z");
        let at = |h| Some(received.checked_add(SignedDuration::from_hours(h)).unwrap());
        let stops = Stops {
            acknowledged: at(1),
            assessed: at(2),
            resolved: at(3),
            authority_decided: at(4),
        };
        let stopped: Vec<_> = clocks(&dutch(), &promises(), true, received, &stops)
            .iter()
            .map(|c| c.stopped_at)
            .collect();
        assert_eq!(stopped, [at(1), at(2), at(3), at(4)]);
    }

    #[test]
    fn clock_state_covers_met_late_running_overdue_and_the_boundary() {
        let due = ts("2026-04-07T22:00:00Z");
        let (before, after) = (ts("2026-04-07T21:59:59Z"), ts("2026-04-07T22:00:01Z"));
        let clock = |stopped_at| Clock {
            kind: ClockKind::Acknowledge,
            due,
            stopped_at,
        };
        assert_eq!(clock(Some(before)).state(after), ClockState::Met);
        assert_eq!(clock(Some(due)).state(after), ClockState::Met);
        assert_eq!(clock(Some(after)).state(after), ClockState::Late);
        assert_eq!(clock(None).state(before), ClockState::Running);
        assert_eq!(clock(None).state(due), ClockState::Running);
        assert_eq!(clock(None).state(after), ClockState::Overdue);
    }

    #[test]
    fn clock_kind_names_match_their_serde_names() {
        for kind in [
            ClockKind::Acknowledge,
            ClockKind::Assess,
            ClockKind::Resolve,
            ClockKind::NotifyAuthority,
        ] {
            let json = serde_json::to_string(&kind).unwrap();
            assert_eq!(json, format!("\"{}\"", kind.as_str()));
            assert!(!kind.describe().is_empty());
        }
        assert_eq!(ClockKind::NotifyAuthority.as_str(), "notify-authority");
        let state = serde_json::to_string(&ClockState::Overdue).unwrap();
        assert_eq!(state, "\"overdue\"");
    }

    #[test]
    fn working_days_after_ends_a_working_day_and_counts_exactly_n() {
        // Every day of 2026–2032 as the day of receipt, with every kind of closure in play.
        let tz = amsterdam();
        let cal = Calendar::new(
            tz.clone(),
            true,
            LiberationDay::Lustrum,
            [date(2027, 12, 24), date(2030, 12, 31)],
        );
        let mut day = date(2026, 1, 1);
        while day <= date(2032, 12, 31) {
            let from = local(day, 12, 0);
            let mut previous = cal.working_days_after(from, 0);
            for n in 1..=6 {
                let end = cal.working_days_after(from, n);
                assert!(end > previous, "{day} n={n} not monotonic");
                let end = end.to_zoned_datetime(tz.clone());
                assert_eq!(end.time(), jiff::civil::time(0, 0, 0, 0), "{day} n={n}");
                let last = end.date().yesterday().unwrap();
                assert!(cal.is_working_day(last), "{day} n={n} ends on {last}");
                let counted = day
                    .series(1.day())
                    .skip(1)
                    .take_while(|d| *d <= last)
                    .filter(|d| cal.is_working_day(*d))
                    .count();
                assert_eq!(counted, n as usize, "{day} n={n}");
                previous = end.timestamp();
            }
            day = day.tomorrow().unwrap();
        }
    }

    #[test]
    fn deadlines_beyond_jiffs_range_saturate_to_never_due() {
        let late = local(date(9999, 12, 30), 12, 0);
        assert_eq!(dutch().working_days_after(late, 5), Timestamp::MAX);
        let absurd = Promises {
            acknowledge_working_days: u32::MAX,
            assess_working_days: u32::MAX,
            resolve_days: u32::MAX,
            data_breach_notify_hours: u32::MAX,
        };
        let received = ts("9999-01-01T00:00:00Z");
        let all = clocks(&dutch(), &absurd, true, received, &Stops::default());
        assert!(all.iter().all(|c| c.due == Timestamp::MAX));
    }
}
