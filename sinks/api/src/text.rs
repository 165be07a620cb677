//! Text helpers every sink needs.

use crate::Notification;

/// A notification as plain text: the title, then the body on its own line when there is one.
pub fn title_and_body(msg: &Notification) -> String {
    if msg.body.trim().is_empty() {
        msg.title.clone()
    } else {
        format!("{}\n{}", msg.title, msg.body)
    }
}

/// At most `max` characters, cut on a character boundary with `…` as the last one.
pub fn truncate(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        None => text.to_owned(),
        Some(_) => {
            let keep = max.saturating_sub(1);
            let cut = text
                .char_indices()
                .nth(keep)
                .map_or(text.len(), |(at, _)| at);
            format!("{}…", text.get(..cut).unwrap_or(text))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::truncate;

    #[test]
    fn cuts_on_characters_with_an_ellipsis_within_the_limit() {
        assert_eq!(truncate("short", 10), "short");
        assert_eq!(truncate("exactly10!", 10), "exactly10!");
        assert_eq!(truncate("eleven chars", 11), "eleven cha…");
        assert_eq!(truncate("Perišić Perišić", 8), "Perišić…");
        assert_eq!(truncate("⚽⚽⚽", 2).chars().count(), 2);
        assert_eq!(truncate("abc", 0), "…");
    }
}
