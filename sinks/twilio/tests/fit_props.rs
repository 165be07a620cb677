//! Properties of the SMS text economics, for any text: the fit never takes more segments than
//! `max_segments` allows (GSM-7 and UCS-2 texts, extension characters, emoji, other scripts),
//! and it only cuts (what it keeps is the text's start).

use proptest::prelude::*;
use sink_twilio::gsm::{self, Encoding};

/// Characters that exercise every counting rule: GSM-7 basic (one septet) and extension (two
/// septets, never split), whitespace where the fit cuts, UCS-2 letters (one unit), emoji
/// (surrogate pairs: two units, never split), combining marks and pictographs.
fn interesting_char() -> impl Strategy<Value = char> {
    prop_oneof![
        4 => prop::sample::select(
            "abcXYZ019 @£$¥èéÇ\nØ_ΔΦΩ!\"#%&'()*+,-./:;<=>?¡ÄÖÑÜ§¿äöñüà".chars().collect::<Vec<_>>()
        ),
        2 => prop::sample::select("^{}\\[~]|€\u{c}".chars().collect::<Vec<_>>()),
        2 => prop::sample::select(vec![' ', ' ', '\n', '\t', '\u{a0}', '\u{3000}', '\u{2003}']),
        2 => prop::sample::select("ğşıłŁđçÇ日本代表Сборнаяعربيةहिन्दी".chars().collect::<Vec<_>>()),
        2 => prop::sample::select(vec!['⚽', '🟨', '🟥', '👨', '\u{200d}', '🇧', '🇷', '\u{fe0f}', '😀']),
        1 => prop::sample::select(vec!['\u{301}', '\u{308}', '\u{20d0}', '\u{feff}', '\u{200b}']),
        1 => any::<char>(),
    ]
}

/// Texts from empty to ten segments' worth and more.
fn text() -> impl Strategy<Value = String> {
    prop::collection::vec(interesting_char(), 0..1800).prop_map(|chars| chars.into_iter().collect())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn the_fit_never_exceeds_max_segments(text in text(), max_segments in 1u32..=12) {
        let fitted = gsm::fit(&text, max_segments);
        let segments = gsm::segments(&fitted);
        prop_assert!(
            segments.count <= max_segments,
            "{segments:?} for max {max_segments}: {fitted:?}"
        );
        if gsm::segments(&text).count <= max_segments {
            prop_assert_eq!(&fitted, &text, "a text that fits is kept whole");
        } else {
            let kept = fitted.strip_suffix("...").unwrap_or_else(|| panic!("no ellipsis: {fitted:?}"));
            prop_assert!(text.starts_with(kept), "not a cut of the text: {fitted:?}");
        }
    }

    #[test]
    fn transliterated_texts_fit_too(text in text(), max_segments in 1u32..=10) {
        // As `TwilioSink::prepare` does with `transliterate = true`.
        let fitted = gsm::fit(gsm::transliterate(&text).trim(), max_segments);
        prop_assert!(gsm::segments(&fitted).count <= max_segments, "{fitted:?}");
    }

    #[test]
    fn segment_counts_follow_the_encoding(text in text()) {
        let segments = gsm::segments(&text);
        let (single, multi) = match segments.encoding {
            Encoding::Gsm7 => (160, 153),
            Encoding::Ucs2 => (70, 67),
        };
        prop_assert_eq!(segments.encoding == Encoding::Gsm7, gsm::is_gsm7(&text));
        if segments.units == 0 {
            prop_assert_eq!(segments.count, 0);
        } else if segments.units <= single {
            prop_assert_eq!(segments.count, 1);
        } else {
            // Never fewer than the units need, and a character is never split (at most one
            // unit of room lost per segment, as a character is at most two units).
            let at_least = segments.units.div_ceil(multi);
            let count = segments.count as usize;
            prop_assert!(count >= at_least, "{segments:?}");
            prop_assert!(count <= segments.units.div_ceil(multi - 1), "{segments:?}");
        }
    }
}
