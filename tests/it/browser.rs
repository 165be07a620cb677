//! The live page in headless Chromium: a goal pushed through the API shows within 2 s; text
//! typed in a match room reaches the other browsers in that room and no other; a page that
//! lost its connection (herald restarted while the browser was offline) resumes without gaps;
//! `?spoilers=off` hides scores until clicked.
//! Screenshots land in `target/browser/`.

use std::time::{Duration, Instant};

use fantoccini::Locator;
use serde_json::{Value, json};

use crate::browser_driver::{Browser, Driver};
use crate::db::TestDb;
use crate::harness::{Herald, push_snapshot};
use crate::process::{Process, free_port};

const PRODUCER: &str = "producer-token-0123456789";

/// A snapshot of match `id` between `home` and `away` with `goals` for the home side.
fn snapshot(id: &str, home: &str, away: &str, phase: &str, goals: usize) -> Value {
    let incidents: Vec<Value> = (0..goals)
        .map(|i| json!({"id": format!("g{i}"), "type": "goal", "side": "home", "player": format!("Striker {i}"), "minute": 10 + i}))
        .collect();
    json!({"match": {
        "id": id, "competition": "Town League",
        "home": {"name": home}, "away": {"name": away},
        "kickoff": "2026-05-01T15:00:00Z", "phase": phase,
        "minute": if phase == "PRE" { Value::Null } else { json!(30) },
        "score": {"home": goals, "away": 0}, "incidents": incidents,
    }})
}

/// herald with a push source and `sinks`, on `db`.
async fn serve(db: &TestDb, sinks: Value) -> Herald {
    let mut config = json!({
        "store": { "url": db.url },
        "http": { "tokens": [{"name": "producer", "token": PRODUCER, "scopes": ["ingest"]}] },
        "sources": { "town": { "type": "push" } },
    });
    config["sinks"] = sinks;
    Herald::start(config, vec![]).await
}

async fn push(base: &str, body: &Value) {
    push_snapshot(base, PRODUCER, body).await;
}

/// Opens the page and waits until its stream is live and it lists `matches` matches.
async fn open(browser: &Browser, base: &str, matches: usize) {
    open_at(browser, &format!("{base}/"), matches).await;
}

/// [`open`] at `url` (the page with a query).
async fn open_at(browser: &Browser, url: &str, matches: usize) {
    browser.client.goto(url).await.unwrap();
    browser
        .wait_for(
            "the live page",
            &format!(
                "return document.getElementById('status').className === 'live' \
                 && document.querySelectorAll('.match').length === {matches}"
            ),
            Duration::from_secs(10),
        )
        .await;
}

/// Types a name, then joins the room of the match between `home` and `away` from its card.
async fn join_room(browser: &Browser, name: &str, home: &str, away: &str) {
    let field = browser
        .client
        .find(Locator::Css("#room-name"))
        .await
        .unwrap();
    field.send_keys(name).await.unwrap();
    browser
        .wait_for(
            "the room buttons",
            "return document.querySelectorAll('.match .join').length > 0",
            Duration::from_secs(10),
        )
        .await;
    browser
        .click(&format!("button[aria-label='Room of {home} v {away}']"))
        .await;
}

/// The script testing that the room `room`'s log shows `line` as text.
fn room_shows(room: &str, line: &str) -> String {
    format!(
        "const log = document.querySelector(\".room[data-room='{room}'] ol\"); \
         return !!log && log.textContent.includes({line:?});"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_goal_shows_within_two_seconds_and_room_talk_reaches_only_that_room() {
    let db = TestDb::sqlite();
    let herald = serve(&db, json!({ "sse": {}, "rooms": { "type": "socketio" } })).await;
    let base = herald.url("");
    push(&base, &snapshot("m1", "Northfield", "Southbury", "PRE", 0)).await;
    push(&base, &snapshot("m2", "Eastwick", "Westby", "PRE", 0)).await;
    let driver = Driver::start().await;
    let dir = tempfile::tempdir().unwrap();
    let ana = driver.browser(dir.path(), "ana").await;
    let bo = driver.browser(dir.path(), "bo").await;
    let cy = driver.browser(dir.path(), "cy").await;
    for browser in [&ana, &bo, &cy] {
        open(browser, &base, 2).await;
    }

    // A goal pushed through the API is on the page within 2 s.
    push(&base, &snapshot("m1", "Northfield", "Southbury", "1H", 1)).await;
    let pushed = Instant::now();
    ana.wait_for(
        "the goal",
        "return [...document.querySelectorAll('#feed li.goals')].length === 1 \
         && document.querySelector('.match.live .score').textContent.includes('1')",
        Duration::from_secs(2),
    )
    .await;
    let shown = pushed.elapsed();
    assert!(shown < Duration::from_secs(2), "{shown:?}");
    ana.screenshot("goal").await;

    // Two browsers in the first match's room, one in the second's.
    join_room(&ana, "Ana", "Northfield", "Southbury").await;
    ana.wait_for(
        "Ana in the room",
        &room_shows("match:town:m1", "Ana has entered the room."),
        Duration::from_secs(10),
    )
    .await;
    join_room(&bo, "Bo", "Northfield", "Southbury").await;
    join_room(&cy, "Cy", "Eastwick", "Westby").await;
    ana.wait_for(
        "Bo in the room",
        &room_shows("match:town:m1", "Bo has entered the room."),
        Duration::from_secs(10),
    )
    .await;
    cy.wait_for(
        "Cy in the room",
        &room_shows("match:town:m2", "Cy has entered the room."),
        Duration::from_secs(10),
    )
    .await;
    ana.type_enter(
        ".room[data-room='match:town:m1'] input",
        "<img src=x onerror=alert(1)> allez",
    )
    .await;
    bo.wait_for(
        "Ana's text",
        &room_shows("match:town:m1", "Ana: <img src=x onerror=alert(1)> allez"),
        Duration::from_secs(10),
    )
    .await;
    assert_eq!(
        bo.eval("return document.querySelectorAll('.room img').length")
            .await,
        json!(0),
        "text is never HTML"
    );
    // The room's goal reaches its panel; the other room hears neither.
    push(&base, &snapshot("m1", "Northfield", "Southbury", "1H", 2)).await;
    bo.wait_for(
        "the second goal in the room",
        "return document.querySelectorAll(\".room[data-room='match:town:m1'] li.notification\").length === 1",
        Duration::from_secs(10),
    )
    .await;
    cy.type_enter(".room[data-room='match:town:m2'] input", "quiet here")
        .await;
    cy.wait_for(
        "Cy's own text",
        &room_shows("match:town:m2", "Cy: quiet here"),
        Duration::from_secs(10),
    )
    .await;
    // Had it gone to the other room too, it would be there by now.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let cy_log = cy.text(".room[data-room='match:town:m2'] ol").await;
    assert!(
        !cy_log.contains("allez") && !cy_log.contains("Bo"),
        "{cy_log}"
    );
    let ana_log = ana.text(".room[data-room='match:town:m1'] ol").await;
    assert!(!ana_log.contains("quiet here"), "{ana_log}");
    for browser in [&ana, &bo, &cy] {
        browser.screenshot("rooms").await;
    }
    for browser in [ana, bo, cy] {
        browser.close().await;
    }
    driver.stop().await;
    herald.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_that_lost_its_connection_resumes_without_gaps() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let config = dir.path().join("herald.toml");
    std::fs::write(
        &config,
        format!(
            "[http]\nlisten = \"127.0.0.1:{port}\"\n\n\
             [[http.tokens]]\nname = \"producer\"\ntoken = {PRODUCER:?}\nscopes = [\"ingest\"]\n\n\
             [store]\nurl = \"sqlite://{}\"\n\n[sources.town]\ntype = \"push\"\n\n\
             [sinks.sse]\ntype = \"sse\"\nretry = \"1s\"\n",
            dir.path().join("herald.db").display()
        ),
    )
    .unwrap();
    let log = dir.path().join("herald.log");
    let herald = Process::start(&config, port, &log, None).await;
    let base = herald.url("");
    push(&base, &snapshot("m1", "Northfield", "Southbury", "1H", 1)).await;
    let driver = Driver::start().await;
    let page = driver.browser(dir.path(), "resume").await;
    open(&page, &base, 1).await;
    let goals = "return document.querySelectorAll('#feed li.goals').length";
    page.wait_for(
        "the first goal",
        &format!("{goals} === 1"),
        Duration::from_secs(10),
    )
    .await;

    // The browser goes offline and herald restarts; two goals happen meanwhile.
    page.offline(true).await.unwrap();
    herald.terminate().await;
    let herald = Process::start(&config, port, &log, None).await;
    push(&base, &snapshot("m1", "Northfield", "Southbury", "1H", 3)).await;
    page.wait_for(
        "the page to notice",
        "return document.getElementById('status').className !== 'live'",
        Duration::from_secs(10),
    )
    .await;
    page.screenshot("offline").await;
    page.offline(false).await.unwrap();
    page.wait_for(
        "all three goals",
        &format!("{goals} === 3"),
        Duration::from_secs(15),
    )
    .await;
    // Each notification once: the kick-off and three goals, no repeats, nothing missing.
    let titles = page
        .eval("return [...document.querySelectorAll('#feed li .title')].map(e => e.textContent)")
        .await;
    let titles: Vec<String> = serde_json::from_value(titles).unwrap();
    assert_eq!(titles.len(), 4, "{titles:?}");
    let unique: std::collections::HashSet<&String> = titles.iter().collect();
    assert_eq!(
        unique.len(),
        titles.len(),
        "a notification shown twice: {titles:?}"
    );
    page.screenshot("resumed").await;
    page.close().await;
    driver.stop().await;
    herald.terminate().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spoilers_off_hides_scores_until_clicked() {
    let db = TestDb::sqlite();
    let herald = serve(&db, json!({ "sse": {} })).await;
    let base = herald.url("");
    push(&base, &snapshot("m1", "Northfield", "Southbury", "1H", 0)).await;
    let driver = Driver::start().await;
    let dir = tempfile::tempdir().unwrap();
    let browser = driver.browser(dir.path(), "spoilers").await;
    open_at(&browser, &format!("{base}/?spoilers=off"), 1).await;
    push(&base, &snapshot("m1", "Northfield", "Southbury", "1H", 1)).await;
    browser
        .wait_for(
            "the hidden goal",
            "return document.querySelectorAll('#feed li.goals').length === 1",
            Duration::from_secs(10),
        )
        .await;
    let page = browser.text("main").await;
    assert!(
        page.contains("Goal in Northfield v Southbury (10')"),
        "{page}"
    );
    assert!(
        !page.contains("1-0") && !page.contains("1 – 0") && !page.contains("Striker"),
        "{page}"
    );
    assert_eq!(browser.text(".match .score").await, "? – ?");
    // The kick-off gives nothing away: nothing to click.
    assert_eq!(
        browser
            .eval("return document.querySelectorAll('#feed li.periods .reveal').length")
            .await,
        json!(0)
    );
    assert_eq!(
        browser
            .eval("return document.getElementById('hide-scores').checked")
            .await,
        json!(true)
    );
    browser.screenshot("spoilers-hidden").await;

    // A click shows the goal; another the match's score.
    browser.click("#feed li .reveal").await;
    let goal = browser.text("#feed li.goals .title").await;
    assert!(goal.contains("Northfield 1-0 Southbury"), "{goal}");
    assert!(browser.text("#feed li.goals").await.contains("Striker 0"));
    assert_eq!(
        browser.text(".match .score").await,
        "? – ?",
        "the card stays hidden"
    );
    browser
        .click("button[aria-label='Show the score of Northfield v Southbury']")
        .await;
    assert_eq!(browser.text(".match .score").await, "1 – 0");
    browser.screenshot("spoilers-revealed").await;

    // Unticking the box shows everything; the choice is remembered without the query.
    browser.click("#hide-scores").await;
    open(&browser, &base, 1).await;
    browser
        .wait_for(
            "the goal from the history",
            "return document.querySelectorAll('#feed li.goals').length === 1",
            Duration::from_secs(10),
        )
        .await;
    assert!(browser.text("#feed li.goals .title").await.contains("1-0"));
    assert_eq!(
        browser
            .eval("return document.querySelectorAll('.reveal').length")
            .await,
        json!(0)
    );
    browser.close().await;
    driver.stop().await;
    herald.shutdown().await;
}
