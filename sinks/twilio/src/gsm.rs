//! SMS text economics: the GSM 03.38 alphabet, segment counting (GSM-7 160/153, UCS-2 70/67),
//! transliteration to GSM-7 so that one accent does not double the cost, and fitting a text
//! into a number of segments.

use unicode_normalization::UnicodeNormalization;

/// The GSM 03.38 basic character set: one septet each.
const BASIC: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?\
¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";

/// The extension table: an escape septet plus one, two septets each.
const EXTENSION: &str = "^{}\\[~]|€\u{c}";

/// How a text is encoded on the air.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// 7-bit GSM alphabet: 160 septets in one segment, 153 per segment when concatenated.
    Gsm7,
    /// UTF-16: 70 code units in one segment, 67 per segment when concatenated.
    Ucs2,
}

/// What a text costs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Segments {
    /// The encoding the whole text needs.
    pub encoding: Encoding,
    /// How many segments (billed messages) it takes; 0 for an empty text.
    pub count: u32,
    /// Its length in septets (GSM-7) or UTF-16 code units (UCS-2).
    pub units: usize,
}

/// The septets `c` takes in GSM-7, or `None` when it is not in the alphabet.
fn septets(c: char) -> Option<usize> {
    if BASIC.contains(c) {
        Some(1)
    } else if EXTENSION.contains(c) {
        Some(2)
    } else {
        None
    }
}

/// Whether every character of `text` is in the GSM-7 alphabet.
pub fn is_gsm7(text: &str) -> bool {
    text.chars().all(|c| septets(c).is_some())
}

/// Counts the segments of `text`. A character is never split across two segments (an
/// extension character's escape stays with it, a surrogate pair stays whole), so a long
/// text may take one segment more than its length divided by 153 or 67.
pub fn segments(text: &str) -> Segments {
    let (encoding, widths): (Encoding, Vec<usize>) = if is_gsm7(text) {
        (
            Encoding::Gsm7,
            text.chars().map(|c| septets(c).unwrap_or(1)).collect(),
        )
    } else {
        (Encoding::Ucs2, text.chars().map(char::len_utf16).collect())
    };
    let units: usize = widths.iter().sum();
    let (single, multi) = match encoding {
        Encoding::Gsm7 => (160, 153),
        Encoding::Ucs2 => (70, 67),
    };
    let count = if units == 0 {
        0
    } else if units <= single {
        1
    } else {
        let mut count = 1;
        let mut used = 0;
        for width in widths {
            if used + width > multi {
                count += 1;
                used = 0;
            }
            used += width;
        }
        count
    };
    Segments {
        encoding,
        count,
        units,
    }
}

/// Rewrites `text` into the GSM-7 alphabet where that keeps its meaning: accents are folded
/// (`Gündoğan` → `Gundogan`, but `é`, `ü`, `ñ` are GSM-7 and stay), typographic quotes and
/// dashes become plain ones, pictographs (⚽, 🟨) are dropped. Letters of other scripts
/// (Cyrillic, CJK) are kept: the text is then sent as UCS-2, which is still readable.
pub fn transliterate(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if septets(c).is_some() {
            out.push(c);
        } else if let Some(mapped) = replacement(c) {
            out.push_str(mapped);
        } else if is_pictograph(c) {
            // dropped
        } else {
            let folded: String = c.to_string().nfd().filter(|d| !is_combining(*d)).collect();
            if !folded.is_empty() && is_gsm7(&folded) {
                out.push_str(&folded);
            } else {
                out.push(c);
            }
        }
    }
    tidy(&out)
}

/// Removes the spaces a dropped pictograph leaves at the start of lines and doubles inside them.
fn tidy(text: &str) -> String {
    text.split('\n')
        .map(|line| {
            let mut clean = String::with_capacity(line.len());
            for word in line.split(' ').filter(|w| !w.is_empty()) {
                if !clean.is_empty() {
                    clean.push(' ');
                }
                clean.push_str(word);
            }
            clean
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Letters and punctuation that decomposition does not fold.
fn replacement(c: char) -> Option<&'static str> {
    Some(match c {
        'ı' => "i",
        'İ' => "I",
        'ł' => "l",
        'Ł' => "L",
        'đ' | 'ð' => "d",
        'Đ' | 'Ð' => "D",
        'þ' => "th",
        'Þ' => "Th",
        'œ' => "oe",
        'Œ' => "OE",
        'ŋ' => "ng",
        'ĸ' => "k",
        '\u{2018}' | '\u{2019}' | '\u{201a}' | '\u{2032}' | '`' | '´' => "'",
        '\u{201c}' | '\u{201d}' | '\u{201e}' | '\u{2033}' | '«' | '»' => "\"",
        '\u{2010}'..='\u{2015}' | '\u{2212}' => "-",
        '\u{2026}' => "...",
        '\u{a0}' | '\u{2000}'..='\u{200a}' | '\u{202f}' | '\t' => " ",
        '•' | '·' => "-",
        '×' => "x",
        'º' | '°' => "o",
        'ª' => "a",
        '\u{200b}'..='\u{200d}' | '\u{2060}' | '\u{feff}' | '\u{fe0f}' | '\u{fe0e}' => "",
        _ => return None,
    })
}

fn is_combining(c: char) -> bool {
    matches!(c, '\u{300}'..='\u{36f}' | '\u{1ab0}'..='\u{1aff}' | '\u{1dc0}'..='\u{1dff}' | '\u{20d0}'..='\u{20ff}' | '\u{fe20}'..='\u{fe2f}')
}

/// Emoji and pictographic symbols: they carry no words and cost a UCS-2 message.
fn is_pictograph(c: char) -> bool {
    matches!(c,
        '\u{2190}'..='\u{21ff}'
        | '\u{2300}'..='\u{23ff}'
        | '\u{2460}'..='\u{24ff}'
        | '\u{25a0}'..='\u{27bf}'
        | '\u{2900}'..='\u{297f}'
        | '\u{2b00}'..='\u{2bff}'
        | '\u{1f000}'..='\u{1faff}'
        | '\u{e0020}'..='\u{e007f}'
    )
}

/// `text` cut so that it fits in `max_segments`, ending in `...` when something was cut. It
/// is cut at a word boundary when one is near, never inside a character.
pub fn fit(text: &str, max_segments: u32) -> String {
    if segments(text).count <= max_segments {
        return text.to_owned();
    }
    let ellipsis = "...";
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    // Binary search on the number of characters kept.
    let (mut lo, mut hi) = (0, chars.len());
    while lo < hi {
        let mid = (lo + hi).div_ceil(2);
        let end = chars.get(mid).map_or(text.len(), |(i, _)| *i);
        let candidate = format!(
            "{}{ellipsis}",
            text.get(..end).unwrap_or_default().trim_end()
        );
        if segments(&candidate).count <= max_segments {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    let end = chars.get(lo).map_or(text.len(), |(i, _)| *i);
    let kept = text.get(..end).unwrap_or_default();
    // Prefer a word boundary within the last fifth of what is kept.
    let kept = match kept.rfind([' ', '\n']) {
        Some(space) if space * 5 >= kept.len() * 4 => kept.get(..space).unwrap_or(kept),
        _ => kept,
    };
    format!("{}{ellipsis}", kept.trim_end())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gsm7_lengths_and_segments_are_the_known_values() {
        assert_eq!(
            segments(""),
            Segments {
                encoding: Encoding::Gsm7,
                count: 0,
                units: 0
            }
        );
        let one = "a".repeat(160);
        assert_eq!(segments(&one).count, 1);
        assert_eq!(segments(&one).units, 160);
        assert_eq!(segments(&"a".repeat(161)).count, 2);
        assert_eq!(segments(&"a".repeat(306)).count, 2);
        assert_eq!(segments(&"a".repeat(307)).count, 3);
        assert_eq!(segments(&"a".repeat(459)).count, 3);
        assert_eq!(segments(&"a".repeat(460)).count, 4);
    }

    #[test]
    fn extension_characters_take_two_septets_and_are_never_split() {
        assert_eq!(segments("€").units, 2);
        assert_eq!(segments("{[~]}").units, 10);
        assert_eq!(segments(&"€".repeat(80)).count, 1);
        assert_eq!(segments(&"€".repeat(81)).count, 2);
        // 152 septets then a two-septet character: it moves to the second segment whole.
        let text = format!("{}€{}", "a".repeat(152), "a".repeat(10));
        assert_eq!(segments(&text).units, 164);
        assert_eq!(segments(&text).count, 2);
        let edge = format!("{}€{}", "a".repeat(152), "a".repeat(152));
        assert_eq!(segments(&edge).units, 306);
        assert_eq!(
            segments(&edge).count,
            3,
            "the € cannot straddle two segments"
        );
    }

    #[test]
    fn ucs2_lengths_and_segments_are_the_known_values() {
        assert_eq!(segments(&"ğ".repeat(70)).encoding, Encoding::Ucs2);
        assert_eq!(segments(&"ğ".repeat(70)).count, 1);
        assert_eq!(segments(&"ğ".repeat(71)).count, 2);
        assert_eq!(segments(&"ğ".repeat(134)).count, 2);
        assert_eq!(segments(&"ğ".repeat(135)).count, 3);
        // One accent outside GSM-7 turns a 100-character text into two UCS-2 segments.
        let text = format!("{}ğ", "a".repeat(99));
        assert_eq!(segments(&text).count, 2);
        // An emoji is a surrogate pair: two units.
        assert_eq!(segments("⚽").units, 1);
        assert_eq!(segments("🟨").units, 2);
        assert_eq!(segments(&"🟨".repeat(35)).count, 1);
        assert_eq!(segments(&"🟨".repeat(36)).count, 2);
    }

    #[test]
    fn names_fold_into_gsm7() {
        assert_eq!(transliterate("Gündoğan"), "Gündogan");
        assert!(is_gsm7(&transliterate("Gündoğan")));
        assert_eq!(transliterate("Łukasz Piszczek"), "Lukasz Piszczek");
        assert_eq!(transliterate("Mesut Özil"), "Mesut Özil");
        assert_eq!(transliterate("Luka Modrić"), "Luka Modric");
        assert_eq!(transliterate("Nicolás Otamendi"), "Nicolas Otamendi");
        assert_eq!(transliterate("Hakan Çalhanoğlu"), "Hakan Çalhanoglu");
        assert_eq!(transliterate("Ştefan Radu"), "Stefan Radu");
        assert_eq!(transliterate("Martin Ødegaard"), "Martin Ødegaard");
        assert_eq!(transliterate("Þórir"), "Thorir");
        assert_eq!(transliterate("São Paulo"), "Sao Paulo");
        assert_eq!(transliterate("Côte d’Ivoire"), "Cote d'Ivoire");
        assert_eq!(
            transliterate("Saint‑Étienne — “Les Verts”…"),
            "Saint-Étienne - \"Les Verts\"..."
        );
    }

    #[test]
    fn pictographs_are_dropped_and_other_scripts_kept() {
        assert_eq!(
            transliterate("⚽ GOAL! France 1-0 Croatia"),
            "GOAL! France 1-0 Croatia"
        );
        assert_eq!(transliterate("🟨 Yellow card\n🟥  Red"), "Yellow card\nRed");
        assert_eq!(transliterate("Сборная России"), "Сборная России");
        assert_eq!(transliterate("日本 1-0"), "日本 1-0");
        assert_eq!(
            segments(&transliterate("Сборная России")).encoding,
            Encoding::Ucs2
        );
    }

    #[test]
    fn one_accent_no_longer_doubles_the_cost() {
        let text = format!(
            "GOAL! Germany 1-0 Japan\nIlkay Gündoğan (Germany) 75' {}",
            "x".repeat(60)
        );
        assert_eq!(segments(&text).count, 2);
        assert_eq!(segments(&transliterate(&text)).count, 1);
    }

    #[test]
    fn fit_cuts_to_the_segment_cap_at_a_word() {
        let words = "word ".repeat(100);
        let fitted = fit(&words, 1);
        assert!(fitted.ends_with("..."), "{fitted}");
        assert!(segments(&fitted).count <= 1);
        assert!(fitted.len() > 140, "{}", fitted.len());
        assert!(!fitted.contains("wor..."), "{fitted}");
        assert_eq!(fit("short", 1), "short");
        let ucs = "日本".repeat(100);
        let fitted = fit(&ucs, 2);
        assert_eq!(segments(&fitted).count, 2);
        assert!(fitted.ends_with("..."));
    }
}
