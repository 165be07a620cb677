//! Parses what chat users type into commands: `/subscribe@herald_bot France goals cards`,
//! `@herald subscribe brasil`, `lang pt-BR`.

use crate::targets::kind_word;

/// A parsed command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Follow a team, competition or match (or everything), optionally only some kinds.
    Subscribe {
        /// What to follow; `None` for everything.
        target: Option<String>,
        /// Kinds or groups; empty for all.
        kinds: Vec<String>,
    },
    /// Stop following one thing, or everything.
    Unsubscribe {
        /// What to stop following; `None` for everything.
        target: Option<String>,
    },
    /// What this chat follows.
    List,
    /// The scores of live matches.
    Live,
    /// Show or set the chat's language.
    Lang(Option<String>),
    /// Show, set (`23:00-07:00 Europe/Lisbon drop cards`) or clear (`off`) quiet hours.
    Quiet(Option<String>),
    /// Show or set (`on`, `off`) whether texts give the score away.
    Spoilers(Option<String>),
    /// Show or set (`ticker`, `messages`) how match events reach the chat.
    Mode(Option<String>),
    /// The score of a match (a team, a match id), for spoiler-free chats.
    Result(Option<String>),
    /// The commands.
    Help,
}

/// Why a text is not a command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParseError {
    /// Nothing was typed.
    Empty,
    /// The first word is not a command.
    Unknown(String),
}

/// Parses one message. The command word may carry a leading `/` and a trailing `@botname`.
///
/// # Errors
/// An empty text, or one whose first word is not a command.
pub fn parse(text: &str) -> Result<Command, ParseError> {
    let mut words = text.split_whitespace();
    let Some(first) = words.next() else {
        return Err(ParseError::Empty);
    };
    let word = first.trim_start_matches('/');
    let word = word.split('@').next().unwrap_or(word).to_lowercase();
    let rest: Vec<&str> = words.collect();
    let joined = |words: &[&str]| {
        let text = words.join(" ");
        (!text.is_empty()).then_some(text)
    };
    match word.as_str() {
        "subscribe" | "sub" | "follow" | "seguir" | "suivre" => {
            // Kind words come last: `subscribe south korea goals cards`.
            let split = rest
                .iter()
                .rposition(|w| kind_word(w).is_none())
                .map_or(0, |i| i + 1);
            let kinds = rest[split..].iter().filter_map(|w| kind_word(w)).collect();
            Ok(Command::Subscribe {
                target: joined(&rest[..split]),
                kinds,
            })
        }
        "unsubscribe" | "unsub" | "unfollow" | "stop" => Ok(Command::Unsubscribe {
            target: joined(&rest),
        }),
        "list" | "lista" | "liste" | "following" => Ok(Command::List),
        "live" | "aovivo" | "envivo" | "direct" | "scores" => Ok(Command::Live),
        "lang" | "language" | "idioma" | "langue" => Ok(Command::Lang(joined(&rest))),
        "quiet" | "silencio" | "silêncio" | "silence" => Ok(Command::Quiet(joined(&rest))),
        "spoilers" | "spoiler" => Ok(Command::Spoilers(joined(&rest))),
        "mode" | "modo" => Ok(Command::Mode(joined(&rest))),
        "result" | "resultado" | "résultat" | "score" => Ok(Command::Result(joined(&rest))),
        "help" | "start" | "ajuda" | "ayuda" | "aide" => Ok(Command::Help),
        _ if word.is_empty() => Err(ParseError::Empty),
        _ => Err(ParseError::Unknown(first.to_owned())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sub(target: Option<&str>, kinds: &[&str]) -> Command {
        Command::Subscribe {
            target: target.map(str::to_owned),
            kinds: kinds.iter().map(|k| (*k).to_owned()).collect(),
        }
    }

    #[test]
    fn subscribe_takes_a_target_and_trailing_kinds() {
        assert_eq!(parse("/subscribe France"), Ok(sub(Some("France"), &[])));
        assert_eq!(
            parse("subscribe France goals cards"),
            Ok(sub(Some("France"), &["goals", "cards"]))
        );
        assert_eq!(
            parse("/subscribe@herald_bot South Korea full_time"),
            Ok(sub(Some("South Korea"), &["full_time"]))
        );
        assert_eq!(parse("subscribe"), Ok(sub(None, &[])));
        assert_eq!(parse("subscribe goals"), Ok(sub(None, &["goals"])));
        assert_eq!(
            parse("seguir Brasil gols cartões"),
            Ok(sub(Some("Brasil"), &["goals", "cards"]))
        );
        assert_eq!(
            parse("seguir España goles tarjetas penaltis"),
            Ok(sub(Some("España"), &["goals", "cards", "penalties"]))
        );
        assert_eq!(
            parse("suivre France buts cartons"),
            Ok(sub(Some("France"), &["goals", "cards"]))
        );
    }

    #[test]
    fn other_commands_parse() {
        assert_eq!(
            parse("/unsubscribe"),
            Ok(Command::Unsubscribe { target: None })
        );
        assert_eq!(
            parse("unsubscribe World Cup"),
            Ok(Command::Unsubscribe {
                target: Some("World Cup".into())
            })
        );
        assert_eq!(parse("/list"), Ok(Command::List));
        assert_eq!(parse("LIVE"), Ok(Command::Live));
        assert_eq!(
            parse("/lang pt-BR"),
            Ok(Command::Lang(Some("pt-BR".into())))
        );
        assert_eq!(parse("lang"), Ok(Command::Lang(None)));
        assert_eq!(parse("/start"), Ok(Command::Help));
        assert_eq!(
            parse("/quiet 23:00-07:00 Europe/Lisbon drop cards"),
            Ok(Command::Quiet(Some(
                "23:00-07:00 Europe/Lisbon drop cards".into()
            )))
        );
        assert_eq!(parse("quiet"), Ok(Command::Quiet(None)));
        assert_eq!(
            parse("spoilers off"),
            Ok(Command::Spoilers(Some("off".into())))
        );
        assert_eq!(
            parse("/mode@herald_bot ticker"),
            Ok(Command::Mode(Some("ticker".into())))
        );
        assert_eq!(
            parse("result France"),
            Ok(Command::Result(Some("France".into())))
        );
        assert_eq!(parse("help"), Ok(Command::Help));
    }

    #[test]
    fn non_commands_are_errors() {
        assert_eq!(parse("   "), Err(ParseError::Empty));
        assert_eq!(parse("/"), Err(ParseError::Empty));
        assert_eq!(
            parse("hello there"),
            Err(ParseError::Unknown("hello".into()))
        );
    }
}
