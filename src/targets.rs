//! What people type to say what they follow, shared by bot commands and SMS signups: a
//! target (a team, a competition, a match id or a phone number) and kind words.

use crate::model::EventKind;
use crate::routing::Scope;
use crate::store::{Store, StoreError};
use crate::teams;

/// Words for groups of kinds, in the languages of the built-in locales (English, Portuguese,
/// Spanish, French): the words their help and replies use, with and without accents.
const GROUP_WORDS: &[(&str, &str)] = &[
    ("goals", "goals"),
    ("gols", "goals"),
    ("golos", "goals"),
    ("goles", "goals"),
    ("buts", "goals"),
    ("cards", "cards"),
    ("cartoes", "cards"),
    ("cartões", "cards"),
    ("tarjetas", "cards"),
    ("cartons", "cards"),
    ("penalties", "penalties"),
    ("penaltis", "penalties"),
    ("pênaltis", "penalties"),
    ("penales", "penalties"),
    ("penaltys", "penalties"),
    ("periods", "periods"),
    ("results", "periods"),
    ("periodos", "periods"),
    ("períodos", "periods"),
    ("periodes", "periods"),
    ("périodes", "periods"),
    ("announcements", "announcements"),
    ("news", "announcements"),
    ("avisos", "announcements"),
    ("annonces", "announcements"),
];

/// A kind word as stored: a group name or a kind name.
pub(crate) fn kind_word(word: &str) -> Option<String> {
    let lower = word.to_lowercase();
    if let Some((_, group)) = GROUP_WORDS.iter().find(|(w, _)| *w == lower) {
        return Some((*group).to_owned());
    }
    let snake = lower.replace('-', "_");
    EventKind::parse(&snake).map(|k| k.as_str().to_owned())
}

/// What a typed target names: a phone number (SMS signup), a match id, a competition, or
/// a team; or suggestions when it names nothing herald knows.
pub(crate) async fn resolve(store: &Store, typed: &str) -> Result<Resolved, StoreError> {
    let trimmed = typed.trim();
    if trimmed.starts_with('+') && is_phone_number(trimmed) {
        return Ok(Resolved::Phone);
    }
    let matches = store.matches(500).await?;
    if let Some(m) = matches
        .iter()
        .find(|m| m.id == trimmed || m.id.rsplit(':').next() == Some(trimmed))
    {
        return Ok(Resolved::Scope(Scope::Match(m.id.clone())));
    }
    // Another source's id of a match listed under the first source's.
    if trimmed.contains(':')
        && let Some(fused) = store.fused_id(trimmed).await?
    {
        return Ok(Resolved::Scope(Scope::Match(fused)));
    }
    let (seen_teams, competitions) = store.known_names().await?;
    let folded = teams::fold(trimmed);
    if folded.len() >= 4
        && let Some(c) = competitions
            .iter()
            .find(|c| teams::fold(c).contains(&folded))
    {
        return Ok(Resolved::Scope(Scope::Competition(c.clone())));
    }
    if let Some(team) = teams::resolve(trimmed, &seen_teams) {
        return Ok(Resolved::Scope(Scope::Team(team)));
    }
    Ok(Resolved::Unknown(teams::suggestions(
        trimmed,
        &seen_teams,
        &competitions,
    )))
}

/// Whether `typed` is written like a phone number: at least seven digits, with only spaces,
/// dashes, dots, parentheses and a leading `+` between them.
pub(crate) fn is_phone_number(typed: &str) -> bool {
    let typed = typed.trim();
    let typed = typed.strip_prefix('+').unwrap_or(typed);
    typed.chars().filter(char::is_ascii_digit).count() >= 7
        && typed
            .chars()
            .all(|c| c.is_ascii_digit() || " -().".contains(c))
}

/// What a typed target names.
pub(crate) enum Resolved {
    /// Something to follow.
    Scope(Scope),
    /// A phone number.
    Phone,
    /// Nothing herald knows, with close names.
    Unknown(Vec<String>),
}
