//! Whether two providers' matches are the same real match: the same competition (one name
//! inside the other once folded: "World Cup" and "FIFA World Cup™"), the same teams through
//! the alias table, and kick-offs within [`KICKOFF_TOLERANCE_S`] of each other.

use crate::teams;

/// How far apart two providers' kick-off times may be for one match (providers round, and
/// some give the scheduled time, some the actual one).
pub const KICKOFF_TOLERANCE_S: i64 = 20 * 60;

/// What identifies a match across providers.
#[derive(Debug, Clone, Copy)]
pub struct MatchKey<'a> {
    /// Competition name, as the provider spells it.
    pub competition: Option<&'a str>,
    /// Home team.
    pub home: &'a str,
    /// Away team.
    pub away: &'a str,
    /// Kick-off, Unix seconds.
    pub kickoff: Option<i64>,
}

/// Whether competition names are the same competition: equal once folded, or one inside the
/// other. A source that gives none matches any.
pub fn same_competition(a: Option<&str>, b: Option<&str>) -> bool {
    match (a.map(teams::fold), b.map(teams::fold)) {
        (Some(a), Some(b)) if !a.is_empty() && !b.is_empty() => a.contains(&b) || b.contains(&a),
        _ => true,
    }
}

/// Whether `a` and `b` are the same match. Without a kick-off on either side the teams and
/// the competition decide (the caller only offers matches that are recent).
pub fn same_match(a: &MatchKey<'_>, b: &MatchKey<'_>) -> bool {
    let kickoff = match (a.kickoff, b.kickoff) {
        (Some(x), Some(y)) => (x - y).abs() <= KICKOFF_TOLERANCE_S,
        _ => true,
    };
    kickoff
        && teams::same(a.home, b.home)
        && teams::same(a.away, b.away)
        && same_competition(a.competition, b.competition)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key<'a>(competition: &'a str, home: &'a str, away: &'a str, kickoff: i64) -> MatchKey<'a> {
        MatchKey {
            competition: Some(competition),
            home,
            away,
            kickoff: Some(kickoff),
        }
    }

    #[test]
    fn the_same_match_across_providers_spellings() {
        let fifa = key("FIFA World Cup™", "Brazil", "Germany", 1_404_846_000);
        let api = key("World Cup", "Brasil", "Germany", 1_404_846_000 + 300);
        assert!(same_match(&fifa, &api));
        let no_kickoff = MatchKey {
            kickoff: None,
            ..key("FIFA World Cup", "BRA", "GER", 0)
        };
        assert!(same_match(&fifa, &no_kickoff));
    }

    #[test]
    fn other_matches_are_not_the_same() {
        let a = key("FIFA World Cup", "Brazil", "Germany", 1_404_846_000);
        // The return fixture, a day later, teams swapped, another competition.
        assert!(!same_match(
            &a,
            &key("FIFA World Cup", "Brazil", "Germany", 1_404_932_400)
        ));
        assert!(!same_match(
            &a,
            &key("FIFA World Cup", "Germany", "Brazil", 1_404_846_000)
        ));
        assert!(!same_match(
            &a,
            &key("Friendly", "Brazil", "Germany", 1_404_846_000)
        ));
        assert!(!same_match(
            &a,
            &key("FIFA World Cup", "Brazil", "Netherlands", 1_404_846_000)
        ));
    }
}
