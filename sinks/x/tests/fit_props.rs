//! Properties of X's weighted length, for any text: after fitting a post weighs at most 280
//! (URLs count 23 whatever their length, CJK and emoji 2, a ZWJ family or a flag one emoji),
//! and a text that fits is kept whole.

use proptest::prelude::*;
use sink_x::text::{MAX_WEIGHT, fit, weighted_length};

/// Pieces of posts: Latin words, CJK, emoji (ZWJ sequences, flags, variation selectors,
/// skin tones), combining marks, whitespace, and URLs of any length.
fn piece() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[a-zA-Z0-9!?.,'-]{1,12}",
        3 => prop::sample::select(vec![" ", " ", "\n", "\t", "\u{3000}", "\u{a0}"]).prop_map(str::to_owned),
        2 => "[日本代表サッカー한국어中文]{1,6}",
        2 => prop::sample::select(vec![
            "⚽", "🟨", "🟥", "👨‍👩‍👧‍👦", "🇧🇷", "🇫🇷", "❤️", "👍🏽", "🏳️‍🌈", "☺", "\u{200d}", "\u{fe0f}",
        ]).prop_map(str::to_owned),
        2 => "(https?://)[a-z.]{1,20}(/[a-zA-Z0-9?=&%._-]{0,60})?",
        1 => prop::sample::select(vec!["\u{301}", "é", "Gündoğan", "“quoted” — ok…", "Сборная", "\u{600}", "\r\n"]).prop_map(str::to_owned),
        1 => any::<String>(),
    ]
}

/// Posts from empty to several times the limit.
fn post() -> impl Strategy<Value = String> {
    prop::collection::vec(piece(), 0..300).prop_map(|pieces| pieces.concat())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn a_fitted_post_weighs_at_most_280(text in post()) {
        let fitted = fit(&text, MAX_WEIGHT);
        let weight = weighted_length(&fitted);
        prop_assert!(weight <= MAX_WEIGHT, "{weight}: {fitted:?}");
        if weighted_length(text.trim()) <= MAX_WEIGHT {
            prop_assert_eq!(fitted.as_str(), text.trim(), "a post that fits is kept whole");
        } else {
            prop_assert!(fitted.ends_with('…'), "{fitted:?}");
        }
    }

    #[test]
    fn any_cap_holds(text in post(), max in 2usize..400) {
        // The ellipsis weighs 2: any cap from 2 up holds.
        let fitted = fit(&text, max);
        prop_assert!(weighted_length(&fitted) <= max, "{max}: {fitted:?}");
    }
}
