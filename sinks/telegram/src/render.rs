//! Turns a notification into Telegram HTML, split into messages of at most 4096 UTF-16 units.

use sink_api::Notification;

/// Telegram's limit on a message's text, in UTF-16 code units (after entity parsing, but the
/// markup we add is short, so the raw text is held to it).
pub(crate) const MAX_UTF16: usize = 4096;

/// `&`, `<` and `>` escaped, as Telegram's HTML parse mode requires.
pub(crate) fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The message text: the title in bold, the body below it. A correction shows what it
/// corrects struck through above it.
pub(crate) fn html(msg: &Notification) -> String {
    let mut out = String::new();
    if let Some(original) = msg
        .replaces
        .as_ref()
        .and_then(|r| r.original_title.as_deref())
    {
        out.push_str(&format!("<s>{}</s>\n", escape(original)));
    }
    out.push_str(&format!("<b>{}</b>", escape(&msg.title)));
    if !msg.body.trim().is_empty() {
        out.push('\n');
        out.push_str(&escape(&msg.body));
    }
    out
}

/// Splits `text` into messages of at most `max` UTF-16 units, on line boundaries. A single
/// line longer than that is cut between characters, never inside an `&…;` entity; our markup
/// never spans lines, so tags stay balanced.
pub(crate) fn split(text: &str, max: usize) -> Vec<String> {
    let mut parts = Vec::new();
    let mut current = String::new();
    let mut current_len = 0;
    for line in text.split('\n') {
        let line_len = utf16_len(line);
        let sep = usize::from(!current.is_empty());
        if current_len + sep + line_len <= max {
            if sep == 1 {
                current.push('\n');
            }
            current.push_str(line);
            current_len += sep + line_len;
            continue;
        }
        if !current.is_empty() {
            parts.push(std::mem::take(&mut current));
        }
        if line_len <= max {
            current.push_str(line);
            current_len = line_len;
            continue;
        }
        let mut piece = String::new();
        let mut piece_len = 0;
        let mut chars = line.chars().peekable();
        while let Some(c) = chars.next() {
            // Keep an entity whole: `&amp;` is at most 6 units.
            let mut unit = String::from(c);
            if c == '&' {
                while let Some(&next) = chars.peek() {
                    unit.push(next);
                    chars.next();
                    if next == ';' || unit.len() > 8 {
                        break;
                    }
                }
            }
            let unit_len = utf16_len(&unit);
            if piece_len + unit_len > max {
                parts.push(std::mem::take(&mut piece));
                piece_len = 0;
            }
            piece.push_str(&unit);
            piece_len += unit_len;
        }
        current = piece;
        current_len = piece_len;
    }
    if !current.is_empty() {
        parts.push(current);
    }
    parts
}

fn utf16_len(text: &str) -> usize {
    text.encode_utf16().count()
}

#[cfg(test)]
mod tests {
    use super::*;
    use sink_api::Replaces;

    fn note(title: &str, body: &str) -> Notification {
        sink_api::testing::goal(title, body)
    }

    #[test]
    fn html_escapes_and_bolds_the_title() {
        let n = note("⚽ GOAL! A&B 1-0 <C>", "Scorer > 90'");
        assert_eq!(
            html(&n),
            "<b>⚽ GOAL! A&amp;B 1-0 &lt;C&gt;</b>\nScorer &gt; 90'"
        );
    }

    #[test]
    fn a_correction_strikes_the_original_through() {
        let mut n = note("🚫 Goal disallowed: France", "The score is back to 0-0.");
        n.replaces = Some(Replaces {
            event_id: "g".into(),
            receipt: Some("7".into()),
            original_title: Some("⚽ GOAL! France 1-0 Croatia".into()),
        });
        assert_eq!(
            html(&n),
            "<s>⚽ GOAL! France 1-0 Croatia</s>\n<b>🚫 Goal disallowed: France</b>\nThe score is back to 0-0."
        );
    }

    #[test]
    fn long_texts_split_on_lines_within_the_utf16_limit() {
        let line = "⚽".repeat(1000); // 1000 UTF-16 units (U+26BD is in the BMP)
        let text = [line.as_str(); 9].join("\n");
        let parts = split(&text, MAX_UTF16);
        assert_eq!(parts.len(), 3);
        assert!(parts.iter().all(|p| utf16_len(p) <= MAX_UTF16));
        assert_eq!(parts.join("\n"), text, "nothing lost or reordered");
        // Emoji outside the BMP count two units each.
        let wide = "😀".repeat(3000);
        let parts = split(&wide, MAX_UTF16);
        assert!(parts.iter().all(|p| utf16_len(p) <= MAX_UTF16));
        assert_eq!(parts.concat(), wide);
    }

    #[test]
    fn entities_are_never_cut() {
        let text = format!("{}&amp;x", "a".repeat(8));
        let parts = split(&text, 10);
        assert!(
            parts
                .iter()
                .all(|p| !p.ends_with('&') && !p.contains("&am;")),
            "{parts:?}"
        );
        assert_eq!(parts.concat(), text);
    }
}
