//! What herald notifies: the kinds of events and the event itself, with its stable id.

use serde::{Deserialize, Serialize};

use super::{Phase, Score, Side};

/// The kinds of notification herald emits.
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
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// The match started.
    KickOff,
    /// A goal.
    Goal,
    /// A goal straight from a free kick.
    FreeKickGoal,
    /// A converted penalty (also a scored shoot-out kick, with phase `PEN`).
    PenaltyGoal,
    /// An own goal.
    OwnGoal,
    /// A saved or missed penalty (also in the shoot-out, with phase `PEN`).
    PenaltyMissed,
    /// A penalty was awarded.
    PenaltyAwarded,
    /// A yellow card.
    YellowCard,
    /// A second yellow card: sent off.
    SecondYellow,
    /// A straight red card.
    RedCard,
    /// End of the first half.
    HalfTime,
    /// Start of the second half.
    SecondHalfStart,
    /// End of the second half when extra time follows.
    EndOfRegulation,
    /// Start of extra time.
    ExtraTimeStart,
    /// Half-time of extra time.
    ExtraTimeHalfTime,
    /// Start of the second half of extra time.
    ExtraTimeSecondHalfStart,
    /// End of extra time.
    ExtraTimeEnd,
    /// The shoot-out starts.
    PenaltyShootoutStart,
    /// The shoot-out is decided.
    PenaltyShootoutResult,
    /// The match is over.
    FullTime,
    /// A goal notified earlier no longer counts.
    GoalDisallowed,
    /// A free-form message published through the API.
    Announcement,
}

impl EventKind {
    /// Every kind, in a stable order.
    pub const ALL: [Self; 22] = [
        Self::KickOff,
        Self::Goal,
        Self::FreeKickGoal,
        Self::PenaltyGoal,
        Self::OwnGoal,
        Self::PenaltyMissed,
        Self::PenaltyAwarded,
        Self::YellowCard,
        Self::SecondYellow,
        Self::RedCard,
        Self::HalfTime,
        Self::SecondHalfStart,
        Self::EndOfRegulation,
        Self::ExtraTimeStart,
        Self::ExtraTimeHalfTime,
        Self::ExtraTimeSecondHalfStart,
        Self::ExtraTimeEnd,
        Self::PenaltyShootoutStart,
        Self::PenaltyShootoutResult,
        Self::FullTime,
        Self::GoalDisallowed,
        Self::Announcement,
    ];

    /// The snake_case name used in config, JSON and template file names.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::KickOff => "kick_off",
            Self::Goal => "goal",
            Self::FreeKickGoal => "free_kick_goal",
            Self::PenaltyGoal => "penalty_goal",
            Self::OwnGoal => "own_goal",
            Self::PenaltyMissed => "penalty_missed",
            Self::PenaltyAwarded => "penalty_awarded",
            Self::YellowCard => "yellow_card",
            Self::SecondYellow => "second_yellow",
            Self::RedCard => "red_card",
            Self::HalfTime => "half_time",
            Self::SecondHalfStart => "second_half_start",
            Self::EndOfRegulation => "end_of_regulation",
            Self::ExtraTimeStart => "extra_time_start",
            Self::ExtraTimeHalfTime => "extra_time_half_time",
            Self::ExtraTimeSecondHalfStart => "extra_time_second_half_start",
            Self::ExtraTimeEnd => "extra_time_end",
            Self::PenaltyShootoutStart => "penalty_shootout_start",
            Self::PenaltyShootoutResult => "penalty_shootout_result",
            Self::FullTime => "full_time",
            Self::GoalDisallowed => "goal_disallowed",
            Self::Announcement => "announcement",
        }
    }

    /// Parses a kind name.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == name)
    }

    /// Whether the event itself gives the result away (a goal, who won): spoiler-free texts
    /// of these kinds say only that it happened.
    pub fn reveals_score(self) -> bool {
        matches!(
            self,
            Self::Goal
                | Self::FreeKickGoal
                | Self::PenaltyGoal
                | Self::OwnGoal
                | Self::GoalDisallowed
                | Self::PenaltyMissed
                | Self::PenaltyShootoutResult
                | Self::FullTime
        )
    }

    /// The group a subscriber can ask for instead of naming kinds one by one.
    pub fn group(self) -> &'static str {
        match self {
            Self::Goal
            | Self::FreeKickGoal
            | Self::PenaltyGoal
            | Self::OwnGoal
            | Self::GoalDisallowed => "goals",
            Self::PenaltyMissed | Self::PenaltyAwarded => "penalties",
            Self::YellowCard | Self::SecondYellow | Self::RedCard => "cards",
            Self::Announcement => "announcements",
            _ => "periods",
        }
    }

    /// Every group name.
    pub const GROUPS: [&'static str; 5] =
        ["goals", "penalties", "cards", "periods", "announcements"];
}

impl std::fmt::Display for EventKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Something worth notifying, with everything needed to render it and route it. Flat, so that
/// templates and SSE consumers see plain fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Event {
    /// Stable id: the same event always gets the same id, across polls and restarts.
    pub id: String,
    /// What happened.
    pub kind: EventKind,
    /// The match (source-qualified id), `None` for announcements.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub match_id: Option<String>,
    /// Competition name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub competition: Option<String>,
    /// Home team name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub home: Option<String>,
    /// Away team name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub away: Option<String>,
    /// The phase the event belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<Phase>,
    /// Minute of play.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minute: Option<u16>,
    /// Added minutes beyond `minute`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extra: Option<u16>,
    /// Shoot-out kicks: the kick's place in the shoot-out, from 1 (both teams' kicks counted
    /// together). Shoot-out events carry minute 120; this tells the kicks apart.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kick: Option<u16>,
    /// The side the event is about (credited side for goals).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub side: Option<Side>,
    /// The name of the team the event is about (credited team for goals, winner for results).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team: Option<String>,
    /// The player.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub player: Option<String>,
    /// The player's own team, when it differs from `team` (own goals).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub player_team: Option<String>,
    /// Extra detail (`saved`, `missed`, `post`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// The score after the event.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score: Option<Score>,
    /// The shoot-out score after the event.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pens: Option<Score>,
    /// The winner's name (full time, shoot-out result).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub winner: Option<String>,
    /// For a correction: the id of the event it corrects.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub corrects: Option<String>,
    /// Announcements: what the message is about (a team, a competition, anything).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topic: Option<String>,
    /// Announcements: the headline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Announcements: the text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// When it happened by the provider's clock (Unix ms), when the provider says (FIFA's
    /// event `Timestamp`); else herald's detection is the start of its delivery latency.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub occurred_at: Option<i64>,
}

impl Event {
    /// An event of `kind` with only its id set; callers fill in the rest.
    pub fn new(id: impl Into<String>, kind: EventKind) -> Self {
        Self {
            id: id.into(),
            kind,
            match_id: None,
            competition: None,
            home: None,
            away: None,
            phase: None,
            minute: None,
            extra: None,
            kick: None,
            side: None,
            team: None,
            player: None,
            player_team: None,
            detail: None,
            score: None,
            pens: None,
            winner: None,
            corrects: None,
            topic: None,
            title: None,
            text: None,
            occurred_at: None,
        }
    }

    /// The event without what gives the result away, for spoiler-free recipients: no score,
    /// no shoot-out score, no winner; for kinds that reveal the score, not who did it either.
    #[must_use]
    pub fn without_spoilers(&self) -> Self {
        let mut event = self.clone();
        event.score = None;
        event.pens = None;
        event.winner = None;
        if self.kind.reveals_score() {
            event.side = None;
            event.team = None;
            event.player = None;
            event.player_team = None;
            event.detail = None;
        }
        event
    }

    /// The event as a recipient sees it: whole, or [`Event::without_spoilers`].
    #[must_use]
    pub fn shown(&self, spoilers: bool) -> Self {
        if spoilers {
            self.clone()
        } else {
            self.without_spoilers()
        }
    }

    /// The names of the teams involved, for routing.
    pub fn teams(&self) -> Vec<String> {
        self.home.iter().chain(self.away.iter()).cloned().collect()
    }
}
