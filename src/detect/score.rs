//! Rule 3, score reconciliation: goals the score shows but no incident explains, and drops
//! of the score no vanished goal explains.

use super::*;

impl Run<'_> {
    pub(super) fn reconcile_score(&mut self) {
        for side in Side::BOTH {
            // A drop no vanished goal explained: the side's latest goal no longer counts.
            while self.unexplained_drop.get(&side).copied().unwrap_or(0) > 0 {
                if !self.disallow_latest(side) {
                    break;
                }
            }
            let explained = self.explained_goals(side);
            let shown = self.next.score.get(side);
            // The goals numbered `explained + 1 ..= shown`, counted without overflowing at
            // a provider's score of 65535.
            for value in explained..shown {
                self.push_derived_goal(side, value + 1);
            }
        }
    }

    pub(super) fn explained_goals(&self, side: Side) -> u16 {
        let items = self
            .next
            .incidents
            .iter()
            .filter(|i| {
                i.kind.is_goal() && i.side == Some(side) && !self.memo.cancelled.contains(&i.key)
            })
            .count();
        let derived = self
            .memo
            .derived_goals
            .iter()
            .filter(|d| d.side == side)
            .count();
        u16::try_from(items + derived).unwrap_or(u16::MAX)
    }

    pub(super) fn disallow_latest(&mut self, side: Side) -> bool {
        if let Some(i) = self.memo.derived_goals.iter().rposition(|d| d.side == side) {
            let derived = self.memo.derived_goals.remove(i);
            if let Some(drop) = self.unexplained_drop.get_mut(&side) {
                *drop = drop.saturating_sub(1);
            }
            self.push_disallowed(derived.event_id, side, None, self.next.clock);
            return true;
        }
        let latest = self
            .next
            .incidents
            .iter()
            .filter(|i| {
                i.kind.is_goal() && i.side == Some(side) && !self.memo.cancelled.contains(&i.key)
            })
            .max_by_key(|i| position(i, Phase::FirstHalf))
            .cloned();
        match latest {
            Some(goal) => {
                self.disallow_incident(&goal);
                true
            }
            None => false,
        }
    }

    pub(super) fn push_derived_goal(&mut self, side: Side, value: u16) {
        let generation = if self.memo.disallowed == 0 {
            String::new()
        } else {
            format!(":v{}", self.memo.disallowed)
        };
        let side_name = match side {
            Side::Home => "home",
            Side::Away => "away",
        };
        let id = self.event_id(&format!("score:{side_name}:{value}{generation}"));
        let mut score_after = self.next.score;
        match side {
            Side::Home => score_after.home = value,
            Side::Away => score_after.away = value,
        }
        let mut e = self.event(id.clone(), EventKind::Goal);
        e.side = Some(side);
        e.team = Some(self.team_name(side));
        e.phase = Some(self.next.phase);
        e.minute = self.next.clock.map(|c| c.minute);
        e.extra = self.next.clock.and_then(|c| c.extra);
        e.score = Some(score_after);
        let pos = self.current_position();
        self.push(pos, e);
        self.memo.derived_goals.push(DerivedGoal {
            event_id: id,
            side,
            score_after,
        });
    }
}
