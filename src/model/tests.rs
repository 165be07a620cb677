//! Tests of the domain types: scores, phases, clocks and event kinds.

use super::*;

#[test]
fn clock_parses_every_provider_spelling() {
    assert_eq!(Clock::parse("45'+2'"), Some(Clock::added(45, 2)));
    assert_eq!(Clock::parse("90+4"), Some(Clock::added(90, 4)));
    assert_eq!(Clock::parse("45+"), Some(Clock::at(45)));
    assert_eq!(Clock::parse("23'"), Some(Clock::at(23)));
    assert_eq!(Clock::parse(" 7 "), Some(Clock::at(7)));
    assert_eq!(Clock::parse("HT"), None);
    assert_eq!(Clock::parse(""), None);
    assert_eq!(Clock::added(45, 2).to_string(), "45+2'");
}

#[test]
fn phases_serialize_as_codes_and_order_along_the_line() {
    for phase in Phase::LINE {
        let json = serde_json::to_string(&phase).unwrap();
        assert_eq!(json, format!("\"{}\"", phase.code()));
    }
    assert!(Phase::LINE.windows(2).all(|w| w[0] < w[1]));
    assert_eq!(Phase::Suspended.line_index(), None);
    assert_eq!(Phase::for_minute(45), Phase::FirstHalf);
    assert_eq!(Phase::for_minute(46), Phase::SecondHalf);
    assert_eq!(Phase::for_minute(120), Phase::ExtraTimeSecondHalf);
}

#[test]
fn kind_names_round_trip() {
    for kind in EventKind::ALL {
        assert_eq!(EventKind::parse(kind.as_str()), Some(kind));
        let json = serde_json::to_string(&kind).unwrap();
        assert_eq!(json, format!("\"{}\"", kind.as_str()));
        assert!(EventKind::GROUPS.contains(&kind.group()));
    }
}

/// Found by fuzzing: a provider's score of 65535 made the next goal or the total overflow.
#[test]
fn scores_saturate_instead_of_overflowing() {
    let mut score = Score::new(u16::MAX, 0);
    score.add(Side::Home);
    score.add(Side::Away);
    assert_eq!(score, Score::new(u16::MAX, 1));
    assert_eq!(Score::new(40_000, 40_000).total(), u16::MAX);
    assert_eq!(Score::new(4, 2).total(), 6);
}
