//! X's weighted length (twitter-text v3): most Latin, Greek, Cyrillic and punctuation weigh 1,
//! everything else (CJK, emoji as whole sequences) weighs 2, and every URL counts as 23. Posts
//! are fitted to 280 by cutting whole graphemes, at a word when one is near, never inside a
//! URL.

use unicode_segmentation::UnicodeSegmentation;

/// The longest post, in weighted characters.
pub const MAX_WEIGHT: usize = 280;
/// What any URL counts as (X shortens it to a t.co link).
pub const URL_WEIGHT: usize = 23;
const ELLIPSIS: &str = "…";

/// The weight of one character outside URLs and emoji.
fn char_weight(c: char) -> usize {
    match c {
        '\u{0}'..='\u{10ff}'
        | '\u{2000}'..='\u{200d}'
        | '\u{2010}'..='\u{201f}'
        | '\u{2032}'..='\u{2037}' => 1,
        _ => 2,
    }
}

/// Whether a grapheme is an emoji (counted as 2 however many code points it has).
fn is_emoji(grapheme: &str) -> bool {
    grapheme.chars().any(|c| {
        matches!(c,
            '\u{fe0f}'
            | '\u{200d}'
            | '\u{1f000}'..='\u{1faff}'
            | '\u{2600}'..='\u{27bf}'
            | '\u{2b00}'..='\u{2bff}'
        )
    })
}

fn grapheme_weight(grapheme: &str) -> usize {
    if is_emoji(grapheme) {
        2
    } else {
        grapheme.chars().map(char_weight).sum()
    }
}

/// One piece of a text: a URL or a grapheme, with where it starts and what it weighs.
struct Piece {
    start: usize,
    end: usize,
    weight: usize,
    space: bool,
}

fn pieces(text: &str) -> Vec<Piece> {
    let mut out = Vec::new();
    let mut graphemes = text.grapheme_indices(true).peekable();
    while let Some((start, g)) = graphemes.next() {
        let rest = text.get(start..).unwrap_or_default();
        if rest.starts_with("https://") || rest.starts_with("http://") {
            let len = rest.find(char::is_whitespace).unwrap_or(rest.len());
            let end = start + len;
            while graphemes.peek().is_some_and(|(i, _)| *i < end) {
                graphemes.next();
            }
            out.push(Piece {
                start,
                end,
                weight: URL_WEIGHT,
                space: false,
            });
            continue;
        }
        out.push(Piece {
            start,
            end: start + g.len(),
            weight: grapheme_weight(g),
            space: g.chars().all(char::is_whitespace),
        });
    }
    out
}

/// The weighted length of `text` as X counts it.
pub fn weighted_length(text: &str) -> usize {
    pieces(text).iter().map(|p| p.weight).sum()
}

/// `text` cut to at most `max` weighted characters, ending in `…` when something was cut.
pub fn fit(text: &str, max: usize) -> String {
    let text = text.trim();
    if weighted_length(text) <= max {
        return text.to_owned();
    }
    let budget = max.saturating_sub(weighted_length(ELLIPSIS));
    let pieces = pieces(text);
    let mut used = 0;
    let mut end = 0;
    let mut last_space = None;
    for piece in &pieces {
        if used + piece.weight > budget {
            break;
        }
        used += piece.weight;
        end = piece.end;
        if piece.space {
            last_space = Some(piece.start);
        }
    }
    // Cut at the last space when it keeps at least four fifths of what fits.
    if let Some(space) = last_space
        && space * 5 >= end * 4
    {
        end = space;
    }
    format!(
        "{}{ELLIPSIS}",
        text.get(..end).unwrap_or_default().trim_end()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_follow_twitter_text() {
        assert_eq!(weighted_length("GOAL! France 1-0"), 16);
        assert_eq!(weighted_length("Gündoğan"), 8);
        assert_eq!(weighted_length("“quoted” — ok"), 13);
        assert_eq!(weighted_length("日本"), 4);
        assert_eq!(weighted_length("⚽"), 2);
        assert_eq!(weighted_length("🟨"), 2);
        assert_eq!(weighted_length("👨‍👩‍👧‍👦"), 2, "a ZWJ family is one emoji");
        assert_eq!(weighted_length("🇧🇷"), 2, "a flag is one emoji");
        assert_eq!(
            weighted_length("see https://example.com/a/very/long/path?with=query"),
            4 + 23
        );
    }

    #[test]
    fn fitting_keeps_whole_graphemes_and_urls() {
        let long = format!("⚽ GOAL! {} https://herald.example/m/1", "word ".repeat(80));
        let fitted = fit(&long, MAX_WEIGHT);
        assert!(
            weighted_length(&fitted) <= MAX_WEIGHT,
            "{}",
            weighted_length(&fitted)
        );
        assert!(fitted.ends_with('…'));
        assert!(fitted.starts_with("⚽ GOAL!"));
        assert!(
            !fitted.contains("https://herald.exa"),
            "never half a URL: {fitted}"
        );

        let cjk = "日本代表".repeat(100);
        let fitted = fit(&cjk, MAX_WEIGHT);
        assert!(weighted_length(&fitted) <= MAX_WEIGHT);
        assert!(weighted_length(&fitted) >= MAX_WEIGHT - 3);

        let family = "👨‍👩‍👧‍👦".repeat(200);
        let fitted = fit(&family, MAX_WEIGHT);
        assert!(weighted_length(&fitted) <= MAX_WEIGHT);
        let body = fitted.trim_end_matches('…');
        assert_eq!(body.graphemes(true).count(), 139);
        assert!(
            body.graphemes(true).all(|g| g == "👨‍👩‍👧‍👦"),
            "no family was split"
        );

        assert_eq!(fit("short", MAX_WEIGHT), "short");
    }
}
