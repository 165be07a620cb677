//! Turns a notification into a Slack message: mrkdwn in a section block, plain text fallback.

use sink_api::Notification;
use sink_api::text::truncate;
use slack_morphism::prelude::*;

/// A section block's text may hold 3000 characters.
const MAX_SECTION: usize = 3000;

/// `&`, `<` and `>` escaped, as Slack's mrkdwn requires.
pub(crate) fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The mrkdwn text: the title in bold, the body below it; a correction shows what it corrects
/// struck through above it.
pub(crate) fn mrkdwn(msg: &Notification) -> String {
    let mut out = String::new();
    if let Some(original) = msg
        .replaces
        .as_ref()
        .and_then(|r| r.original_title.as_deref())
    {
        out.push_str(&format!("~{}~\n", escape(original)));
    }
    out.push_str(&format!("*{}*", escape(&msg.title)));
    if !msg.body.trim().is_empty() {
        out.push('\n');
        out.push_str(&escape(&msg.body));
    }
    truncate(&out, MAX_SECTION)
}

/// The message: one mrkdwn section, with the title as the notification text.
pub(crate) fn content(msg: &Notification) -> SlackMessageContent {
    let section = SlackSectionBlock::new().with_text(SlackBlockText::MarkDown(
        SlackBlockMarkDownText::new(mrkdwn(msg)),
    ));
    SlackMessageContent::new()
        .with_text(msg.title.clone())
        .with_blocks(vec![section.into()])
}

#[cfg(test)]
mod tests {
    use super::*;
    use sink_api::Replaces;

    fn note(title: &str, body: &str) -> Notification {
        sink_api::testing::goal(title, body)
    }

    #[test]
    fn mrkdwn_escapes_and_bolds_the_title() {
        assert_eq!(
            mrkdwn(&note("⚽ GOAL! A&B <1-0>", "x > y")),
            "*⚽ GOAL! A&amp;B &lt;1-0&gt;*\nx &gt; y"
        );
    }

    #[test]
    fn corrections_strike_the_original_through() {
        let mut n = note("🚫 Goal disallowed", "");
        n.replaces = Some(Replaces {
            event_id: "g".into(),
            receipt: Some("1.2".into()),
            original_title: Some("⚽ GOAL!".into()),
        });
        assert_eq!(mrkdwn(&n), "~⚽ GOAL!~\n*🚫 Goal disallowed*");
    }

    #[test]
    fn long_text_is_cut_on_a_character_boundary() {
        let out = mrkdwn(&note("t", &"é".repeat(5000)));
        assert_eq!(out.chars().count(), MAX_SECTION);
        assert!(out.ends_with('…'));
    }
}
