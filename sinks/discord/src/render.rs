//! Turns a notification into a Discord embed: title, description, score and minute fields, and
//! a colour per kind, within Discord's limits.

use serenity::builder::CreateEmbed;
use sink_api::Notification;
use sink_api::text::truncate;

/// Discord's limits on embed parts, in characters.
const MAX_TITLE: usize = 256;
const MAX_DESCRIPTION: usize = 4096;

/// Green for goals, yellow and red for cards, blue for the rest, grey for corrections.
pub(crate) fn colour(kind: &str) -> u32 {
    match kind {
        "goal" | "free_kick_goal" | "penalty_goal" | "own_goal" => 0x2E_CC71,
        "yellow_card" => 0xF1_C40F,
        "second_yellow" | "red_card" => 0xE7_4C3C,
        "goal_disallowed" | "penalty_missed" => 0x95_A5A6,
        "announcement" => 0x9B_59B6,
        _ => 0x34_98DB,
    }
}

/// The description: the body, and for a correction what it corrects, struck through.
pub(crate) fn description(msg: &Notification) -> String {
    let mut out = String::new();
    if let Some(original) = msg
        .replaces
        .as_ref()
        .and_then(|r| r.original_title.as_deref())
    {
        out.push_str(&format!("~~{original}~~\n"));
    }
    out.push_str(&msg.body);
    truncate(&out, MAX_DESCRIPTION)
}

/// The embed for `msg`.
pub(crate) fn embed(msg: &Notification) -> CreateEmbed {
    let mut embed = CreateEmbed::new()
        .title(truncate(&msg.title, MAX_TITLE))
        .colour(colour(&msg.kind));
    let description = description(msg);
    if !description.trim().is_empty() {
        embed = embed.description(description);
    }
    if let (Some(home), Some(score)) = (msg.data.get("home"), msg.data.get("score")) {
        let away = msg
            .data
            .get("away")
            .and_then(|a| a.as_str())
            .unwrap_or_default();
        let line = format!(
            "{} {}-{} {away}",
            home.as_str().unwrap_or_default(),
            score["home"].as_u64().unwrap_or(0),
            score["away"].as_u64().unwrap_or(0)
        );
        embed = embed.field("Score", line, true);
    }
    if let Some(minute) = msg.data.get("minute").and_then(serde_json::Value::as_u64) {
        let extra = msg.data.get("extra").and_then(serde_json::Value::as_u64);
        let clock = extra.map_or_else(|| format!("{minute}'"), |x| format!("{minute}+{x}'"));
        embed = embed.field("Minute", clock, true);
    }
    embed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_have_colours() {
        assert_eq!(colour("goal"), 0x2E_CC71);
        assert_eq!(colour("red_card"), 0xE7_4C3C);
        assert_eq!(colour("half_time"), 0x34_98DB);
    }

    #[test]
    fn long_titles_are_cut_to_discords_limit() {
        let title = "é".repeat(300);
        let cut = truncate(&title, MAX_TITLE);
        assert_eq!(cut.chars().count(), MAX_TITLE);
        assert!(cut.ends_with('…'));
    }
}
