//! What herald texts and answers SMS subscribers, from the `sms/` templates of the subscriber's
//! locale. Short and GSM-7 on purpose: every text is paid per segment.

use super::Signup;
use crate::dispatch::error_chain;
use crate::render::{SmsText, Target};
use crate::routing::Scope;

impl Signup {
    /// The text of `text` in `locale`; empty (and logged) if its template fails.
    pub(super) fn say(&self, text: &SmsText, locale: &str) -> String {
        self.renderer.text(text, locale).unwrap_or_else(|e| {
            tracing::error!(error = %error_chain(&e), "cannot render an SMS text");
            String::new()
        })
    }

    /// What a subscription covers, in words: `France, Brazil alerts (goals)` or `every match`.
    pub(super) fn following(&self, scopes: &[Scope], kinds: &[String], locale: &str) -> String {
        let targets = scopes
            .iter()
            .filter(|s| **s != Scope::All)
            .map(Target::from)
            .collect();
        self.say(
            &SmsText::Following {
                targets,
                kinds: kinds.to_vec(),
            },
            locale,
        )
    }
}

#[cfg(test)]
mod tests {
    use crate::render::{LOCALES, Renderer, SmsText, Target, Text};
    use crate::routing::Scope;

    #[test]
    fn texts_fit_one_gsm7_segment_in_every_locale() {
        let renderer = Renderer::new(None, "en").unwrap();
        for locale in LOCALES {
            let following = renderer
                .text(
                    &SmsText::Following {
                        targets: vec![
                            Target::from(&Scope::Team("Bosnia and Herzegovina".into())),
                            Target::from(&Scope::Team("Brazil".into())),
                        ],
                        kinds: vec!["goals".into(), "cards".into()],
                    },
                    locale,
                )
                .unwrap();
            let texts = [
                SmsText::Code {
                    code: "123456".into(),
                    following: following.clone(),
                },
                SmsText::Welcome {
                    following: following.clone(),
                },
            ];
            for t in texts.into_iter().chain(SmsText::samples()) {
                let text = renderer.text(&t, locale).unwrap();
                let s = sink_twilio::gsm::segments(&text);
                assert_eq!(
                    s.encoding,
                    sink_twilio::gsm::Encoding::Gsm7,
                    "{t:?} in {locale}: {text}"
                );
                assert!(
                    s.count <= 1,
                    "{t:?} in {locale} takes {} segments: {text}",
                    s.count
                );
            }
        }
    }

    #[test]
    fn following_names_teams_matches_and_kinds() {
        let renderer = Renderer::new(None, "en").unwrap();
        let following = |targets: Vec<Target>, kinds: &[&str], locale| {
            renderer
                .text(
                    &SmsText::Following {
                        targets,
                        kinds: kinds.iter().map(|k| (*k).to_owned()).collect(),
                    },
                    locale,
                )
                .unwrap()
        };
        let teams = vec![
            Target::from(&Scope::Team("France".into())),
            Target::from(&Scope::Match("fifa:1".into())),
        ];
        assert_eq!(
            following(teams.clone(), &["goals"], "en"),
            "France, match fifa:1 alerts (goals)"
        );
        assert_eq!(following(Vec::new(), &[], "en"), "every match");
        assert_eq!(
            following(teams, &["goals", "cards"], "pt-BR"),
            "alertas de France, partida fifa:1 (gols, cartoes)"
        );
        assert_eq!(
            following(Vec::new(), &["cards"], "es"),
            "todos los partidos (tarjetas)"
        );
        assert_eq!(following(Vec::new(), &[], "fr"), "tous les matchs");
    }
}
