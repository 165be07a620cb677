//! FIFA line-ups, from the live match object (`live/football/{competition}/{season}/{stage}/
//! {match}`): each team's `Players[]` (`Status` 1 starts, 2 on the bench), `Tactics` and
//! `Coaches[]`. The object lists no players until the line-ups are out; then they do not change.

use serde::Deserialize;

use super::Localized;
use crate::model::{Lineup, Lineups, Player, Position};

/// The part of the live match object line-ups are read from.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct LiveMatch {
    home_team: Option<LiveTeam>,
    away_team: Option<LiveTeam>,
}

impl LiveMatch {
    /// Both line-ups, each `None` while it lists no player.
    pub(super) fn lineups(&self) -> Lineups {
        Lineups {
            home: self.home_team.as_ref().and_then(LiveTeam::lineup),
            away: self.away_team.as_ref().and_then(LiveTeam::lineup),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct LiveTeam {
    tactics: Option<String>,
    #[serde(default)]
    coaches: Vec<Coach>,
    #[serde(default)]
    players: Vec<LivePlayer>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Coach {
    #[serde(default)]
    name: Vec<Localized>,
    /// 0 is the head coach.
    role: Option<i64>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct LivePlayer {
    shirt_number: Option<u16>,
    /// 1 in the starting line-up, 2 a substitute.
    status: Option<i64>,
    #[serde(default)]
    captain: Option<bool>,
    #[serde(default)]
    player_name: Vec<Localized>,
    #[serde(default)]
    short_name: Vec<Localized>,
    /// 0 goalkeeper, 1 defender, 2 midfielder, 3 forward.
    position: Option<i64>,
}

impl LiveTeam {
    fn lineup(&self) -> Option<Lineup> {
        let coach = self
            .coaches
            .iter()
            .find(|c| c.role == Some(0))
            .or_else(|| self.coaches.first())
            .and_then(|c| c.name.first());
        let mut lineup = Lineup::new(
            self.tactics.as_deref(),
            coach.map(|n| n.description.as_str()),
        );
        for p in &self.players {
            let name = p.player_name.first().or_else(|| p.short_name.first());
            let position = match p.position {
                Some(0) => Some(Position::Goalkeeper),
                Some(1) => Some(Position::Defender),
                Some(2) => Some(Position::Midfielder),
                Some(3) => Some(Position::Forward),
                _ => None,
            };
            let Some(mut player) = Player::named(
                name.map(|n| n.description.as_str()),
                p.shirt_number,
                position,
            ) else {
                continue;
            };
            player.captain = p.captain == Some(true);
            match p.status {
                Some(1) => lineup.starting.push(player),
                Some(2) => lineup.bench.push(player),
                _ => {}
            }
        }
        lineup.published()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIVE_NOW: &str =
        include_str!("../../../tests/data/reference-responses/fifa/_api_v3_live_football_now.json");

    #[test]
    fn the_real_live_object_gives_players_tactics_and_coach() {
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct Now {
            results: Vec<LiveMatch>,
        }
        let now: Now = serde_json::from_str(LIVE_NOW).unwrap();
        let lineups = now.results[0].lineups();
        let home = lineups.home.expect("home line-up");
        assert_eq!(home.formation.as_deref(), Some("5-3-2"));
        assert_eq!(home.coach.as_deref(), Some("Robin Veldeman"));
        assert_eq!(
            home.starting[0],
            Player {
                name: "Timon Vanhoutte".into(),
                number: Some(63),
                position: Some(Position::Goalkeeper),
                captain: false,
            }
        );
    }

    #[test]
    fn no_players_listed_is_no_line_up() {
        // As in the recorded 2018 final: the object is there, its lists are empty.
        let live: LiveMatch = serde_json::from_value(serde_json::json!({
            "HomeTeam": {"Tactics": null, "Coaches": [], "Players": []},
            "AwayTeam": {"Tactics": null, "Coaches": [], "Players": []}
        }))
        .unwrap();
        assert!(live.lineups().is_empty());
    }
}
