//! Quiet hours: a daily window of wall-clock time in an IANA time zone (`23:00-07:00
//! Europe/Lisbon`) during which a recipient's notifications are held for a digest, or dropped
//! for some kinds. Windows may cross midnight; daylight-saving changes are the zone's own
//! (the window is wall-clock time, so it is an hour shorter or longer on the night the clocks
//! change).

use std::fmt;

use jiff::civil::{Date, Time};
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};
use serde::{Deserialize, Serialize};

use crate::targets::kind_word;

/// A recipient's quiet hours.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "Stored", into = "Stored")]
pub struct Quiet {
    start: Time,
    end: Time,
    zone: String,
    tz: TimeZone,
    /// Kinds or groups (`cards`) dropped inside the window instead of held.
    drop: Vec<String>,
}

/// Why a quiet-hours setting was refused; the text is what the user is told.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QuietError {
    /// Not `HH:MM-HH:MM`.
    #[error("`{0}` is not a window like 23:00-07:00")]
    Window(String),
    /// Not a zone of the IANA database.
    #[error("`{0}` is not a time zone like Europe/Lisbon")]
    Zone(String),
    /// Start and end are the same time.
    #[error("the window starts and ends at the same time")]
    Empty,
    /// A word after `drop` that is not a kind.
    #[error("`{0}` is not a kind of notification like goals or cards")]
    Kind(String),
    /// Words that mean nothing here.
    #[error("`{0}` is not understood; try quiet 23:00-07:00 Europe/Lisbon drop cards")]
    Extra(String),
}

impl Quiet {
    /// Quiet hours as typed to set them: none for a blank or `off` (`none`, `clear`, …),
    /// else [`Quiet::parse`].
    ///
    /// # Errors
    /// What [`Quiet::parse`] refuses.
    pub fn setting(typed: &str, default_zone: &str) -> Result<Option<Self>, QuietError> {
        let typed = typed.trim();
        let off = ["off", "none", "stop", "no", "clear"]
            .iter()
            .any(|w| typed.eq_ignore_ascii_case(w));
        if typed.is_empty() || off {
            Ok(None)
        } else {
            Self::parse(typed, default_zone).map(Some)
        }
    }

    /// Parses `23:00-07:00 [Europe/Lisbon] [drop cards yellow_card]`; the zone defaults to
    /// `default_zone`.
    ///
    /// # Errors
    /// A malformed window, an unknown zone or kind, an empty window.
    pub fn parse(text: &str, default_zone: &str) -> Result<Self, QuietError> {
        let mut words = text.split_whitespace();
        let window = words
            .next()
            .ok_or_else(|| QuietError::Window(String::new()))?;
        let (start, end) = window
            .split_once('-')
            .and_then(|(a, b)| Some((time(a)?, time(b)?)))
            .ok_or_else(|| QuietError::Window(window.to_owned()))?;
        let mut zone = default_zone.to_owned();
        let mut drop = Vec::new();
        let mut dropping = false;
        for word in words {
            if dropping {
                drop.push(kind_word(word).ok_or_else(|| QuietError::Kind(word.to_owned()))?);
            } else if word.eq_ignore_ascii_case("drop") {
                dropping = true;
            } else if word.contains('/') || word.eq_ignore_ascii_case("utc") {
                zone = word.to_owned();
            } else {
                return Err(QuietError::Extra(word.to_owned()));
            }
        }
        Self::new(start, end, &zone, drop)
    }

    /// Quiet hours from their parts.
    ///
    /// # Errors
    /// An unknown zone, or `start == end`.
    pub fn new(start: Time, end: Time, zone: &str, drop: Vec<String>) -> Result<Self, QuietError> {
        if start == end {
            return Err(QuietError::Empty);
        }
        let tz = TimeZone::get(zone).map_err(|_| QuietError::Zone(zone.to_owned()))?;
        let zone = tz.iana_name().unwrap_or(zone).to_owned();
        Ok(Self {
            start,
            end,
            zone,
            tz,
            drop,
        })
    }

    /// The zone's IANA name.
    pub fn zone(&self) -> &str {
        &self.zone
    }

    /// `23:00-07:00`.
    pub fn window(&self) -> String {
        format!("{}-{}", hhmm(self.start), hhmm(self.end))
    }

    /// Kinds or groups dropped inside the window.
    pub fn dropped(&self) -> &[String] {
        &self.drop
    }

    /// Whether an event of `kind` is dropped, not held, inside the window.
    pub fn drops(&self, kind: crate::model::EventKind) -> bool {
        !self.drop.is_empty() && crate::routing::kind_matches(&self.drop, kind)
    }

    /// When the window `now` falls in ends, or `None` when `now` is outside every window.
    pub fn ends_after(&self, now: Timestamp) -> Option<Timestamp> {
        let today = now.to_zoned(self.tz.clone()).date();
        // The window that started yesterday may still be running (it crosses midnight).
        [today.yesterday().ok()?, today]
            .into_iter()
            .filter_map(|day| self.on(day))
            .find(|(start, end)| *start <= now && now < *end)
            .map(|(_, end)| end)
    }

    /// The window that starts on `day`: its start and end instants. A start inside a
    /// daylight-saving gap begins when the clocks have moved on; an end inside a repeated
    /// hour is its second occurrence (the whole night stays quiet).
    fn on(&self, day: Date) -> Option<(Timestamp, Timestamp)> {
        let end_day = if self.end > self.start {
            day
        } else {
            day.checked_add(1.day()).ok()?
        };
        let start = self
            .tz
            .to_ambiguous_timestamp(day.to_datetime(self.start))
            .compatible()
            .ok()?;
        let end = self
            .tz
            .to_ambiguous_timestamp(end_day.to_datetime(self.end))
            .later()
            .ok()?;
        Some((start, end))
    }
}

impl fmt::Display for Quiet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.window(), self.zone)?;
        if !self.drop.is_empty() {
            write!(f, " drop {}", self.drop.join(" "))?;
        }
        Ok(())
    }
}

/// `7:00`, `07:00` or `07:00:30`.
fn time(text: &str) -> Option<Time> {
    let mut parts = text.split(':');
    let number = |p: Option<&str>| -> Option<i8> {
        let p = p?;
        (!p.is_empty() && p.len() <= 2 && p.bytes().all(|b| b.is_ascii_digit()))
            .then(|| p.parse().ok())
            .flatten()
    };
    let hour = number(parts.next())?;
    let minute = number(parts.next())?;
    let second = match parts.next() {
        None => 0,
        some => number(some)?,
    };
    if parts.next().is_some() {
        return None;
    }
    Time::new(hour, minute, second, 0).ok()
}

/// `07:00`, or `07:00:30` when there are seconds.
fn hhmm(t: Time) -> String {
    if t.second() == 0 {
        format!("{:02}:{:02}", t.hour(), t.minute())
    } else {
        format!("{:02}:{:02}:{:02}", t.hour(), t.minute(), t.second())
    }
}

/// Quiet hours as stored (JSON in `chats.quiet`).
#[derive(Serialize, Deserialize)]
struct Stored {
    start: String,
    end: String,
    zone: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    drop: Vec<String>,
}

impl TryFrom<Stored> for Quiet {
    type Error = QuietError;

    fn try_from(s: Stored) -> Result<Self, QuietError> {
        let start = time(&s.start).ok_or_else(|| QuietError::Window(s.start.clone()))?;
        let end = time(&s.end).ok_or_else(|| QuietError::Window(s.end.clone()))?;
        Self::new(start, end, &s.zone, s.drop)
    }
}

impl From<Quiet> for Stored {
    fn from(q: Quiet) -> Self {
        Self {
            start: hhmm(q.start),
            end: hhmm(q.end),
            zone: q.zone,
            drop: q.drop,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    #[test]
    fn parses_windows_zones_and_kinds() {
        let q = Quiet::parse("23:00-7:00 Europe/Lisbon drop cards", "UTC").unwrap();
        assert_eq!(q.to_string(), "23:00-07:00 Europe/Lisbon drop cards");
        assert!(q.drops(crate::model::EventKind::YellowCard));
        assert!(!q.drops(crate::model::EventKind::Goal));
        assert_eq!(Quiet::parse("22:30-06:15", "UTC").unwrap().zone(), "UTC");
        assert_eq!(
            Quiet::parse("25:00-07:00", "UTC"),
            Err(QuietError::Window("25:00-07:00".into()))
        );
        assert_eq!(
            Quiet::parse("23:00-07:00 Mars/Olympus", "UTC"),
            Err(QuietError::Zone("Mars/Olympus".into()))
        );
        assert_eq!(Quiet::parse("07:00-07:00", "UTC"), Err(QuietError::Empty));
        assert_eq!(
            Quiet::parse("23:00-07:00 drop sandwiches", "UTC"),
            Err(QuietError::Kind("sandwiches".into()))
        );
        assert_eq!(
            Quiet::parse("23:00-07:00 please", "UTC"),
            Err(QuietError::Extra("please".into()))
        );
        let stored = serde_json::to_string(&q).unwrap();
        assert_eq!(serde_json::from_str::<Quiet>(&stored).unwrap(), q);
    }

    #[test]
    fn a_window_crossing_midnight_holds_until_the_morning() {
        let q = Quiet::parse("23:00-07:00 UTC", "UTC").unwrap();
        assert_eq!(q.ends_after(at("2026-06-10T22:59:59Z")), None);
        assert_eq!(
            q.ends_after(at("2026-06-10T23:00:00Z")),
            Some(at("2026-06-11T07:00:00Z"))
        );
        assert_eq!(
            q.ends_after(at("2026-06-11T03:00:00Z")),
            Some(at("2026-06-11T07:00:00Z"))
        );
        assert_eq!(q.ends_after(at("2026-06-11T07:00:00Z")), None);
        assert_eq!(q.ends_after(at("2026-06-11T12:00:00Z")), None);
    }

    #[test]
    fn a_window_within_a_day() {
        let q = Quiet::parse("13:00-15:30 America/New_York", "UTC").unwrap();
        // 14:00 EDT is 18:00 UTC.
        assert_eq!(
            q.ends_after(at("2026-06-10T18:00:00Z")),
            Some(at("2026-06-10T19:30:00Z"))
        );
        assert_eq!(q.ends_after(at("2026-06-10T20:00:00Z")), None);
        assert_eq!(q.ends_after(at("2026-06-10T16:59:00Z")), None);
    }

    #[test]
    fn the_window_follows_the_clocks_when_they_change() {
        let q = Quiet::parse("22:00-07:00 Europe/Lisbon", "UTC").unwrap();
        // Autumn: summer time (UTC+1) ends at 02:00 on 25 October 2026; the night is an hour
        // longer: 22:00 WEST (21:00 UTC) to 07:00 WET (07:00 UTC).
        assert_eq!(
            q.ends_after(at("2026-10-24T21:00:00Z")),
            Some(at("2026-10-25T07:00:00Z"))
        );
        assert_eq!(q.ends_after(at("2026-10-24T20:59:59Z")), None);
        assert_eq!(
            q.ends_after(at("2026-10-25T06:30:00Z")),
            Some(at("2026-10-25T07:00:00Z"))
        );
        // Spring: 01:00 becomes 02:00 on 29 March 2026; the night is an hour shorter:
        // 22:00 WET (22:00 UTC) to 07:00 WEST (06:00 UTC).
        assert_eq!(
            q.ends_after(at("2026-03-28T22:00:00Z")),
            Some(at("2026-03-29T06:00:00Z"))
        );
        assert_eq!(q.ends_after(at("2026-03-29T06:00:00Z")), None);
    }

    #[test]
    fn edges_inside_a_changing_hour() {
        // New York: 02:00 does not exist on 8 March 2026 and 01:30 happens twice on
        // 1 November 2026.
        let q = Quiet::parse("02:30-05:00 America/New_York", "UTC").unwrap();
        // The start in the gap begins when the clocks jumped: 03:30 EDT (07:30 UTC).
        assert_eq!(q.ends_after(at("2026-03-08T07:00:00Z")), None);
        assert_eq!(
            q.ends_after(at("2026-03-08T07:30:00Z")),
            Some(at("2026-03-08T09:00:00Z"))
        );
        let q = Quiet::parse("23:00-01:30 America/New_York", "UTC").unwrap();
        // The end in the repeated hour is the second 01:30 (EST, 06:30 UTC).
        assert_eq!(
            q.ends_after(at("2026-11-01T05:45:00Z")),
            Some(at("2026-11-01T06:30:00Z"))
        );
    }
}
