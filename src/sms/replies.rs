//! What herald texts and answers SMS subscribers, in English and Brazilian Portuguese. Short on
//! purpose: every text is paid per segment.

/// A text to a subscriber.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Text<'a> {
    /// The confirmation code, with what the number will follow.
    Code { code: &'a str, following: &'a str },
    /// Confirmed.
    Welcome { following: &'a str },
    /// Notifications resumed after STOP.
    Resumed,
    /// The keywords.
    Help,
    /// A code that does not match.
    WrongCode,
    /// Nothing to confirm or resume.
    NothingPending,
}

/// The text in `locale` (Portuguese for `pt*`, English otherwise).
pub(crate) fn text(t: &Text<'_>, locale: &str) -> String {
    let pt = locale.to_lowercase().starts_with("pt");
    match t {
        Text::Code { code, following } if pt => format!(
            "herald: seu codigo e {code}. Responda com ele (ou SIM) para receber {following}. Responda STOP para cancelar."
        ),
        Text::Code { code, following } => format!(
            "herald: your code is {code}. Reply with it (or YES) to get {following}. Reply STOP to cancel."
        ),
        Text::Welcome { following } if pt => format!(
            "Bem-vindo ao herald! Voce vai receber {following}. Responda STOP para cancelar, HELP para ajuda."
        ),
        Text::Welcome { following } => format!(
            "Welcome to herald! You will get {following}. Reply STOP to cancel, HELP for help."
        ),
        Text::Resumed if pt => "herald: notificacoes retomadas. Responda STOP para cancelar.".to_owned(),
        Text::Resumed => "herald: notifications resumed. Reply STOP to cancel.".to_owned(),
        Text::Help if pt => "herald: alertas de futebol. Responda STOP para cancelar, START para retomar. Msg e dados podem ser cobrados.".to_owned(),
        Text::Help => "herald: football alerts. Reply STOP to cancel, START to resume. Msg&data rates may apply.".to_owned(),
        Text::WrongCode if pt => "herald: codigo incorreto. Confira o ultimo codigo enviado.".to_owned(),
        Text::WrongCode => "herald: that code is not right. Check the latest code we sent.".to_owned(),
        Text::NothingPending if pt => "herald: nada para confirmar. Cadastre-se na pagina do herald.".to_owned(),
        Text::NothingPending => "herald: nothing to confirm. Sign up on the herald page first.".to_owned(),
    }
}

/// What a subscription covers, in words: `France, Brazil (goals)` or `every match`.
pub(crate) fn following(names: &[String], kinds: &[String], locale: &str) -> String {
    let pt = locale.to_lowercase().starts_with("pt");
    let what = if names.is_empty() {
        if pt {
            "todas as partidas"
        } else {
            "every match"
        }
        .to_owned()
    } else if pt {
        format!("alertas de {}", names.join(", "))
    } else {
        format!("{} alerts", names.join(", "))
    };
    if kinds.is_empty() {
        what
    } else {
        format!("{what} ({})", kinds.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_fit_one_gsm7_segment() {
        let following = following(
            &["Bosnia and Herzegovina".into(), "Brazil".into()],
            &["goals".into(), "cards".into()],
            "en",
        );
        for locale in ["en", "pt-BR"] {
            for t in [
                Text::Code {
                    code: "123456",
                    following: &following,
                },
                Text::Welcome {
                    following: &following,
                },
                Text::Resumed,
                Text::Help,
                Text::WrongCode,
                Text::NothingPending,
            ] {
                let s = sink_twilio::gsm::segments(&text(&t, locale));
                assert_eq!(
                    s.encoding,
                    sink_twilio::gsm::Encoding::Gsm7,
                    "{t:?} {locale}"
                );
                assert!(s.count <= 1, "{t:?} in {locale} takes {} segments", s.count);
            }
        }
    }
}
