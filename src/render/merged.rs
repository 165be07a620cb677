//! Texts made of several events: a digest (what was held during quiet hours, or a backlog
//! merged into one message where the platform charges per message) from
//! `<locale>/digest.j2`, and a live ticker (one message per match, edited in place) from
//! `<locale>/ticker.j2`.

use serde::Serialize;

use super::{Context, RenderError, Rendered, Renderer, sample};
use crate::model::{Event, EventKind, Score};

/// Most event lines a ticker shows (the latest).
pub const TICKER_LINES: usize = 8;

/// What a digest template sees.
#[derive(Debug, Serialize)]
pub struct Digest {
    /// Held by quiet hours ("While you slept"), rather than a backlog merged.
    pub quiet: bool,
    /// Whether the score may be shown.
    pub spoilers: bool,
    /// The matches the events belong to, in the order they first appear.
    pub matches: Vec<MatchPart>,
    /// The titles of events that belong to no match (announcements).
    pub others: Vec<String>,
}

/// One match in a digest.
#[derive(Debug, Serialize)]
pub struct MatchPart {
    /// Home team.
    pub home: String,
    /// Away team.
    pub away: String,
    /// `France 2-1 Croatia` after the last event (without the score when spoiler-free).
    pub score_line: String,
    /// A full-time event is among them.
    pub finished: bool,
    /// Goals among the events (less those disallowed).
    pub goals: usize,
    /// How many events.
    pub count: usize,
    /// The events that are not periods (goals, cards, penalties), in order.
    pub items: Vec<Item>,
}

/// One event of a digest, in short.
#[derive(Debug, Serialize)]
pub struct Item {
    /// The kind (`penalty_goal`).
    pub kind: EventKind,
    /// Its group (`goals`).
    pub group: &'static str,
    /// The player, when known.
    pub player: Option<String>,
    /// The team.
    pub team: Option<String>,
    /// `38'`.
    pub clock: String,
    /// The event's own title, as a single notification would have it.
    pub title: String,
}

/// What a ticker template sees.
#[derive(Debug, Clone, Serialize)]
pub struct TickerView {
    /// Home team.
    pub home: String,
    /// Away team.
    pub away: String,
    /// `France 2-1 Croatia` (without the score when spoiler-free).
    pub score_line: String,
    /// `67'` at the last event, empty when unknown.
    pub clock: String,
    /// The match is over.
    pub finished: bool,
    /// The latest events' titles, oldest first.
    pub lines: Vec<String>,
}

impl TickerView {
    /// The ticker of `event`'s match after it, showing `lines`.
    pub fn after(event: &Event, spoilers: bool, lines: Vec<String>) -> Self {
        let shown = event.shown(spoilers);
        let context = Context::new(&shown);
        Self {
            home: event.home.clone().unwrap_or_default(),
            away: event.away.clone().unwrap_or_default(),
            score_line: context.score_line,
            clock: context.clock,
            finished: event.kind == EventKind::FullTime,
            lines,
        }
    }
}

impl Renderer {
    /// Several events for one recipient as one text, in `locale`.
    ///
    /// # Errors
    /// When a template fails at render time.
    pub fn digest(
        &self,
        events: &[Event],
        locale: &str,
        quiet: bool,
        spoilers: bool,
    ) -> Result<Rendered, RenderError> {
        let mut matches: Vec<(String, MatchPart, Option<Score>)> = Vec::new();
        let mut others = Vec::new();
        for event in events {
            let title = self.render_for(event, locale, spoilers)?.title;
            let Some(id) = &event.match_id else {
                others.push(title);
                continue;
            };
            let at = match matches.iter().position(|(m, ..)| m == id) {
                Some(at) => at,
                None => {
                    matches.push((
                        id.clone(),
                        MatchPart {
                            home: event.home.clone().unwrap_or_default(),
                            away: event.away.clone().unwrap_or_default(),
                            score_line: String::new(),
                            finished: false,
                            goals: 0,
                            count: 0,
                            items: Vec::new(),
                        },
                        None,
                    ));
                    matches.len() - 1
                }
            };
            let (_, part, score) = &mut matches[at];
            part.count += 1;
            part.finished |= event.kind == EventKind::FullTime;
            if event.score.is_some() {
                *score = event.score;
            }
            match event.kind {
                EventKind::GoalDisallowed => part.goals = part.goals.saturating_sub(1),
                kind if kind.group() == "goals" => part.goals += 1,
                _ => {}
            }
            if event.kind.group() != "periods" {
                let shown = event.shown(spoilers);
                part.items.push(Item {
                    kind: event.kind,
                    group: event.kind.group(),
                    player: shown.player.clone(),
                    team: shown.team.clone(),
                    clock: Context::new(&shown).clock,
                    title,
                });
            }
        }
        let matches = matches
            .into_iter()
            .map(|(_, mut part, score)| {
                part.score_line = match score.filter(|_| spoilers) {
                    Some(s) => format!("{} {s} {}", part.home, part.away),
                    None => format!("{} v {}", part.home, part.away),
                };
                part
            })
            .collect();
        self.render_file(
            "digest",
            locale,
            Digest {
                quiet,
                spoilers,
                matches,
                others,
            },
        )
    }

    /// A match's live ticker in `locale`.
    ///
    /// # Errors
    /// When the template fails at render time.
    pub fn ticker(&self, view: &TickerView, locale: &str) -> Result<Rendered, RenderError> {
        self.render_file("ticker", locale, view)
    }
}

/// Renders the digest and ticker templates of `locale` with samples (at startup).
pub(super) fn check(renderer: &Renderer, locale: &str) -> Result<(), RenderError> {
    let events: Vec<Event> = EventKind::ALL.into_iter().map(sample).collect();
    for quiet in [true, false] {
        for spoilers in [true, false] {
            renderer.digest(&events, locale, quiet, spoilers)?;
        }
    }
    let lines = vec!["⚽ GOAL! France 2-1 Croatia".to_owned()];
    for spoilers in [true, false] {
        renderer.ticker(
            &TickerView::after(&sample(EventKind::Goal), spoilers, lines.clone()),
            locale,
        )?;
    }
    Ok(())
}
