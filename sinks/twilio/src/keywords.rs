//! The keywords subscribers text or write to a Twilio number (STOP, START, HELP and their
//! usual synonyms), shared by the SMS signup and the WhatsApp inbound webhook.

/// Keywords that opt a number out (Twilio's standard set).
pub const STOP: [&str; 8] = [
    "STOP",
    "STOPALL",
    "UNSUBSCRIBE",
    "CANCEL",
    "END",
    "QUIT",
    "OPTOUT",
    "REVOKE",
];

/// Keywords that opt a number back in or confirm an SMS signup (the `sms/code.j2` templates
/// name theirs: YES, SIM, SI, OUI).
pub const START: [&str; 8] = ["START", "UNSTOP", "YES", "SIM", "SI", "SÍ", "OUI", "Y"];

/// Keywords that ask for help.
pub const HELP: [&str; 5] = ["HELP", "INFO", "AJUDA", "AYUDA", "AIDE"];

/// What a message's keyword asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keyword {
    /// Opt out: send nothing more.
    Stop,
    /// Opt back in (or confirm an SMS signup).
    Start,
    /// Explain the service.
    Help,
}

/// The first word of a message, without surrounding punctuation, upper-cased: `" stop! "` →
/// `"STOP"`.
pub fn first_word(body: &str) -> String {
    body.split_whitespace()
        .next()
        .unwrap_or_default()
        .trim_matches(|c: char| !c.is_alphanumeric())
        .to_uppercase()
}

/// The keyword a message starts with, if any.
pub fn keyword(body: &str) -> Option<Keyword> {
    let word = first_word(body);
    let word = word.as_str();
    if STOP.contains(&word) {
        Some(Keyword::Stop)
    } else if START.contains(&word) {
        Some(Keyword::Start)
    } else if HELP.contains(&word) {
        Some(Keyword::Help)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_word_decides() {
        assert_eq!(keyword("stop"), Some(Keyword::Stop));
        assert_eq!(keyword("  Unsubscribe please"), Some(Keyword::Stop));
        assert_eq!(keyword("START!"), Some(Keyword::Start));
        assert_eq!(keyword("sí"), Some(Keyword::Start));
        assert_eq!(keyword("ajuda"), Some(Keyword::Help));
        assert_eq!(keyword("subscribe France"), None);
        assert_eq!(keyword("please stop"), None);
        assert_eq!(keyword(""), None);
        assert_eq!(first_word(" 123456. "), "123456");
    }
}
