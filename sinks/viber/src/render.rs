//! Turns a notification into the text of a Viber message: plain text (Viber's own markup is
//! not escapable, so none is used), cut to Viber's length limit.

use sink_api::Notification;
use sink_api::text::title_and_body;

/// A text message may hold 7,000 characters (Viber's message data model for `type: text`).
/// Viber does not say how it counts them and its servers are Java, so the text is cut in
/// UTF-16 code units: never more than 7,000 characters, however they are counted.
pub(crate) const MAX_TEXT: usize = 7000;

/// The message text: the title, then the body on its own line, within [`MAX_TEXT`].
pub(crate) fn text(msg: &Notification) -> String {
    fit(&title_and_body(msg), MAX_TEXT)
}

/// At most `max` UTF-16 code units, cut on a character boundary and ending in `…` when cut.
pub(crate) fn fit(text: &str, max: usize) -> String {
    if text.encode_utf16().count() <= max {
        return text.to_owned();
    }
    // The ellipsis takes one unit.
    let budget = max.saturating_sub(1);
    let mut used = 0;
    let mut end = 0;
    for (at, c) in text.char_indices() {
        if used + c.len_utf16() > budget {
            break;
        }
        used += c.len_utf16();
        end = at + c.len_utf8();
    }
    format!("{}…", text.get(..end).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn title_and_body_are_plain_text() {
        let msg = sink_api::testing::goal("⚽ GOAL! France 1-0 *Croatia*", "MBAPPE 65'");
        assert_eq!(text(&msg), "⚽ GOAL! France 1-0 *Croatia*\nMBAPPE 65'");
        let msg = sink_api::testing::goal("🏁 Full time", " ");
        assert_eq!(text(&msg), "🏁 Full time");
    }

    #[test]
    fn long_text_is_cut_to_the_limit_with_an_ellipsis() {
        assert_eq!(fit("short", 5), "short");
        assert_eq!(fit("longer", 5), "long…");
        let cut = text(&sink_api::testing::goal("t", &"x".repeat(10_000)));
        assert_eq!(cut.chars().count(), MAX_TEXT);
        assert!(cut.starts_with("t\nxxx") && cut.ends_with('…'));
    }

    #[test]
    fn characters_outside_the_bmp_count_twice_and_are_never_split() {
        let cut = fit(&"📣".repeat(10), 6);
        assert_eq!(cut, "📣📣…");
        let cut = text(&sink_api::testing::goal("t", &"📣".repeat(5000)));
        assert!(cut.encode_utf16().count() <= MAX_TEXT);
        assert!(cut.encode_utf16().count() >= MAX_TEXT - 1);
        assert!(cut.ends_with("📣…"));
    }
}
