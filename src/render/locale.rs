//! Which loaded locale a requested one means: one rule for chats, platform hints, SMS signups,
//! subscribers and notifications.

use std::collections::{BTreeMap, BTreeSet};

/// The loaded locale `wanted` means, if any: the same tag in any case, `_` for `-`; else one of
/// the `names` (lowercased word → locale); else the first loaded locale whose language subtag
/// (before `-`) is `wanted`'s. See `Renderer::resolve_locale`.
pub(super) fn resolve<'a>(
    wanted: &str,
    locales: &'a BTreeSet<String>,
    names: &'a BTreeMap<String, String>,
) -> Option<&'a str> {
    let wanted = wanted.trim().replace('_', "-").to_lowercase();
    if wanted.is_empty() {
        return None;
    }
    let language = |tag: &str| tag.split('-').next().unwrap_or_default().to_lowercase();
    let base = language(&wanted);
    locales
        .iter()
        .find(|l| l.to_lowercase() == wanted)
        .or_else(|| names.get(&wanted))
        .or_else(|| locales.iter().find(|l| language(l) == base))
        .map(String::as_str)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn loaded(tags: &[&str]) -> BTreeSet<String> {
        tags.iter().map(|t| (*t).to_owned()).collect()
    }

    #[test]
    fn exact_tags_win_in_any_case_and_with_underscores() {
        let locales = loaded(&["en", "pt", "pt-BR"]);
        let names = BTreeMap::new();
        assert_eq!(resolve("pt-BR", &locales, &names), Some("pt-BR"));
        assert_eq!(resolve(" pt_br ", &locales, &names), Some("pt-BR"));
        assert_eq!(resolve("PT", &locales, &names), Some("pt"));
    }

    #[test]
    fn a_language_matches_the_first_locale_of_that_language() {
        let locales = loaded(&["en", "es", "fr", "pt-BR"]);
        let names = BTreeMap::new();
        assert_eq!(resolve("pt", &locales, &names), Some("pt-BR"));
        assert_eq!(resolve("pt-PT", &locales, &names), Some("pt-BR"));
        assert_eq!(resolve("es-MX", &locales, &names), Some("es"));
        assert_eq!(resolve("fr_CA", &locales, &names), Some("fr"));
        assert_eq!(resolve("en-GB", &locales, &names), Some("en"));
        assert_eq!(resolve("de", &locales, &names), None);
        assert_eq!(resolve("", &locales, &names), None);
        assert_eq!(resolve("p", &locales, &names), None);
    }

    #[test]
    fn names_choose_their_locale() {
        let locales = loaded(&["en", "pt-BR"]);
        let names = BTreeMap::from([("português".to_owned(), "pt-BR".to_owned())]);
        assert_eq!(resolve("Português", &locales, &names), Some("pt-BR"));
        assert_eq!(resolve("klingon", &locales, &names), None);
    }
}
