//! Rendering tests: exact text per kind and locale, completeness of the built-in locales,
//! fallbacks, and template overrides.

use super::*;

fn renderer() -> Renderer {
    Renderer::new(None, "en").unwrap()
}

fn goal() -> Event {
    let mut e = sample(EventKind::Goal);
    e.player = Some("Kylian Mbappé".into());
    e.minute = Some(65);
    e.score = Some(Score::new(4, 1));
    e
}

#[test]
fn a_goal_renders_in_english_and_portuguese() {
    let r = renderer();
    let en = r.render(&goal(), "en").unwrap();
    assert_eq!(en.title, "⚽ GOAL! France 4-1 Croatia");
    assert_eq!(en.body, "Kylian Mbappé (France) 65'");
    let pt = r.render(&goal(), "pt-BR").unwrap();
    assert_eq!(pt.title, "⚽ GOL! France 4-1 Croatia");
    assert_eq!(pt.body, "Kylian Mbappé (France) 65'");
}

#[test]
fn a_goal_without_scorer_names_the_team() {
    let mut e = goal();
    e.player = None;
    assert_eq!(
        renderer().render(&e, "en").unwrap().body,
        "France score 65'"
    );
}

#[test]
fn an_own_goal_names_the_players_own_team() {
    let mut e = sample(EventKind::OwnGoal);
    e.player = Some("MANDZUKIC".into());
    e.minute = Some(18);
    e.score = Some(Score::new(1, 0));
    let r = renderer().render(&e, "en").unwrap();
    assert_eq!(r.title, "⚽ OWN GOAL! France 1-0 Croatia");
    assert_eq!(r.body, "MANDZUKIC (Croatia) puts it into his own net 18'");
}

#[test]
fn added_time_is_shown_as_plus() {
    let mut e = sample(EventKind::YellowCard);
    e.minute = Some(90);
    e.extra = Some(2);
    assert!(
        renderer()
            .render(&e, "en")
            .unwrap()
            .title
            .ends_with("90+2'")
    );
}

#[test]
fn shootout_kicks_and_results_show_the_penalty_score() {
    let mut kick = sample(EventKind::PenaltyMissed);
    kick.phase = Some(Phase::Penalties);
    kick.pens = Some(Score::new(2, 1));
    kick.player = Some("COMAN".into());
    let r = renderer().render(&kick, "en").unwrap();
    assert_eq!(
        r.title,
        "❌ Shoot-out: COMAN (France) is saved — 2-1 on penalties"
    );
    let result = renderer()
        .render(&sample(EventKind::PenaltyShootoutResult), "pt-BR")
        .unwrap();
    assert_eq!(result.title, "🏆 France vence nos pênaltis por 4-2!");
}

#[test]
fn a_card_during_the_shootout_says_so_instead_of_a_minute() {
    let r = renderer();
    let expected = [
        (
            "en",
            "🟥 Red card: GRIEZMANN (France) is sent off during the shoot-out",
        ),
        (
            "pt-BR",
            "🟥 Cartão vermelho: GRIEZMANN (France) é expulso durante a disputa de pênaltis",
        ),
        (
            "es",
            "🟥 Tarjeta roja: GRIEZMANN (France) es expulsado durante la tanda de penaltis",
        ),
        (
            "fr",
            "🟥 Carton rouge : GRIEZMANN (France) est expulsé pendant la séance de tirs au but",
        ),
    ];
    let mut card = sample(EventKind::RedCard);
    card.phase = Some(Phase::Penalties);
    card.minute = Some(120);
    for (locale, title) in expected {
        assert_eq!(r.render(&card, locale).unwrap().title, title, "{locale}");
    }
    for kind in [EventKind::YellowCard, EventKind::SecondYellow] {
        let mut card = sample(kind);
        card.phase = Some(Phase::Penalties);
        card.minute = Some(120);
        for locale in LOCALES {
            let title = r.render(&card, locale).unwrap().title;
            assert!(!title.contains("120'"), "{locale}/{kind}: {title}");
        }
    }
}

#[test]
fn full_time_names_the_winner_or_a_draw() {
    let mut e = sample(EventKind::FullTime);
    e.pens = None;
    let r = renderer().render(&e, "en").unwrap();
    assert_eq!(r.title, "🏁 Full time: France 2-1 Croatia");
    assert_eq!(r.body, "France win.");
    e.winner = None;
    assert_eq!(
        renderer().render(&e, "en").unwrap().body,
        "It ends in a draw."
    );
}

#[test]
fn announcements_use_their_own_title_and_text() {
    let r = renderer()
        .render(&sample(EventKind::Announcement), "en")
        .unwrap();
    assert_eq!(r.title, "📣 Team news");
    assert_eq!(r.body, "Mbappé starts.");
}

#[test]
fn every_kind_renders_a_title_in_every_locale() {
    let r = renderer();
    for locale in LOCALES {
        for kind in EventKind::ALL {
            let out = r.render(&sample(kind), locale).unwrap();
            assert!(!out.title.is_empty(), "{locale}/{kind} has no title");
        }
    }
}

#[test]
fn a_goal_renders_in_spanish_and_french() {
    let r = renderer();
    let es = r.render(&goal(), "es").unwrap();
    assert_eq!(es.title, "⚽ ¡GOL! France 4-1 Croatia");
    assert_eq!(es.body, "Kylian Mbappé (France) 65'");
    let fr = r.render(&goal(), "fr").unwrap();
    assert_eq!(fr.title, "⚽ BUT ! France 4-1 Croatia");
    let card = r.render(&sample(EventKind::YellowCard), "fr").unwrap();
    assert_eq!(card.title, "🟨 Carton jaune : GRIEZMANN (France) 38'");
    let card = r.render(&sample(EventKind::YellowCard), "es").unwrap();
    assert_eq!(card.title, "🟨 Tarjeta amarilla: GRIEZMANN (France) 38'");
}

#[test]
fn an_unknown_locale_falls_back_to_the_default() {
    let out = renderer().render(&goal(), "de").unwrap();
    assert_eq!(out.title, "⚽ GOAL! France 4-1 Croatia");
    let pt = Renderer::new(None, "pt-BR").unwrap();
    assert_eq!(
        pt.render(&goal(), "de").unwrap().title,
        "⚽ GOL! France 4-1 Croatia"
    );
}

#[test]
fn a_language_or_region_finds_its_locale() {
    let r = renderer();
    assert_eq!(
        r.render(&goal(), "pt").unwrap().title,
        "⚽ GOL! France 4-1 Croatia"
    );
    assert_eq!(
        r.render(&goal(), "es-MX").unwrap().title,
        "⚽ ¡GOL! France 4-1 Croatia"
    );
    assert_eq!(r.resolve_locale("pt_pt"), Some("pt-BR"));
    assert_eq!(r.resolve_locale("FR-ca"), Some("fr"));
    assert_eq!(r.resolve_locale("Português"), Some("pt-BR"));
    assert_eq!(r.resolve_locale("english"), Some("en"));
    assert_eq!(r.resolve_locale("Español"), Some("es"));
    assert_eq!(r.resolve_locale("francais"), Some("fr"));
    assert_eq!(r.resolve_locale("klingon"), None);
    assert_eq!(r.locale_or_default("klingon"), "en");
}

#[test]
fn the_default_locale_is_resolved_or_refused() {
    assert_eq!(Renderer::new(None, "pt").unwrap().default_locale(), "pt-BR");
    assert!(matches!(
        Renderer::new(None, "tlh"),
        Err(RenderError::UnknownDefault(_))
    ));
}

/// Every template a complete locale has: one per kind, one per reply and SMS text, and the
/// words both import.
fn expected_templates() -> BTreeSet<String> {
    let mut paths: BTreeSet<String> = EventKind::ALL
        .iter()
        .map(|k| k.as_str().to_owned())
        .collect();
    for reply in Reply::samples() {
        paths.insert(texts::path_of::<Reply>(&Value::from(Serde(&reply))));
    }
    for text in SmsText::samples() {
        paths.insert(texts::path_of::<SmsText>(&Value::from(Serde(&text))));
    }
    paths.insert("replies/words".into());
    paths.insert("sms/words".into());
    for merged in ["spoiler_free", "digest", "ticker"] {
        paths.insert(merged.into());
    }
    paths
}

#[test]
fn every_built_in_locale_has_every_template_and_no_other() {
    let mut sources = BTreeMap::new();
    built_in(&BUILT_IN, &mut sources);
    let expected = expected_templates();
    assert_eq!(expected.len(), 22 + 26 + 10 + 2 + 3, "{expected:?}");
    let found: BTreeSet<&str> = sources
        .keys()
        .filter_map(|name| name.split_once('/').map(|(locale, _)| locale))
        .collect();
    assert_eq!(
        found,
        BTreeSet::from(LOCALES),
        "built-in locale directories"
    );
    for locale in LOCALES {
        let own: BTreeSet<String> = sources
            .keys()
            .filter_map(|name| name.strip_prefix(&format!("{locale}/")))
            .map(str::to_owned)
            .collect();
        let missing: Vec<_> = expected.difference(&own).collect();
        let extra: Vec<_> = own.difference(&expected).collect();
        assert!(missing.is_empty(), "{locale} lacks {missing:?}");
        assert!(extra.is_empty(), "{locale} has unexpected {extra:?}");
    }
}

#[test]
fn every_built_in_locale_names_itself_for_lang() {
    let r = renderer();
    for locale in LOCALES {
        assert!(
            r.names.values().any(|l| l == locale),
            "{locale}/replies/words.j2 sets no names"
        );
    }
}

#[test]
fn an_override_directory_replaces_templates_and_adds_locales() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("en")).unwrap();
    std::fs::write(
        dir.path().join("en/goal.j2"),
        "GOAL {{ team }}\n{{ clock }}",
    )
    .unwrap();
    std::fs::create_dir(dir.path().join("de")).unwrap();
    for kind in EventKind::ALL {
        std::fs::write(
            dir.path().join(format!("de/{}.j2", kind.as_str())),
            "TOR {{ team }}",
        )
        .unwrap();
    }
    let r = Renderer::new(Some(dir.path()), "en").unwrap();
    assert_eq!(
        r.render(&goal(), "en").unwrap(),
        Rendered {
            title: "GOAL France".into(),
            body: "65'".into()
        }
    );
    assert_eq!(r.render(&goal(), "de").unwrap().title, "TOR France");
    assert_eq!(r.render(&goal(), "de-AT").unwrap().title, "TOR France");
    assert!(r.has_locale("de"));
    assert_eq!(
        r.locales().collect::<Vec<_>>(),
        ["de", "en", "es", "fr", "pt-BR"]
    );
}

#[test]
fn a_broken_or_incomplete_override_fails_at_startup() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("en")).unwrap();
    std::fs::write(dir.path().join("en/goal.j2"), "{% if %}").unwrap();
    let err = Renderer::new(Some(dir.path()), "en").unwrap_err();
    assert!(err.to_string().contains("en/goal"), "{err}");

    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("de")).unwrap();
    std::fs::write(dir.path().join("de/goal.j2"), "TOR").unwrap();
    let err = Renderer::new(Some(dir.path()), "en").unwrap_err();
    assert!(matches!(err, RenderError::Missing { .. }), "{err}");
}

/// A goal of `side` at `minute` leaving the score at `home`-`away`.
fn scored(id: &str, kind: EventKind, player: &str, minute: u16, home: u16, away: u16) -> Event {
    let mut e = sample(kind);
    e.id = id.into();
    e.player = Some(player.into());
    e.minute = Some(minute);
    e.score = Some(Score::new(home, away));
    e
}

#[test]
fn spoiler_free_texts_say_what_happened_without_the_score() {
    let r = renderer();
    let g = scored("g1", EventKind::Goal, "Perišić", 28, 1, 1);
    let shown = r.render_for(&g, "en", true).unwrap();
    assert!(shown.title.contains("1-1"), "{shown:?}");
    let hidden = r.render_for(&g, "en", false).unwrap();
    assert_eq!(hidden.title, "⚽ Goal in France v Croatia (28')");
    assert!(!format!("{hidden:?}").contains("Perišić"), "{hidden:?}");
    let ft = r
        .render_for(&sample(EventKind::FullTime), "fr", false)
        .unwrap();
    assert_eq!(ft.title, "🏁 Fin du match France - Croatia");
    assert!(ft.body.contains("result France"), "{ft:?}");
    // Kinds that do not reveal it keep their text, without the score line.
    let card = r
        .render_for(&sample(EventKind::YellowCard), "en", false)
        .unwrap();
    assert!(
        card.title.starts_with("🟨 Yellow card: GRIEZMANN"),
        "{card:?}"
    );
    assert!(!card.body.contains("2-1"), "{card:?}");
    assert_eq!(card.body, "France v Croatia");
}

#[test]
fn a_backlog_merges_into_one_line_per_match() {
    let r = renderer();
    let events = vec![
        scored("g1", EventKind::Goal, "Perišić", 28, 0, 1),
        scored("g2", EventKind::PenaltyGoal, "Griezmann", 38, 1, 1),
        scored("g3", EventKind::Goal, "Mbappé", 65, 2, 1),
    ];
    let merged = r.digest(&events, "en", false, true).unwrap();
    assert_eq!(
        merged.title,
        "France 2-1 Croatia — 3 goals: Perišić 28', Griezmann (pen) 38', Mbappé 65'"
    );
    let slept = r.digest(&events, "en", true, true).unwrap();
    assert!(
        slept
            .title
            .starts_with("🌙 While you slept: France 2-1 Croatia"),
        "{slept:?}"
    );
    let hidden = r.digest(&events, "pt-BR", true, false).unwrap();
    assert_eq!(
        hidden.title,
        "🌙 Enquanto você dormia: France v Croatia: 3 novidades"
    );
}

#[test]
fn a_ticker_shows_the_score_and_the_latest_events() {
    let r = renderer();
    let g = scored("g1", EventKind::Goal, "Mbappé", 65, 2, 1);
    let lines = vec![
        "⚽ GOAL! France 1-1 Croatia".to_owned(),
        "⚽ GOAL! France 2-1 Croatia".to_owned(),
    ];
    let live = r
        .ticker(&TickerView::after(&g, true, lines.clone()), "en")
        .unwrap();
    assert_eq!(live.title, "🔴 LIVE France 2-1 Croatia 65'");
    assert_eq!(live.body, lines.join("\n"));
    let ft = r
        .ticker(
            &TickerView::after(&sample(EventKind::FullTime), true, lines),
            "es",
        )
        .unwrap();
    assert_eq!(ft.title, "🏁 France 2-1 Croatia (final)");
}
