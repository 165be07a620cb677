//! The subscriptions service behind every chat platform's commands, on SQLite and PostgreSQL.

use std::sync::Arc;

use herald::detect::detect;
use herald::model::{EventKind, MatchState, Phase, Score, Team};
use herald::render::Renderer;
use herald::routing::Scope;
use herald::store::Store;
use herald::subscriptions::Service;
use sink_api::{Command, Recipient};

use crate::db::TestDb;

fn state(id: &str, home: &str, away: &str, phase: Phase) -> MatchState {
    MatchState {
        id: id.into(),
        competition: Some("FIFA World Cup™".into()),
        home: Team {
            id: "1".into(),
            name: home.into(),
        },
        away: Team {
            id: "2".into(),
            name: away.into(),
        },
        kickoff: None,
        phase,
        clock: None,
        score: Score::new(2, 1),
        pens: None,
        extra_time: false,
        winner: None,
        incidents: vec![],
        venue: None,
        lineups: Default::default(),
    }
}

async fn seeded(db: &TestDb) -> Store {
    let store = db.store().await;
    let states = vec![
        detect(
            None,
            state("fifa:300331552", "France", "Croatia", Phase::SecondHalf),
        )
        .0,
        detect(
            None,
            state("fifa:300331536", "Belgium", "England", Phase::Finished),
        )
        .0,
    ];
    store
        .commit_poll("fifa", None, &states, &[], true, &[])
        .await
        .unwrap();
    store
}

struct Chat {
    service: Service,
    id: &'static str,
    language: Option<&'static str>,
}

impl Chat {
    async fn say(&self, text: &str) -> String {
        self.service
            .run(Command {
                chat: Recipient::new(self.id),
                user: Some("user-1".into()),
                text: text.into(),
                language: self.language.map(str::to_owned),
            })
            .await
    }
}

fn chat(store: &Store, language: Option<&'static str>) -> Chat {
    chat_with(store, language, Renderer::new(None, "en").unwrap())
}

fn chat_with(store: &Store, language: Option<&'static str>, renderer: Renderer) -> Chat {
    Chat {
        service: Service::new(store.clone(), "telegram", Arc::new(renderer)),
        id: "chat-42",
        language,
    }
}

#[tokio::test]
async fn subscribing_to_a_team_competition_or_match_is_stored() {
    for db in TestDb::all().await {
        let store = seeded(&db).await;
        let chat = chat(&store, None);
        assert_eq!(
            chat.say("/subscribe france goals cards").await,
            "✅ You now follow France (goals, cards). Notifications will arrive here."
        );
        assert_eq!(
            chat.say("subscribe World Cup").await,
            "✅ You now follow FIFA World Cup™. Notifications will arrive here."
        );
        assert_eq!(
            chat.say("subscribe 300331552").await,
            "✅ You now follow match fifa:300331552. Notifications will arrive here."
        );
        assert_eq!(
            chat.say("subscribe Brasil").await,
            "✅ You now follow Brazil. Notifications will arrive here."
        );
        let subs = store.subscriptions_of("telegram", "chat-42").await.unwrap();
        let scopes: Vec<&Scope> = subs.iter().map(|s| &s.scope).collect();
        assert_eq!(
            scopes,
            [
                &Scope::Team("France".into()),
                &Scope::Competition("FIFA World Cup™".into()),
                &Scope::Match("fifa:300331552".into()),
                &Scope::Team("Brazil".into())
            ],
            "{}",
            db.backend
        );
        assert_eq!(subs[0].kinds, ["goals", "cards"]);
        assert_eq!(subs[0].locale.as_deref(), Some("en"));
        let listed = chat.say("/list").await;
        assert_eq!(
            listed,
            "You follow:\n• France (goals, cards)\n• FIFA World Cup™\n• match fifa:300331552\n• Brazil"
        );
        db.cleanup().await;
    }
}

#[tokio::test]
async fn unknown_names_get_suggestions_and_write_nothing() {
    for db in TestDb::all().await {
        let store = seeded(&db).await;
        let chat = chat(&store, None);
        assert_eq!(
            chat.say("subscribe Frnace").await,
            "I don't know \"Frnace\". Did you mean: France?"
        );
        assert!(
            chat.say("subscribe Atlantis United")
                .await
                .starts_with("I don't know \"Atlantis United\".")
        );
        assert_eq!(
            chat.say("subscribe +1 555 123 4567").await,
            "SMS is not configured on this herald."
        );
        assert_eq!(
            chat.say("/dance").await,
            "I don't know the command \"/dance\". Try: help"
        );
        assert!(
            store
                .subscriptions_of("telegram", "chat-42")
                .await
                .unwrap()
                .is_empty(),
            "{}",
            db.backend
        );
        db.cleanup().await;
    }
}

#[tokio::test]
async fn unsubscribing_removes_one_or_everything() {
    for db in TestDb::all().await {
        let store = seeded(&db).await;
        let chat = chat(&store, None);
        chat.say("subscribe France").await;
        chat.say("subscribe Croatia").await;
        chat.say("subscribe").await;
        assert_eq!(
            chat.say("unsubscribe france").await,
            "You no longer follow France."
        );
        assert_eq!(
            chat.say("unsubscribe Brazil").await,
            "You don't follow Brazil."
        );
        assert_eq!(
            chat.say("/unsubscribe").await,
            "Done: 2 subscription(s) removed."
        );
        assert_eq!(
            chat.say("/list").await,
            "You don't follow anything yet. Try: subscribe France"
        );
        db.cleanup().await;
    }
}

#[tokio::test]
async fn the_chat_language_applies_to_replies_and_notifications() {
    for db in TestDb::all().await {
        let store = seeded(&db).await;
        let chat = chat(&store, None);
        chat.say("subscribe France").await;
        assert_eq!(
            chat.say("lang de").await,
            "I don't speak \"de\". Available: en, es, fr, pt-BR."
        );
        assert_eq!(chat.say("/lang pt-br").await, "Idioma definido: pt-BR.");
        assert_eq!(
            store.subscriptions_of("telegram", "chat-42").await.unwrap()[0]
                .locale
                .as_deref(),
            Some("pt-BR")
        );
        assert_eq!(
            chat.say("subscribe Croatia").await,
            "✅ Você agora segue Croatia. As notificações chegam aqui."
        );
        assert_eq!(
            store
                .chat_locale("telegram", "chat-42")
                .await
                .unwrap()
                .as_deref(),
            Some("pt-BR"),
            "{}",
            db.backend
        );
        assert_eq!(
            chat.say("lang").await,
            "Idioma: pt-BR. Disponíveis: en, es, fr, pt-BR."
        );
        db.cleanup().await;
    }
}

#[tokio::test]
async fn the_platform_language_is_a_hint_until_the_chat_chooses() {
    let db = TestDb::sqlite();
    let store = seeded(&db).await;
    let chat = chat(&store, Some("pt-br"));
    assert_eq!(
        chat.say("subscribe França").await,
        "✅ Você agora segue France. As notificações chegam aqui."
    );
    assert_eq!(
        store.subscriptions_of("telegram", "chat-42").await.unwrap()[0]
            .locale
            .as_deref(),
        Some("pt-BR")
    );
    chat.say("lang en").await;
    assert_eq!(
        chat.say("unsubscribe France").await,
        "You no longer follow France."
    );
}

#[tokio::test]
async fn live_lists_the_matches_being_played() {
    let db = TestDb::sqlite();
    let store = seeded(&db).await;
    let chat = chat(&store, None);
    assert_eq!(chat.say("/live").await, "France 2-1 Croatia (2H)");
    assert!(
        chat.say("help")
            .await
            .starts_with("herald sends live football notifications here.")
    );
}

#[tokio::test]
async fn spanish_and_french_chats_get_spanish_and_french_replies() {
    let db = TestDb::sqlite();
    let store = seeded(&db).await;
    let chat = chat(&store, Some("es-MX"));
    assert_eq!(
        chat.say("seguir Francia goles").await,
        "✅ Ahora sigues a France (goles). Las notificaciones llegarán aquí."
    );
    assert_eq!(
        store.subscriptions_of("telegram", "chat-42").await.unwrap()[0]
            .locale
            .as_deref(),
        Some("es")
    );
    assert_eq!(chat.say("lista").await, "Sigues:\n• France (goles)");
    assert_eq!(chat.say("/lang français").await, "Langue choisie : fr.");
    assert_eq!(
        chat.say("unsubscribe France").await,
        "Vous ne suivez plus France."
    );
    assert!(
        chat.say("aide")
            .await
            .starts_with("herald envoie ici des notifications de football en direct.")
    );
}

#[tokio::test]
async fn a_locale_added_through_templates_dir_is_spoken_and_borrows_from_english() {
    let db = TestDb::sqlite();
    let store = seeded(&db).await;
    let dir = tempfile::tempdir().unwrap();
    let de = dir.path().join("de");
    std::fs::create_dir_all(de.join("replies")).unwrap();
    for kind in EventKind::ALL {
        std::fs::write(de.join(format!("{}.j2", kind.as_str())), "{{ team }}").unwrap();
    }
    std::fs::write(
        de.join("replies/words.j2"),
        "{%- set names = [\"deutsch\"] -%}",
    )
    .unwrap();
    std::fs::write(
        de.join("replies/language_set.j2"),
        "Sprache eingestellt: {{ locale }}.",
    )
    .unwrap();
    std::fs::write(
        de.join("replies/subscribed.j2"),
        "✅ Du folgst jetzt {{ target.name }}. Die Benachrichtigungen kommen hierher.",
    )
    .unwrap();
    let chat = chat_with(&store, None, Renderer::new(Some(dir.path()), "en").unwrap());
    assert_eq!(chat.say("lang deutsch").await, "Sprache eingestellt: de.");
    assert_eq!(
        chat.say("subscribe France").await,
        "✅ Du folgst jetzt France. Die Benachrichtigungen kommen hierher."
    );
    // Replies `de` has no template for are English.
    assert_eq!(
        chat.say("unsubscribe France").await,
        "You no longer follow France."
    );
    assert_eq!(
        chat.say("lang").await,
        "Language: de. Available: de, en, es, fr, pt-BR."
    );
}
