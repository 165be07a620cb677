//! Reply and SMS text tests: exact text per locale, the `en` fallback of a locale from
//! `templates_dir`, and broken reply templates refused at startup.

use std::path::Path;

use super::*;
use crate::routing::Scope;

fn renderer() -> Renderer {
    Renderer::new(None, "en").unwrap()
}

fn team(name: &str) -> Target {
    Target::from(&Scope::Team(name.into()))
}

fn subscribed() -> Reply {
    Reply::Subscribed {
        target: team("France"),
        kinds: vec!["goals".into(), "cards".into()],
    }
}

fn following() -> Reply {
    Reply::Following {
        items: vec![
            Followed {
                target: team("France"),
                kinds: vec!["goals".into(), "full_time".into()],
            },
            Followed {
                target: Target::from(&Scope::All),
                kinds: Vec::new(),
            },
            Followed {
                target: Target::from(&Scope::Match("fifa:1".into())),
                kinds: Vec::new(),
            },
        ],
    }
}

#[test]
fn replies_read_in_english() {
    let r = renderer();
    let say = |reply: &Reply| r.text(reply, "en").unwrap();
    assert_eq!(
        say(&subscribed()),
        "✅ You now follow France (goals, cards). Notifications will arrive here."
    );
    assert_eq!(
        say(&following()),
        "You follow:\n• France (goals, full_time)\n• every match\n• match fifa:1"
    );
    assert_eq!(
        say(&Reply::UnknownTarget {
            typed: "Atlantis".into(),
            suggestions: Vec::new()
        }),
        "I don't know \"Atlantis\". Use a team name, a competition name or a match id."
    );
    assert_eq!(
        say(&Reply::Live {
            matches: vec![
                LiveMatch {
                    home: "France".into(),
                    away: "Croatia".into(),
                    home_score: 2,
                    away_score: 1,
                    phase: "2H".into(),
                    clock: Some("67'".into()),
                },
                LiveMatch {
                    home: "Belgium".into(),
                    away: "England".into(),
                    home_score: 0,
                    away_score: 0,
                    phase: "HT".into(),
                    clock: None,
                }
            ]
        }),
        "France 2-1 Croatia (2H 67')\nBelgium 0-0 England (HT)"
    );
    assert_eq!(
        say(&Reply::Language {
            current: "en".into()
        }),
        "Language: en. Available: en, es, fr, pt-BR."
    );
    let help = say(&Reply::Help { ticker: true });
    assert!(
        help.contains("\nlang <en | es | fr | pt-BR> — language of the notifications\n"),
        "{help}"
    );
    assert!(
        help.contains("score\nmode ticker | messages — one message per match, edited live, or one per event\nresult <team>"),
        "{help}"
    );
    let without = say(&Reply::Help { ticker: false });
    assert!(
        without.contains("show or hide the score\nresult <team>"),
        "{without}"
    );
}

#[test]
fn replies_read_in_portuguese_spanish_and_french() {
    let r = renderer();
    assert_eq!(
        r.text(&subscribed(), "pt-BR").unwrap(),
        "✅ Você agora segue France (gols, cartões). As notificações chegam aqui."
    );
    assert_eq!(
        r.text(&following(), "pt-BR").unwrap(),
        "Você segue:\n• France (gols, full_time)\n• todas as partidas\n• partida fifa:1"
    );
    assert_eq!(
        r.text(&subscribed(), "es").unwrap(),
        "✅ Ahora sigues a France (goles, tarjetas). Las notificaciones llegarán aquí."
    );
    assert_eq!(
        r.text(
            &Reply::SubscribedAll {
                kinds: vec!["penalties".into()]
            },
            "es"
        )
        .unwrap(),
        "✅ Ahora sigues todos los partidos (penaltis)."
    );
    assert_eq!(
        r.text(&following(), "es").unwrap(),
        "Sigues:\n• France (goles, full_time)\n• todos los partidos\n• partido fifa:1"
    );
    assert_eq!(
        r.text(&subscribed(), "fr").unwrap(),
        "✅ Vous suivez désormais France (buts, cartons). Les notifications arriveront ici."
    );
    assert_eq!(
        r.text(
            &Reply::Unsubscribed {
                target: Target::from(&Scope::Match("fifa:1".into()))
            },
            "fr"
        )
        .unwrap(),
        "Vous ne suivez plus le match fifa:1."
    );
    assert_eq!(
        r.text(
            &Reply::UnknownLanguage {
                typed: "tlh".into()
            },
            "fr"
        )
        .unwrap(),
        "Je ne parle pas \"tlh\". Disponibles : en, es, fr, pt-BR."
    );
}

#[test]
fn sms_texts_read_in_every_locale() {
    let r = renderer();
    let welcome = |locale| {
        let following = r
            .text(
                &SmsText::Following {
                    targets: vec![team("France")],
                    kinds: Vec::new(),
                },
                locale,
            )
            .unwrap();
        r.text(&SmsText::Welcome { following }, locale).unwrap()
    };
    assert_eq!(
        welcome("en"),
        "Welcome to herald! You will get France alerts. Reply STOP to cancel, HELP for help."
    );
    assert_eq!(
        welcome("pt-BR"),
        "Bem-vindo ao herald! Voce vai receber alertas de France. Responda STOP para cancelar, HELP para ajuda."
    );
    assert!(welcome("es").starts_with("¡Bienvenido a herald! Recibiras alertas de France."));
    assert!(welcome("fr").starts_with("Bienvenue sur herald ! Vous recevrez les alertes France."));
}

fn write(dir: &Path, path: &str, text: &str) {
    let path = dir.join(path);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// A templates directory adding `locale` with its notifications and nothing else.
fn with_locale(locale: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for kind in EventKind::ALL {
        write(
            dir.path(),
            &format!("{locale}/{}.j2", kind.as_str()),
            "{{ team }}",
        );
    }
    dir
}

#[test]
fn a_locale_from_templates_dir_answers_in_its_language_and_borrows_the_rest_from_english() {
    let dir = with_locale("de");
    write(
        dir.path(),
        "de/replies/words.j2",
        r#"{%- set names = ["deutsch", "german"] -%}
{%- macro object(t) %}{% if t.type == "all" %}alle Spiele{% else %}{{ t.name }}{% endif %}{% endmacro -%}
{%- macro kinds(list) %}{% if list %} ({% for k in list %}{{ {"goals": "Tore"}[k] or k }}{% if not loop.last %}, {% endif %}{% endfor %}){% endif %}{% endmacro -%}"#,
    );
    write(
        dir.path(),
        "de/replies/subscribed.j2",
        "{%- import \"words\" as w -%}\n✅ Du folgst jetzt {{ w.object(target) }}{{ w.kinds(kinds) }}.\n",
    );
    write(
        dir.path(),
        "de/replies/help.j2",
        "herald: {{ locales | join(\", \") }}\n",
    );
    let r = Renderer::new(Some(dir.path()), "en").unwrap();
    assert_eq!(
        r.text(&subscribed(), "de").unwrap(),
        "✅ Du folgst jetzt France (Tore, cards)."
    );
    assert_eq!(
        r.text(&Reply::Help { ticker: false }, "de-CH").unwrap(),
        "herald: de, en, es, fr, pt-BR"
    );
    assert_eq!(r.resolve_locale("Deutsch"), Some("de"));
    // What `de` lacks is English, imports included.
    assert_eq!(
        r.text(&following(), "de").unwrap(),
        "You follow:\n• France (goals, full_time)\n• every match\n• match fifa:1"
    );
    assert_eq!(
        r.text(&SmsText::Resumed, "de").unwrap(),
        "herald: notifications resumed. Reply STOP to cancel."
    );
}

#[test]
fn a_reply_importing_words_its_locale_lacks_gets_the_english_ones() {
    let dir = with_locale("it");
    write(
        dir.path(),
        "it/replies/subscribed.j2",
        "{%- import \"words\" as w -%}\n✅ Ora segui {{ w.object(target) }}{{ w.kinds(kinds) }}.",
    );
    let r = Renderer::new(Some(dir.path()), "en").unwrap();
    assert_eq!(
        r.text(&subscribed(), "it").unwrap(),
        "✅ Ora segui France (goals, cards)."
    );
}

#[test]
fn an_override_replaces_a_built_in_reply() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "pt-BR/replies/nothing_live.j2", "Nada rolando.");
    let r = Renderer::new(Some(dir.path()), "en").unwrap();
    assert_eq!(
        r.text(&Reply::NothingLive, "pt-BR").unwrap(),
        "Nada rolando."
    );
    assert_eq!(
        r.text(&Reply::NothingLive, "en").unwrap(),
        "No match is live right now."
    );
}

#[test]
fn a_broken_reply_template_fails_at_startup() {
    let dir = with_locale("de");
    write(dir.path(), "de/replies/help.j2", "{% if %}");
    let err = Renderer::new(Some(dir.path()), "en").unwrap_err();
    assert!(err.to_string().contains("de/replies/help"), "{err}");

    let dir = with_locale("de");
    write(
        dir.path(),
        "de/sms/help.j2",
        "{% import \"nowhere\" as w %}{{ w.x() }}",
    );
    let err = Renderer::new(Some(dir.path()), "en").unwrap_err();
    assert!(err.to_string().contains("de/sms/help"), "{err}");
}
