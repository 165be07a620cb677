//! What the bot answers, in English and Brazilian Portuguese.

/// One reply, with what it needs to say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Reply {
    Subscribed {
        what: String,
        kinds: Vec<String>,
    },
    SubscribedAll {
        kinds: Vec<String>,
    },
    Unsubscribed {
        what: String,
    },
    UnsubscribedAll {
        count: u64,
    },
    NotSubscribed {
        what: String,
    },
    NothingFollowed,
    Following {
        items: Vec<String>,
    },
    UnknownTarget {
        typed: String,
        suggestions: Vec<String>,
    },
    Live {
        lines: Vec<String>,
    },
    NothingLive,
    Language {
        current: String,
        available: Vec<String>,
    },
    LanguageSet {
        locale: String,
    },
    UnknownLanguage {
        typed: String,
        available: Vec<String>,
    },
    SmsUnavailable,
    #[cfg_attr(not(feature = "twilio"), allow(dead_code))]
    SmsCodeSent {
        phone: String,
    },
    #[cfg_attr(not(feature = "twilio"), allow(dead_code))]
    SmsRefused {
        reason: String,
    },
    SmsStopByText,
    UnknownCommand {
        typed: String,
    },
    Help,
    Unavailable,
}

fn portuguese(locale: &str) -> bool {
    locale.to_ascii_lowercase().starts_with("pt")
}

fn kinds_suffix(kinds: &[String], pt: bool) -> String {
    if kinds.is_empty() {
        return String::new();
    }
    let names: Vec<&str> = kinds
        .iter()
        .map(|k| match (k.as_str(), pt) {
            ("goals", true) => "gols",
            ("cards", true) => "cartões",
            ("penalties", true) => "pênaltis",
            ("periods", true) => "início e fim",
            ("announcements", true) => "avisos",
            (k, _) => k,
        })
        .collect();
    format!(" ({})", names.join(", "))
}

/// The text of `reply` in `locale` (Portuguese for `pt*`, English otherwise).
pub(crate) fn text(reply: &Reply, locale: &str) -> String {
    let pt = portuguese(locale);
    match reply {
        Reply::Subscribed { what, kinds } if pt => {
            format!(
                "✅ Você agora segue {what}{}. As notificações chegam aqui.",
                kinds_suffix(kinds, pt)
            )
        }
        Reply::Subscribed { what, kinds } => {
            format!(
                "✅ You now follow {what}{}. Notifications will arrive here.",
                kinds_suffix(kinds, pt)
            )
        }
        Reply::SubscribedAll { kinds } if pt => {
            format!(
                "✅ Você agora segue todas as partidas{}.",
                kinds_suffix(kinds, pt)
            )
        }
        Reply::SubscribedAll { kinds } => {
            format!("✅ You now follow every match{}.", kinds_suffix(kinds, pt))
        }
        Reply::Unsubscribed { what } if pt => format!("Você deixou de seguir {what}."),
        Reply::Unsubscribed { what } => format!("You no longer follow {what}."),
        Reply::UnsubscribedAll { count } if pt => {
            format!("Pronto: {count} inscrição(ões) removida(s).")
        }
        Reply::UnsubscribedAll { count } => format!("Done: {count} subscription(s) removed."),
        Reply::NotSubscribed { what } if pt => format!("Você não segue {what}."),
        Reply::NotSubscribed { what } => format!("You don't follow {what}."),
        Reply::NothingFollowed if pt => {
            "Você não segue nada ainda. Tente: subscribe França".to_owned()
        }
        Reply::NothingFollowed => "You don't follow anything yet. Try: subscribe France".to_owned(),
        Reply::Following { items } if pt => format!("Você segue:\n• {}", items.join("\n• ")),
        Reply::Following { items } => format!("You follow:\n• {}", items.join("\n• ")),
        Reply::UnknownTarget { typed, suggestions } => {
            let (head, maybe) = if pt {
                (format!("Não conheço \"{typed}\"."), "Você quis dizer")
            } else {
                (format!("I don't know \"{typed}\"."), "Did you mean")
            };
            if suggestions.is_empty() {
                let hint = if pt {
                    "Use o nome de uma seleção, de uma competição ou o id de uma partida."
                } else {
                    "Use a team name, a competition name or a match id."
                };
                format!("{head} {hint}")
            } else {
                format!("{head} {maybe}: {}?", suggestions.join(", "))
            }
        }
        Reply::Live { lines } => lines.join("\n"),
        Reply::NothingLive if pt => "Nenhuma partida ao vivo agora.".to_owned(),
        Reply::NothingLive => "No match is live right now.".to_owned(),
        Reply::Language { current, available } if pt => {
            format!("Idioma: {current}. Disponíveis: {}.", available.join(", "))
        }
        Reply::Language { current, available } => {
            format!("Language: {current}. Available: {}.", available.join(", "))
        }
        Reply::LanguageSet { locale } if pt => format!("Idioma definido: {locale}."),
        Reply::LanguageSet { locale } => format!("Language set to {locale}."),
        Reply::UnknownLanguage { typed, available } if pt => {
            format!(
                "Não falo \"{typed}\". Disponíveis: {}.",
                available.join(", ")
            )
        }
        Reply::UnknownLanguage { typed, available } => {
            format!(
                "I don't speak \"{typed}\". Available: {}.",
                available.join(", ")
            )
        }
        Reply::SmsUnavailable if pt => "O SMS não está configurado neste herald.".to_owned(),
        Reply::SmsUnavailable => "SMS is not configured on this herald.".to_owned(),
        Reply::SmsCodeSent { phone } if pt => format!(
            "Enviamos um código por SMS para {phone}. A inscrição começa quando o telefone responder com o código (ou SIM)."
        ),
        Reply::SmsCodeSent { phone } => format!(
            "Texted a code to {phone}. The SMS subscription starts when that phone replies with the code (or YES)."
        ),
        Reply::SmsRefused { reason } if pt => {
            format!("Não foi possível inscrever o número: {reason}")
        }
        Reply::SmsRefused { reason } => format!("Cannot sign that number up: {reason}"),
        Reply::SmsStopByText if pt => {
            "Para parar os SMS, envie STOP a partir desse telefone.".to_owned()
        }
        Reply::SmsStopByText => "To stop the texts, send STOP from that phone.".to_owned(),
        Reply::UnknownCommand { typed } if pt => {
            format!("Não conheço o comando \"{typed}\". Tente: help")
        }
        Reply::UnknownCommand { typed } => {
            format!("I don't know the command \"{typed}\". Try: help")
        }
        Reply::Help if pt => HELP_PT.to_owned(),
        Reply::Help => HELP_EN.to_owned(),
        Reply::Unavailable if pt => {
            "Algo deu errado do nosso lado; tente de novo em instantes.".to_owned()
        }
        Reply::Unavailable => {
            "Something went wrong on our side; please try again in a moment.".to_owned()
        }
    }
}

const HELP_EN: &str = "herald sends live football notifications here.\n\
subscribe <team | competition | match id> [goals cards penalties periods] — follow (no argument: everything)\n\
unsubscribe [<same>] — stop following (no argument: everything)\n\
list — what this chat follows\n\
live — scores of the matches being played\n\
lang <en | pt-BR> — language of the notifications\n\
help — this message";

const HELP_PT: &str = "O herald envia aqui notificações de futebol ao vivo.\n\
subscribe <seleção | competição | id da partida> [gols cartões pênaltis] — seguir (sem argumento: tudo)\n\
unsubscribe [<o mesmo>] — deixar de seguir (sem argumento: tudo)\n\
list — o que este chat segue\n\
live — placares das partidas em andamento\n\
lang <en | pt-BR> — idioma das notificações\n\
help — esta mensagem";
