//! The command line: `replay` prints a match as it unfolds, `migrate` and `check-config` work
//! on the default configuration.

use std::process::Command;

use crate::expected::fixture_dirs;

fn herald() -> Command {
    Command::new(env!("CARGO_BIN_EXE_herald"))
}

#[test]
fn replay_prints_every_notification_of_a_fixture() {
    for fixture in fixture_dirs() {
        let output = herald()
            .args(["replay", "--speed", "1000000", "--max-gap", "0s"])
            .arg(&fixture)
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let stdout = String::from_utf8(output.stdout).unwrap();
        let expected: serde_json::Value =
            serde_json::from_slice(&std::fs::read(fixture.join("expected.json")).unwrap()).unwrap();
        let lines: Vec<&str> = stdout.lines().collect();
        assert_eq!(
            lines.len(),
            expected["notifications"].as_array().unwrap().len(),
            "{}:\n{stdout}",
            fixture.display()
        );
        assert!(lines[0].contains("Kick-off"), "{stdout}");
        assert!(lines.last().unwrap().contains("Full time"), "{stdout}");
    }
}

#[test]
fn replay_speaks_portuguese_when_asked() {
    let fixture = fixture_dirs()
        .into_iter()
        .find(|d| d.to_string_lossy().contains("livescore"))
        .unwrap();
    let output = herald()
        .args([
            "replay",
            "--speed",
            "1000000",
            "--max-gap",
            "0s",
            "--locale",
            "pt-BR",
        ])
        .arg(&fixture)
        .output()
        .unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(stdout.contains("⚽ GOL! Brazil 0-1 Germany"), "{stdout}");
    assert!(
        stdout.contains("🏁 Fim de jogo: Brazil 1-7 Germany"),
        "{stdout}"
    );
}

#[test]
fn replay_of_a_missing_directory_fails_clearly() {
    let output = herald()
        .args(["replay", "/nonexistent/fixture"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("/nonexistent/fixture"), "{stderr}");
}

#[test]
fn migrate_and_check_config_work_on_defaults() {
    let dir = tempfile::tempdir().unwrap();
    let output = herald()
        .arg("migrate")
        .current_dir(dir.path())
        .env_remove("HERALD_CONFIG")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let first = String::from_utf8_lossy(&output.stdout).to_string();
    assert!(
        first.ends_with(" migration(s) applied\n") && !first.starts_with("0 "),
        "{first}"
    );
    assert!(
        dir.path().join("herald.db").exists(),
        "the SQLite file is created on first run"
    );
    let again = herald()
        .arg("migrate")
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&again.stdout),
        "0 migration(s) applied\n"
    );
    let check = herald()
        .arg("check-config")
        .current_dir(dir.path())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&check.stdout);
    assert!(
        text.contains("source:  demo (replay) bundled at 60x"),
        "{text}"
    );
    // Each plug-in describes its sink after the id, type and locale.
    assert!(
        text.contains(
            "sink:    sse (sse, en) GET /stream, 1024 kept for resume, at most 20000 clients"
        ),
        "{text}"
    );
    assert!(
        text.contains("sink:    console (console, en) text lines"),
        "{text}"
    );
    assert!(
        text.contains(
            "sink:    socketio (socketio, en) /socket.io/ rooms, at most 10000 clients, 5 texts per 10 s"
        ),
        "{text}"
    );
}

#[test]
fn operators_add_list_export_and_remove_sms_subscribers() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("herald.toml");
    std::fs::write(
        &config,
        format!(
            "[store]\nurl = \"sqlite://{}\"\n\n[sinks.sms]\ntype = \"twilio\"\n\
             account_sid = \"AC0123456789abcdef0123456789abcdef\"\nauth_token = \"${{TWILIO_AUTH_TOKEN}}\"\n\
             from = \"+14155550100\"\n",
            dir.path().join("h.db").display()
        ),
    )
    .unwrap();
    let run = |args: &[&str]| {
        let output = herald()
            .arg("--config")
            .arg(&config)
            .env("TWILIO_AUTH_TOKEN", "secret-token")
            .arg("subscribers")
            .args(args)
            .output()
            .unwrap();
        (
            output.status.success(),
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    };
    let (ok, out, err) = run(&[
        "add",
        "+1 (415) 555-2671",
        "--kind",
        "goals",
        "--locale",
        "pt-BR",
    ]);
    assert!(ok, "{err}");
    assert_eq!(out, "+14155552671 subscribed on sms\n");
    let (ok, out, _) = run(&["add", "+5511987654321", "--follow", "Brasil"]);
    assert!(ok);
    assert_eq!(out, "+5511987654321 subscribed on sms\n");
    let (ok, out, _) = run(&["list"]);
    assert!(ok);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert!(
        lines[0].starts_with("sms        +14155552671     all"),
        "{out}"
    );
    assert!(
        lines[0].contains("goals") && lines[0].contains("pt-BR") && lines[0].contains("active"),
        "{out}"
    );
    assert!(lines[1].contains("team        Brazil"), "{out}");
    let (ok, csv, _) = run(&["export"]);
    assert!(ok);
    let rows: Vec<&str> = csv.lines().collect();
    assert_eq!(
        rows[0],
        "sink,recipient,scope,value,kinds,locale,status,created_at"
    );
    assert!(
        rows[1].starts_with("sms,+14155552671,all,,goals,pt-BR,active,"),
        "{csv}"
    );
    assert!(
        rows[2].starts_with("sms,+5511987654321,team,Brazil,,,active,"),
        "{csv}"
    );

    let (ok, _, err) = run(&["add", "call me"]);
    assert!(!ok);
    assert!(err.contains("is not a phone number"), "{err}");
    let (ok, _, err) = run(&["add", "+14155552672", "--kind", "corners"]);
    assert!(!ok);
    assert!(err.contains("unknown kind `corners`"), "{err}");
    let (ok, _, err) = run(&["--sink", "nope", "list"]);
    assert!(ok, "list of an unknown sink is just empty: {err}");

    let (ok, out, err) = run(&["remove", "+14155552671"]);
    assert!(ok, "{err}");
    assert_eq!(out, "+14155552671: 1 subscription(s) removed from sms\n");
    let (ok, _, err) = run(&["remove", "+14155552671"]);
    assert!(!ok);
    assert!(err.contains("has no subscriptions"), "{err}");
    assert_eq!(run(&["list"]).1.lines().count(), 1);
    assert!(!run(&["list"]).2.contains("secret-token"));
}
