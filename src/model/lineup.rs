//! Where a match is played and who plays it: the venue and each team's line-up, as the source
//! lists them. Sources that do not say leave them out; nothing here is ever guessed.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::Side;

/// The ground a match is played at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Venue {
    /// The stadium's name, as the source spells it.
    pub name: String,
    /// Its city, when the source says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
}

impl Venue {
    /// A venue named `name` (trimmed), or `None` when the name is blank.
    pub fn named(name: Option<&str>, city: Option<&str>) -> Option<Self> {
        Some(Self {
            name: given(name)?,
            city: given(city),
        })
    }
}

/// A source's text, trimmed; `None` when it is missing or blank.
fn given(text: Option<&str>) -> Option<String> {
    text.map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
}

/// Both teams' line-ups; a side is `None` until the source publishes it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lineups {
    /// The home team's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub home: Option<Lineup>,
    /// The away team's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub away: Option<Lineup>,
}

impl Lineups {
    /// Whether neither side is known.
    pub fn is_empty(&self) -> bool {
        self.home.is_none() && self.away.is_none()
    }

    /// Whether both sides are known.
    pub fn is_complete(&self) -> bool {
        self.home.is_some() && self.away.is_some()
    }

    /// Fills the sides this lacks from `other`.
    pub fn fill_from(&mut self, other: &Self) {
        if self.home.is_none() {
            self.home.clone_from(&other.home);
        }
        if self.away.is_none() {
            self.away.clone_from(&other.away);
        }
    }

    /// One side's line-up.
    pub fn get(&self, side: Side) -> Option<&Lineup> {
        match side {
            Side::Home => self.home.as_ref(),
            Side::Away => self.away.as_ref(),
        }
    }
}

/// One team's line-up for a match.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Lineup {
    /// The formation (`4-2-3-1`), when the source gives it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub formation: Option<String>,
    /// The head coach, when the source names one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub coach: Option<String>,
    /// The players who start.
    #[serde(default)]
    pub starting: Vec<Player>,
    /// The substitutes.
    #[serde(default)]
    pub bench: Vec<Player>,
}

impl Lineup {
    /// A line-up with no players yet, its formation and coach trimmed (blank ones left out).
    pub fn new(formation: Option<&str>, coach: Option<&str>) -> Self {
        Self {
            formation: given(formation),
            coach: given(coach),
            ..Self::default()
        }
    }

    /// The line-up, or `None` when it names no player: a source's empty lists mean "not
    /// published yet", not "nobody plays".
    pub fn published(self) -> Option<Self> {
        (!self.starting.is_empty() || !self.bench.is_empty()).then_some(self)
    }
}

/// A player in a line-up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Player {
    /// Name, as the source spells it.
    pub name: String,
    /// Shirt number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number: Option<u16>,
    /// Position, when the source gives one herald knows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub position: Option<Position>,
    /// Whether he captains the team (only some sources say).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub captain: bool,
}

impl Player {
    /// A player named `name` (trimmed), not captain; `None` when the name is blank.
    pub fn named(
        name: Option<&str>,
        number: Option<u16>,
        position: Option<Position>,
    ) -> Option<Self> {
        Some(Self {
            name: given(name)?,
            number,
            position,
            captain: false,
        })
    }
}

/// Where a player plays, in the four lines every source agrees on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Position {
    /// Goalkeeper.
    Goalkeeper,
    /// Defender.
    Defender,
    /// Midfielder.
    Midfielder,
    /// Forward.
    Forward,
}

impl Position {
    /// A position from a word or an abbreviation (`G`, `GK`, `Defender`, `Centre-Back`,
    /// `Defensive Midfield`, `Left Winger`, `Offence`, …); `None` for anything else.
    pub fn parse(text: &str) -> Option<Self> {
        let t = text.trim().to_ascii_lowercase();
        let word = |w: &str| t.contains(w);
        match t.as_str() {
            "g" | "gk" | "gkp" => return Some(Self::Goalkeeper),
            "d" | "df" | "def" => return Some(Self::Defender),
            "m" | "mf" | "mid" => return Some(Self::Midfielder),
            "f" | "fw" | "fwd" | "a" | "att" => return Some(Self::Forward),
            _ => {}
        }
        if word("goal") || word("keeper") {
            Some(Self::Goalkeeper)
        } else if word("midfield") {
            Some(Self::Midfielder)
        } else if word("back") || word("defen") {
            Some(Self::Defender)
        } else if word("forward")
            || word("wing")
            || word("striker")
            || word("offence")
            || word("offense")
            || word("attack")
        {
            Some(Self::Forward)
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_from_every_source_vocabulary() {
        for (text, want) in [
            ("G", Some(Position::Goalkeeper)),
            ("D", Some(Position::Defender)),
            ("M", Some(Position::Midfielder)),
            ("F", Some(Position::Forward)),
            ("Goalkeeper", Some(Position::Goalkeeper)),
            ("Centre-Back", Some(Position::Defender)),
            ("Left-Back", Some(Position::Defender)),
            ("Defence", Some(Position::Defender)),
            ("Defensive Midfield", Some(Position::Midfielder)),
            ("Attacking Midfield", Some(Position::Midfielder)),
            ("Midfield", Some(Position::Midfielder)),
            ("Left Winger", Some(Position::Forward)),
            ("Centre-Forward", Some(Position::Forward)),
            ("Offence", Some(Position::Forward)),
            ("", None),
            ("Physio", None),
        ] {
            assert_eq!(Position::parse(text), want, "{text}");
        }
    }

    #[test]
    fn empty_lineups_and_blank_venues_are_absent() {
        assert_eq!(Lineup::default().published(), None);
        assert_eq!(Venue::named(Some("  "), Some("Moscow")), None);
        assert_eq!(
            Venue::named(Some("Luzhniki Stadium"), Some(" ")),
            Some(Venue {
                name: "Luzhniki Stadium".into(),
                city: None
            })
        );
    }
}
