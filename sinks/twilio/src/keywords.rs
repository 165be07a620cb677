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

/// Keywords that set, show or clear quiet hours (`QUIET 23:00-07:00`); unlike the others
/// they take words after them.
pub const QUIET: [&str; 4] = ["QUIET", "SILENCIO", "SILENCE", "SILÊNCIO"];

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

/// The keyword a message is, if any: the whole message is one keyword, in any case, trimmed of
/// spaces and of punctuation around it (`" Stop! "`). A keyword inside a longer message is
/// none: `unsubscribe France` is a command, and `stop sending goals` no opt-out, as Twilio
/// itself opts a number out only on a message that is the keyword alone.
pub fn keyword(body: &str) -> Option<Keyword> {
    let mut words = body.split_whitespace();
    let (Some(_), None) = (words.next(), words.next()) else {
        return None;
    };
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
    fn the_whole_message_is_the_keyword() {
        assert_eq!(keyword("stop"), Some(Keyword::Stop));
        assert_eq!(keyword("  Unsubscribe \n"), Some(Keyword::Stop));
        assert_eq!(keyword("START!"), Some(Keyword::Start));
        assert_eq!(keyword("sí"), Some(Keyword::Start));
        assert_eq!(keyword("ajuda"), Some(Keyword::Help));
        assert_eq!(keyword("subscribe France"), None);
        assert_eq!(keyword("please stop"), None);
        assert_eq!(keyword(""), None);
        assert_eq!(keyword("   "), None);
        assert_eq!(first_word(" 123456. "), "123456");
    }

    #[test]
    fn a_keyword_that_starts_a_longer_message_is_none() {
        assert_eq!(keyword("unsubscribe France"), None);
        assert_eq!(keyword("Unsubscribe please"), None);
        assert_eq!(keyword("stop sending goals"), None);
        assert_eq!(keyword("STOP France"), None);
        assert_eq!(keyword("yes please"), None);
        assert_eq!(keyword("help me"), None);
        assert_eq!(keyword("info France"), None);
    }
}
