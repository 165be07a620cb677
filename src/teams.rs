//! Team names as people type them and as providers spell them: accent- and case-insensitive
//! matching, common aliases and FIFA codes, and suggestions for names herald does not know.

/// `Côte d'Ivoire` → `cotedivoire`: lower-case ASCII letters and digits only.
pub fn fold(name: &str) -> String {
    name.chars()
        .flat_map(transliterate)
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// The ASCII letters a Latin letter with diacritics stands for (enough for team and player
/// names; anything else is dropped by `fold`).
fn transliterate(c: char) -> impl Iterator<Item = char> {
    let mapped: &str = match c {
        'á' | 'à' | 'â' | 'ä' | 'ã' | 'å' | 'ą' | 'Á' | 'À' | 'Â' | 'Ä' | 'Ã' | 'Å' => {
            "a"
        }
        'ç' | 'ć' | 'č' | 'Ç' | 'Ć' | 'Č' => "c",
        'ď' | 'đ' | 'Đ' => "d",
        'é' | 'è' | 'ê' | 'ë' | 'ę' | 'ě' | 'É' | 'È' | 'Ê' | 'Ë' => "e",
        'ğ' | 'Ğ' => "g",
        'í' | 'ì' | 'î' | 'ï' | 'ı' | 'Í' | 'Î' | 'İ' => "i",
        'ł' | 'Ł' => "l",
        'ñ' | 'ń' | 'ň' | 'Ñ' => "n",
        'ó' | 'ò' | 'ô' | 'ö' | 'õ' | 'ø' | 'Ó' | 'Ö' | 'Ø' => "o",
        'ř' | 'Ř' => "r",
        'ś' | 'š' | 'ş' | 'Š' | 'Ş' => "s",
        'ß' => "ss",
        'ť' | 'ţ' => "t",
        'ú' | 'ù' | 'û' | 'ü' | 'ů' | 'Ú' | 'Ü' => "u",
        'ý' | 'ÿ' | 'Ý' => "y",
        'ž' | 'ź' | 'ż' | 'Ž' => "z",
        'æ' | 'Æ' => "ae",
        _ => "",
    };
    let own = mapped.is_empty().then_some(c);
    mapped.chars().chain(own)
}

/// National teams: the usual English name first, then aliases and the FIFA code. Names not
/// listed still match by their folded spelling.
const TEAMS: &[&[&str]] = &[
    &["Argentina", "ARG", "Argentine"],
    &["Australia", "AUS", "Socceroos"],
    &["Austria", "AUT", "Österreich"],
    &["Belgium", "BEL", "Belgique", "België", "Bélgica"],
    &["Bolivia", "BOL"],
    &["Brazil", "BRA", "Brasil"],
    &["Cameroon", "CMR", "Cameroun", "Camarões"],
    &["Canada", "CAN"],
    &["Chile", "CHI"],
    &["Colombia", "COL", "Colômbia"],
    &["Costa Rica", "CRC"],
    &["Croatia", "CRO", "Hrvatska", "Croácia"],
    &["Czechia", "CZE", "Czech Republic", "Tchéquia"],
    &["Denmark", "DEN", "Danmark", "Dinamarca"],
    &["Ecuador", "ECU"],
    &["Egypt", "EGY"],
    &["England", "ENG", "Inglaterra"],
    &["France", "FRA", "França", "Francia"],
    &["Germany", "GER", "Deutschland", "Alemanha"],
    &["Ghana", "GHA"],
    &["Greece", "GRE"],
    &["Iceland", "ISL"],
    &["Iran", "IRN", "IR Iran"],
    &["Italy", "ITA", "Italia", "Itália"],
    &["Ivory Coast", "CIV", "Côte d'Ivoire", "Cote d'Ivoire"],
    &["Japan", "JPN", "Japão"],
    &["Mexico", "MEX", "México"],
    &["Morocco", "MAR", "Maroc", "Marrocos"],
    &["Netherlands", "NED", "Holland", "Holanda", "Nederland"],
    &["New Zealand", "NZL"],
    &["Nigeria", "NGA"],
    &["Norway", "NOR", "Norge"],
    &["Paraguay", "PAR"],
    &["Peru", "PER", "Perú"],
    &["Poland", "POL", "Polska", "Polônia"],
    &["Portugal", "POR"],
    &["Qatar", "QAT", "Catar"],
    &["Republic of Ireland", "IRL", "Ireland"],
    &["Saudi Arabia", "KSA", "Arábia Saudita"],
    &["Scotland", "SCO"],
    &["Senegal", "SEN"],
    &["Serbia", "SRB"],
    &["South Africa", "RSA"],
    &[
        "South Korea",
        "KOR",
        "Korea Republic",
        "Korea",
        "Coreia do Sul",
    ],
    &["Spain", "ESP", "España", "Espanha"],
    &["Sweden", "SWE", "Sverige", "Suécia"],
    &["Switzerland", "SUI", "Schweiz", "Suisse", "Suíça"],
    &["Tunisia", "TUN"],
    &["Turkey", "TUR", "Türkiye"],
    &["Ukraine", "UKR"],
    &["United States", "USA", "US", "USMNT", "Estados Unidos"],
    &["Uruguay", "URU", "Uruguai"],
    &["Wales", "WAL", "País de Gales"],
];

/// Folded alias → folded canonical name, built once.
static ALIASES: std::sync::LazyLock<std::collections::HashMap<String, String>> =
    std::sync::LazyLock::new(|| {
        TEAMS
            .iter()
            .flat_map(|row| row.iter().map(|alias| (fold(alias), fold(row[0]))))
            .collect()
    });

/// The canonical key of a team name: the folded first name of its alias row, or the folded
/// name itself when it is not a known national team.
pub fn key(name: &str) -> String {
    let folded = fold(name);
    ALIASES.get(&folded).cloned().unwrap_or(folded)
}

/// The built-in spellings of the national team `name` stands for (its name, FIFA code and
/// names in other languages); empty for a team herald has no list for.
pub fn aliases(name: &str) -> &'static [&'static str] {
    let wanted = key(name);
    TEAMS
        .iter()
        .find(|row| fold(row[0]) == wanted)
        .copied()
        .unwrap_or(&[])
}

/// Whether two spellings name the same team (`Brasil` and `Brazil`, `USA` and `United States`).
pub fn same(a: &str, b: &str) -> bool {
    let (a, b) = (key(a), key(b));
    !a.is_empty() && a == b
}

/// The display name of what a user typed, if it is a team herald knows: a name seen in the
/// feeds wins over the built-in list, so subscriptions use the providers' spelling.
pub fn resolve(typed: &str, seen: &[String]) -> Option<String> {
    let wanted = key(typed);
    if wanted.is_empty() {
        return None;
    }
    seen.iter()
        .find(|name| key(name) == wanted)
        .cloned()
        .or_else(|| {
            TEAMS
                .iter()
                .find(|row| fold(row[0]) == wanted)
                .map(|row| row[0].to_owned())
        })
}

/// Up to three known names close to what was typed, best first.
pub fn suggestions(typed: &str, seen: &[String], competitions: &[String]) -> Vec<String> {
    let folded = fold(typed);
    if folded.is_empty() {
        return Vec::new();
    }
    let mut candidates: Vec<(usize, String)> = Vec::new();
    let mut consider = |display: &str, spelling: &str| {
        let distance = levenshtein(&folded, &fold(spelling));
        let limit = (folded.len() / 3).max(2);
        let prefix = fold(spelling).starts_with(&folded) && folded.len() >= 3;
        if (distance <= limit || prefix) && !candidates.iter().any(|(_, name)| name == display) {
            candidates.push((if prefix { 0 } else { distance }, display.to_owned()));
        }
    };
    for name in seen.iter().chain(competitions) {
        consider(name, name);
    }
    for row in TEAMS {
        for alias in *row {
            consider(row[0], alias);
        }
    }
    candidates.sort();
    candidates
        .into_iter()
        .take(3)
        .map(|(_, name)| name)
        .collect()
}

fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = if ca == *cb {
                diagonal
            } else {
                1 + diagonal.min(above).min(row[j])
            };
            diagonal = above;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_removes_case_accents_and_punctuation() {
        assert_eq!(fold("Côte d'Ivoire"), "cotedivoire");
        assert_eq!(fold("Mandžukić"), "mandzukic");
        assert_eq!(fold("MÜLLER THOMAS"), "mullerthomas");
        assert_eq!(fold("Gündoğan"), "gundogan");
    }

    #[test]
    fn aliases_and_codes_name_the_same_team() {
        assert!(same("Brasil", "Brazil"));
        assert!(same("usa", "United States"));
        assert!(same("Korea Republic", "South Korea"));
        assert!(same("FRA", "france"));
        assert!(same("Cote d'Ivoire", "Ivory Coast"));
        assert!(
            same("Bayern München", "bayern munchen"),
            "unknown teams match by spelling"
        );
        assert!(!same("France", "Croatia"));
        assert!(!same("", ""));
    }

    #[test]
    fn resolution_prefers_the_feeds_spelling() {
        let seen = vec!["Korea Republic".to_owned(), "France".to_owned()];
        assert_eq!(
            resolve("south korea", &seen).as_deref(),
            Some("Korea Republic")
        );
        assert_eq!(resolve("brasil", &seen).as_deref(), Some("Brazil"));
        assert_eq!(resolve("FRANCE", &seen).as_deref(), Some("France"));
        assert_eq!(resolve("Atlantis", &seen), None);
    }

    #[test]
    fn typos_get_suggestions() {
        let seen = vec!["France".to_owned(), "Croatia".to_owned()];
        assert_eq!(
            suggestions("Frnace", &seen, &[])
                .first()
                .map(String::as_str),
            Some("France")
        );
        assert_eq!(
            suggestions("Argentin", &seen, &[])
                .first()
                .map(String::as_str),
            Some("Argentina")
        );
        assert!(suggestions("qwertyuiop", &seen, &[]).is_empty());
    }

    #[test]
    fn levenshtein_counts_edits() {
        assert_eq!(levenshtein("kitten", "sitting"), 3);
        assert_eq!(levenshtein("", "abc"), 3);
        assert_eq!(levenshtein("same", "same"), 0);
    }
}
