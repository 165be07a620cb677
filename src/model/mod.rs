//! The domain: normalized match state as sources see it, and the events herald notifies about.

mod event;
mod lineup;

use serde::{Deserialize, Serialize};

pub use event::{Event, EventKind};
pub use lineup::{Lineup, Lineups, Player, Position, Venue};

/// Home or away.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    /// The first-named team.
    Home,
    /// The second-named team.
    Away,
}

impl Side {
    /// The other side.
    pub fn other(self) -> Self {
        match self {
            Self::Home => Self::Away,
            Self::Away => Self::Home,
        }
    }

    /// Both sides, home first.
    pub const BOTH: [Self; 2] = [Self::Home, Self::Away];
}

/// Goals per side.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema,
)]
pub struct Score {
    /// Goals of the home team.
    pub home: u16,
    /// Goals of the away team.
    pub away: u16,
}

impl Score {
    /// A score.
    pub const fn new(home: u16, away: u16) -> Self {
        Self { home, away }
    }

    /// The goals of one side.
    pub fn get(self, side: Side) -> u16 {
        match side {
            Side::Home => self.home,
            Side::Away => self.away,
        }
    }

    /// Adds one goal to a side (a provider's absurd score stays at the largest one).
    pub fn add(&mut self, side: Side) {
        match side {
            Side::Home => self.home = self.home.saturating_add(1),
            Side::Away => self.away = self.away.saturating_add(1),
        }
    }

    /// Goals of both sides together (at most `u16::MAX`, whatever a provider says).
    pub fn total(self) -> u16 {
        self.home.saturating_add(self.away)
    }

    /// The leading side, `None` on a draw.
    pub fn leader(self) -> Option<Side> {
        match self.home.cmp(&self.away) {
            std::cmp::Ordering::Greater => Some(Side::Home),
            std::cmp::Ordering::Less => Some(Side::Away),
            std::cmp::Ordering::Equal => None,
        }
    }
}

impl std::fmt::Display for Score {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}-{}", self.home, self.away)
    }
}

/// Where a match is. The first eleven variants are the main line a match moves along, in order;
/// the last four take a match off it.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
pub enum Phase {
    /// Not started.
    #[serde(rename = "PRE")]
    Pre,
    /// First half.
    #[serde(rename = "1H")]
    FirstHalf,
    /// Half-time.
    #[serde(rename = "HT")]
    HalfTime,
    /// Second half.
    #[serde(rename = "2H")]
    SecondHalf,
    /// End of regulation, before extra time.
    #[serde(rename = "BRK_ET")]
    BreakBeforeExtraTime,
    /// First half of extra time.
    #[serde(rename = "ET1")]
    ExtraTimeFirstHalf,
    /// Half-time of extra time.
    #[serde(rename = "ET_HT")]
    ExtraTimeHalfTime,
    /// Second half of extra time.
    #[serde(rename = "ET2")]
    ExtraTimeSecondHalf,
    /// End of extra time, before the shoot-out.
    #[serde(rename = "BRK_P")]
    BreakBeforePenalties,
    /// Penalty shoot-out.
    #[serde(rename = "PEN")]
    Penalties,
    /// Finished.
    #[serde(rename = "FT")]
    Finished,
    /// Interrupted or suspended; may resume.
    #[serde(rename = "SUSP")]
    Suspended,
    /// Postponed before it started.
    #[serde(rename = "PST")]
    Postponed,
    /// Abandoned.
    #[serde(rename = "ABD")]
    Abandoned,
    /// Cancelled.
    #[serde(rename = "CANC")]
    Cancelled,
}

impl Phase {
    /// The main line, in order.
    pub const LINE: [Self; 11] = [
        Self::Pre,
        Self::FirstHalf,
        Self::HalfTime,
        Self::SecondHalf,
        Self::BreakBeforeExtraTime,
        Self::ExtraTimeFirstHalf,
        Self::ExtraTimeHalfTime,
        Self::ExtraTimeSecondHalf,
        Self::BreakBeforePenalties,
        Self::Penalties,
        Self::Finished,
    ];

    /// The position on the main line, `None` for suspended/postponed/abandoned/cancelled.
    pub fn line_index(self) -> Option<usize> {
        Self::LINE.iter().position(|p| *p == self)
    }

    /// The short code used in JSON and templates (`1H`, `HT`, …).
    pub fn code(self) -> &'static str {
        match self {
            Self::Pre => "PRE",
            Self::FirstHalf => "1H",
            Self::HalfTime => "HT",
            Self::SecondHalf => "2H",
            Self::BreakBeforeExtraTime => "BRK_ET",
            Self::ExtraTimeFirstHalf => "ET1",
            Self::ExtraTimeHalfTime => "ET_HT",
            Self::ExtraTimeSecondHalf => "ET2",
            Self::BreakBeforePenalties => "BRK_P",
            Self::Penalties => "PEN",
            Self::Finished => "FT",
            Self::Suspended => "SUSP",
            Self::Postponed => "PST",
            Self::Abandoned => "ABD",
            Self::Cancelled => "CANC",
        }
    }

    /// Whether the ball is in play (or a shoot-out is on): poll fast.
    pub fn is_playing(self) -> bool {
        matches!(
            self,
            Self::FirstHalf
                | Self::SecondHalf
                | Self::ExtraTimeFirstHalf
                | Self::ExtraTimeSecondHalf
                | Self::Penalties
        )
    }

    /// Whether the match is in a break between periods: poll slower.
    pub fn is_break(self) -> bool {
        matches!(
            self,
            Self::HalfTime
                | Self::BreakBeforeExtraTime
                | Self::ExtraTimeHalfTime
                | Self::BreakBeforePenalties
                | Self::Suspended
        )
    }

    /// The period a minute of play belongs to (45+2 is still the first half).
    pub fn for_minute(minute: u16) -> Self {
        match minute {
            0..=45 => Self::FirstHalf,
            46..=90 => Self::SecondHalf,
            91..=105 => Self::ExtraTimeFirstHalf,
            _ => Self::ExtraTimeSecondHalf,
        }
    }
}

/// The match clock: 45+2 is minute 45, extra 2.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Clock {
    /// The minute of regular time (or extra time).
    pub minute: u16,
    /// Added minutes beyond `minute`.
    pub extra: Option<u16>,
}

impl Clock {
    /// A clock reading without added time.
    pub const fn at(minute: u16) -> Self {
        Self {
            minute,
            extra: None,
        }
    }

    /// A clock reading in added time.
    pub const fn added(minute: u16, extra: u16) -> Self {
        Self {
            minute,
            extra: Some(extra),
        }
    }

    /// Parses `"45+2"`, `"45'+2'"`, `"90+"`, `"23'"`, `"23"`.
    pub fn parse(text: &str) -> Option<Self> {
        let cleaned: String = text.chars().filter(|c| *c != '\'' && *c != '’').collect();
        let cleaned = cleaned.trim();
        let (minute, extra) = match cleaned.split_once('+') {
            Some((m, e)) => (m, Some(e.trim())),
            None => (cleaned, None),
        };
        let minute = minute.trim().parse().ok()?;
        let extra = match extra {
            None | Some("") => None,
            Some(e) => Some(e.parse().ok()?),
        };
        Some(Self { minute, extra })
    }
}

impl std::fmt::Display for Clock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.extra {
            Some(extra) => write!(f, "{}+{}'", self.minute, extra),
            None => write!(f, "{}'", self.minute),
        }
    }
}

/// A team as the provider names it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Team {
    /// The provider's id of the team.
    pub id: String,
    /// Display name.
    pub name: String,
}

/// Everything a source knows about one match at one moment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MatchState {
    /// The provider's match id. The poller prefixes it with the source name.
    pub id: String,
    /// Competition name, e.g. "FIFA World Cup".
    pub competition: Option<String>,
    /// Home team.
    pub home: Team,
    /// Away team.
    pub away: Team,
    /// Scheduled kick-off, Unix seconds.
    pub kickoff: Option<i64>,
    /// Where the match is.
    pub phase: Phase,
    /// The clock, when the provider gives it.
    pub clock: Option<Clock>,
    /// The match score (without shoot-out goals).
    pub score: Score,
    /// The shoot-out score, once a shoot-out starts.
    pub pens: Option<Score>,
    /// Whether extra time was played (providers say so even after the match).
    pub extra_time: bool,
    /// The winner, when the provider says.
    pub winner: Option<Side>,
    /// Goals, cards and penalties, with provider-stable keys.
    pub incidents: Vec<Incident>,
    /// Where it is played, when the source says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub venue: Option<Venue>,
    /// The teams' line-ups, once the source publishes them.
    #[serde(default, skip_serializing_if = "Lineups::is_empty")]
    pub lineups: Lineups,
}

impl MatchState {
    /// A team by side.
    pub fn team(&self, side: Side) -> &Team {
        match side {
            Side::Home => &self.home,
            Side::Away => &self.away,
        }
    }
}

/// What happened, as far as notifications care.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum IncidentKind {
    /// A goal from open play.
    Goal,
    /// A goal scored directly from a free kick.
    FreeKickGoal,
    /// A converted penalty during play.
    PenaltyGoal,
    /// An own goal; `side` is the team credited with it.
    OwnGoal,
    /// A penalty during play that was saved or missed (`detail` says which).
    PenaltyMissed,
    /// A penalty was awarded.
    PenaltyAwarded,
    /// A yellow card.
    YellowCard,
    /// A second yellow, hence a sending-off.
    SecondYellow,
    /// A straight red card.
    RedCard,
    /// A scored kick in the shoot-out.
    ShootoutScored,
    /// A missed or saved kick in the shoot-out.
    ShootoutMissed,
    /// The provider says an earlier goal was cancelled (VAR).
    GoalCancelled,
}

impl IncidentKind {
    /// Whether it changes the match score.
    pub fn is_goal(self) -> bool {
        matches!(
            self,
            Self::Goal | Self::FreeKickGoal | Self::PenaltyGoal | Self::OwnGoal
        )
    }

    /// Whether it is a shoot-out kick.
    pub fn is_shootout_kick(self) -> bool {
        matches!(self, Self::ShootoutScored | Self::ShootoutMissed)
    }
}

/// One item of a match's timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Incident {
    /// Stable within the match: the provider's event id, or a key derived from its fields.
    pub key: String,
    /// What happened.
    pub kind: IncidentKind,
    /// The team it counts for: the credited team for goals (also own goals), the player's team
    /// otherwise.
    pub side: Option<Side>,
    /// The player, as the provider spells the name.
    pub player: Option<String>,
    /// The period it happened in.
    pub period: Option<Phase>,
    /// When it happened.
    pub clock: Option<Clock>,
    /// When it happened by the provider's clock (Unix ms), when the provider says (FIFA's
    /// event `Timestamp`): where the goal-to-phone latency starts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<i64>,
    /// The score right after it, when the provider says (goals).
    pub score_after: Option<Score>,
    /// The shoot-out score right after it, when the provider says (shoot-out kicks).
    pub pens_after: Option<Score>,
    /// Extra detail: `saved`/`missed`/`post`/`crossbar` for penalties.
    pub detail: Option<String>,
    /// The provider's order (list position, event id), to break ties within a minute.
    pub order: i64,
}

#[cfg(test)]
mod tests;
