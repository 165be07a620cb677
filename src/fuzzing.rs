//! Entry points for the fuzz targets (`fuzz/`) and their corpus regression test: each takes
//! raw bytes and hands them to the real parsers, so what is fuzzed is the code that runs.
//!
//! Not an API: hidden from the docs, and free to change with the fuzz targets.
//!
//! | target | input | what runs |
//! |---|---|---|
//! | `fifa`, `livescore`, `football_data`, `api_football` | a fixture step file (`steps/NNN.json`) | the provider's `poll`, twice, against the step's responses as a replay serves them; detection on each state read |
//! | `push_schema` | a pushed snapshot (`POST /api/v1/ingest` body) | [`crate::ingest::schema::parse`], then detection |
//! | `bot_command` | a chat message | [`crate::subscriptions::parse`], then its target and kind words as the service reads them |
//! | `phone` | `country\nnumber`, or a number | `sink_twilio::phone::normalize` and what is done with its result |
//! | `text_fit` | a flags byte, then a text | the SMS fit (GSM-7/UCS-2, `max_segments`) and X's 280 fit, checking both caps |
//! | `twilio_inbound` | `url\nsignature\nform` (or signed by the target) | Twilio's webhook check and form, then the SMS keyword, phone and TwiML reply code |
//! | `slack_inbound` | a flags byte, then a request body (and headers) | the Slack sink's routes: signature check, Events API and slash command parsing |
//! | `discord_inbound`, `last_event_id` | see `sink_discord::fuzzing`, `sink_sse::fuzzing` | their inbound routes |

use std::collections::HashMap;
use std::future::Future;

use crate::detect::{Tracked, detect};
use crate::sources::Source;
use crate::sources::api_football::ApiFootball;
use crate::sources::fifa::{self, Fifa};
use crate::sources::football_data::FootballData;
use crate::sources::livescore::LiveScore;
use crate::sources::replay::Recorded;

/// A fuzz entry point: any bytes, never a panic.
pub type Entry = fn(&[u8]);

/// Every fuzz target by name (the name of its `fuzz/fuzz_targets/<name>.rs` and of its
/// `fuzz/corpus/<name>/`), with its entry point.
pub const TARGETS: &[(&str, Entry)] = &[
    ("fifa", fifa),
    ("livescore", livescore),
    ("football_data", football_data),
    ("api_football", api_football),
    ("push_schema", push_schema),
    ("bot_command", bot_command),
    #[cfg(feature = "twilio")]
    ("phone", phone),
    #[cfg(all(feature = "twilio", feature = "x"))]
    ("text_fit", text_fit),
    #[cfg(feature = "twilio")]
    ("twilio_inbound", twilio_inbound),
    #[cfg(feature = "slack")]
    ("slack_inbound", slack_inbound),
    #[cfg(feature = "discord")]
    ("discord_inbound", sink_discord::fuzzing::interaction),
    #[cfg(feature = "sse")]
    ("last_event_id", sink_sse::fuzzing::last_event_id),
];

/// The entry point of the target `name`, if there is one.
pub fn entry(name: &str) -> Option<Entry> {
    TARGETS
        .iter()
        .find(|(target, _)| *target == name)
        .map(|(_, entry)| *entry)
}

/// Runs a future that needs no runtime (the providers' polls against a recording).
fn run<F: Future>(future: F) -> F::Output {
    futures::executor::block_on(future)
}

/// Polls `source` twice, as the poller would: the second poll goes through what the first one
/// remembered (followed matches, cached details and events). Each match state read goes
/// through detection against the one before it, as the poller does with what it stored.
fn poll_twice(source: &mut impl Source) {
    let mut tracked: HashMap<String, Tracked> = HashMap::new();
    for _ in 0..2 {
        // Errors are the expected answer to most inputs; only a panic is a finding.
        let Ok(poll) = run(source.poll()) else {
            continue;
        };
        for state in poll.snapshot.matches {
            let id = state.id.clone();
            let (next, _events) = detect(tracked.get(&id), state);
            tracked.insert(id, next);
        }
    }
}

/// The FIFA source on a step file of `fixtures/fifa/` (the 2018 final's competition and season).
pub fn fifa(data: &[u8]) {
    let Ok(transport) = Recorded::from_step(data) else {
        return;
    };
    let config = fifa::Config {
        endpoint: String::new(),
        competition: "17".to_owned(),
        season: "254645".to_owned(),
        language: "en-GB".to_owned(),
    };
    poll_twice(&mut Fifa::new(config, transport));
}

/// The LiveScore source on a step file of `fixtures/livescore/`.
pub fn livescore(data: &[u8]) {
    let Ok(transport) = Recorded::from_step(data) else {
        return;
    };
    poll_twice(&mut LiveScore::new(None, transport));
}

/// The football-data.org source on a step file of `fixtures/football-data/`.
pub fn football_data(data: &[u8]) {
    let Ok(transport) = Recorded::from_step(data) else {
        return;
    };
    poll_twice(&mut FootballData::new(Vec::new(), transport));
}

/// The API-Football source on a step file of `fixtures/api-football/`: as the replay
/// configures it (the fixture followed by id), and with a league and its schedule.
pub fn api_football(data: &[u8]) {
    let Ok(transport) = Recorded::from_step(data) else {
        return;
    };
    poll_twice(&mut ApiFootball::new(
        Vec::new(),
        vec![900_002],
        transport.clone(),
    ));
    poll_twice(&mut ApiFootball::new(vec![1], Vec::new(), transport).with_schedule(Some(2014)));
}

/// A pushed snapshot, checked and turned into a match state, then detected on as a first
/// snapshot and again as a repeated one.
pub fn push_schema(data: &[u8]) {
    let Ok((_push, state)) = crate::ingest::schema::parse(data) else {
        return;
    };
    let (tracked, _events) = detect(None, state.clone());
    let _ = detect(Some(&tracked), state);
}

/// A chat message read as a bot command, and its target and kind words read as the
/// subscriptions service reads them.
pub fn bot_command(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let Ok(command) = crate::subscriptions::parse(&text) else {
        return;
    };
    let target = match command {
        crate::subscriptions::Command::Subscribe { target, kinds } => {
            for kind in &kinds {
                // What the parser kept as a kind word reads as one again.
                assert!(crate::targets::kind_word(kind).is_some(), "kind {kind:?}");
            }
            target
        }
        crate::subscriptions::Command::Quiet(Some(typed)) => {
            // Whatever quiet hours it accepts read back the same from the store.
            if let Ok(quiet) = crate::preferences::Quiet::parse(&typed, "UTC") {
                let stored = serde_json::to_string(&quiet).expect("quiet hours serialize");
                let read: crate::preferences::Quiet =
                    serde_json::from_str(&stored).expect("stored quiet hours read back");
                assert_eq!(read, quiet);
                let _ = quiet.ends_after(jiff::Timestamp::now());
            }
            None
        }
        crate::subscriptions::Command::Unsubscribe { target }
        | crate::subscriptions::Command::Lang(target)
        | crate::subscriptions::Command::Result(target) => target,
        crate::subscriptions::Command::Quiet(None)
        | crate::subscriptions::Command::Spoilers(_)
        | crate::subscriptions::Command::Mode(_) => None,
        crate::subscriptions::Command::List
        | crate::subscriptions::Command::Live
        | crate::subscriptions::Command::Help => None,
    };
    if let Some(target) = target {
        let _ = crate::targets::is_phone_number(&target);
        let seen = ["France".to_owned(), "Côte d'Ivoire".to_owned()];
        let _ = crate::teams::resolve(&target, &seen);
        let _ = crate::teams::suggestions(&target, &seen, &["FIFA World Cup".to_owned()]);
    }
}

/// A typed phone number (`GB\n07400 123456`: a default country, a newline, the number), as
/// the SMS signup and an inbound text's `From` read it. A number it accepts must pass the
/// E.164 check that recipients are held to.
#[cfg(feature = "twilio")]
pub fn phone(data: &[u8]) {
    use sink_twilio::phone;
    let text = String::from_utf8_lossy(data);
    let (country, typed) = match text.split_once('\n') {
        Some((country, typed)) => (Some(country), typed),
        None => (None, text.as_ref()),
    };
    let _checked = phone::check_e164(typed);
    if let Ok(number) = phone::normalize(typed, country) {
        assert_eq!(
            phone::check_e164(&number.e164),
            Ok(()),
            "{typed:?} normalized to {number:?}"
        );
        let _ = (number.prefix(), number.masked());
    }
}

/// A text fitted for SMS and for X. The first byte picks `max_segments` (its low bits, 1 to
/// 10 as the config allows) and transliteration (its high bit); the rest is the text. Checks
/// that the SMS fit never takes more than `max_segments` and X's never weighs more than 280.
#[cfg(all(feature = "twilio", feature = "x"))]
pub fn text_fit(data: &[u8]) {
    use sink_twilio::gsm;
    use sink_x::text;
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let max_segments = u32::from(flags & 0x7f) % 10 + 1;
    let text = String::from_utf8_lossy(rest);
    // As `TwilioSink::prepare` does.
    let text = if flags & 0x80 == 0 {
        text.into_owned()
    } else {
        gsm::transliterate(&text)
    };
    let fitted = gsm::fit(text.trim(), max_segments);
    let segments = gsm::segments(&fitted);
    assert!(
        segments.count <= max_segments,
        "{segments:?} over {max_segments} for {text:?}"
    );
    let posted = text::fit(&text, text::MAX_WEIGHT);
    let weight = text::weighted_length(&posted);
    assert!(weight <= text::MAX_WEIGHT, "{weight} for {text:?}");
}

/// Twilio's inbound-SMS webhook as herald reads it: the signature check, the form, then the
/// keyword, the sender's number and the TwiML reply. The input is `url\nsignature\nform`; an
/// empty signature line has the target sign the request (so the rest is reached) as Twilio
/// would for the URL given, and such a request must pass the check.
#[cfg(feature = "twilio")]
pub fn twilio_inbound(data: &[u8]) {
    use axum::http::{HeaderMap, HeaderValue, Uri};
    use sink_twilio::webhook::{self, Signed};
    use sink_twilio::{keywords, phone, signature, twiml};

    /// An account with a known auth token.
    struct Account;
    const TOKEN: &str = "fuzzing-auth-token";
    impl Signed for Account {
        fn signed(&self, url: &str, params: &[(String, String)], given: &str) -> bool {
            signature::verify(TOKEN, url, params, given)
        }
        fn public_url(&self) -> Option<&str> {
            None
        }
    }

    let mut lines = data.splitn(3, |b| *b == b'\n');
    let (Some(url), Some(given), Some(body)) = (lines.next(), lines.next(), lines.next()) else {
        return;
    };
    let Ok(uri) = Uri::try_from(url) else {
        return;
    };
    let mut headers = HeaderMap::new();
    if let Some(host) = uri.authority()
        && let Ok(value) = HeaderValue::from_str(host.as_str())
    {
        headers.insert("host", value);
    }
    if let Some(scheme) = uri.scheme_str()
        && let Ok(value) = HeaderValue::from_str(scheme)
    {
        headers.insert("x-forwarded-proto", value);
    }
    let signed_here = given.is_empty();
    let given = if signed_here {
        let scheme = uri.scheme_str().unwrap_or("http");
        let host = uri.authority().map_or("localhost", |a| a.as_str());
        let path = uri
            .path_and_query()
            .map_or(webhook::INBOUND_PATH, |p| p.as_str());
        let url = format!("{scheme}://{host}{path}");
        signature::sign(TOKEN, &url, &webhook::form_pairs(body)).into_bytes()
    } else {
        given.to_vec()
    };
    if let Ok(value) = HeaderValue::from_bytes(&given) {
        headers.insert("x-twilio-signature", value);
    }
    let Some(params) = webhook::verified(&Account, &uri, &headers, body) else {
        assert!(!signed_here, "refused a request signed for {uri}");
        return;
    };
    let from = webhook::param(&params, "From");
    let text = webhook::param(&params, "Body");
    let _ = (webhook::undeliverable(text), webhook::outside_window(text));
    // As `Signup::inbound` reads them, and answers.
    let Ok(sender) = phone::normalize(from, None) else {
        return;
    };
    let _ = (keywords::keyword(text), keywords::first_word(text));
    let reply = sink_twilio::gsm::fit(text, 1);
    let twiml = twiml::reply(Some(&reply));
    assert!(twiml.ends_with("</Message></Response>"), "{twiml}");
    let _ = sender.masked();
}

/// The signing secret of the Slack app the `slack_inbound` requests are for.
#[cfg(feature = "slack")]
const SLACK_SECRET: &str = "fuzzing-signing-secret";

/// Answers every command with its text, at once.
#[cfg(feature = "slack")]
#[derive(Debug)]
struct Echo;

#[cfg(feature = "slack")]
impl sink_api::CommandHandler for Echo {
    fn handle(
        &self,
        command: sink_api::Command,
    ) -> std::pin::Pin<Box<dyn Future<Output = sink_api::Reply> + Send + '_>> {
        Box::pin(async move { sink_api::Reply { text: command.text } })
    }
}

/// The runtime and the Slack sink's routes, built once.
#[cfg(feature = "slack")]
#[derive(Debug)]
struct SlackHarness {
    runtime: tokio::runtime::Runtime,
    router: axum::Router,
}

#[cfg(feature = "slack")]
fn slack_harness() -> Option<&'static SlackHarness> {
    static HARNESS: std::sync::OnceLock<Option<SlackHarness>> = std::sync::OnceLock::new();
    HARNESS
        .get_or_init(|| {
            // The Slack client is built with rustls; one provider for the process.
            // One installed before (by a test) is as good.
            let _installed = rustls::crypto::ring::default_provider().install_default();
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            let sink = sink_slack::SlackSink::new(sink_slack::Config {
                bot_token: secrecy::SecretString::from("xoxb-fuzzing"),
                signing_secret: Some(secrecy::SecretString::from(SLACK_SECRET)),
                app_token: None,
                // Not a URL the client can reach: a command's answer fails at once, offline.
                endpoint: "fuzzing:".to_owned(),
                channels: Vec::new(),
                per_channel_per_second: 1,
            })
            .ok()?;
            Some(SlackHarness {
                runtime,
                router: sink_slack::router(sink, "fuzzing", std::sync::Arc::new(Echo)),
            })
        })
        .as_ref()
}

/// One request to the Slack sink's `POST /webhooks/fuzzing/events` or `…/commands`, through
/// its router: signature check, then the Events API envelope or the slash command form. The
/// first byte's low bit picks the route; its second bit how the request is signed: set, the
/// first line of the rest is `timestamp signature` as sent and the body follows; clear, the
/// rest is the body, signed now with the app's secret as Slack does (`v0=` and the hex
/// HMAC-SHA256 of `v0:<timestamp>:<body>`), so the parsers behind the check are reached; such
/// a request must never be refused as unsigned.
#[cfg(feature = "slack")]
pub fn slack_inbound(data: &[u8]) {
    let Some(harness) = slack_harness() else {
        return;
    };
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let route = if flags & 1 == 0 { "events" } else { "commands" };
    let signed_here = flags & 2 == 0;
    let (timestamp, signature, body) = if signed_here {
        let timestamp = sink_api::verify::now().to_string();
        let mac = sink_api::verify::hmac_sha256(
            SLACK_SECRET.as_bytes(),
            &[b"v0:", timestamp.as_bytes(), b":", rest],
        );
        let hex: String = mac.iter().map(|byte| format!("{byte:02x}")).collect();
        let signature = format!("v0={hex}");
        (timestamp.into_bytes(), signature.into_bytes(), rest)
    } else {
        let (head, body) = split_line(rest);
        let (timestamp, signature) = match head.iter().position(|b| *b == b' ') {
            Some(at) => (
                head.get(..at).unwrap_or_default(),
                head.get(at + 1..).unwrap_or_default(),
            ),
            None => (head, &[][..]),
        };
        (timestamp.to_vec(), signature.to_vec(), body)
    };
    let Ok(request) = axum::http::Request::post(format!("/webhooks/fuzzing/{route}"))
        .header("x-slack-request-timestamp", timestamp)
        .header("x-slack-signature", signature)
        .body(axum::body::Body::from(body.to_vec()))
    else {
        return;
    };
    let mut router = harness.router.clone();
    harness.runtime.block_on(async move {
        let Ok(response) = tower::Service::call(&mut router, request).await;
        assert!(
            !(signed_here && response.status() == axum::http::StatusCode::UNAUTHORIZED),
            "refused a request signed with the app's secret"
        );
        // The whole answer, as Slack reads it.
        let _answer = axum::body::to_bytes(response.into_body(), usize::MAX).await;
        // Let the work an event started (its answer) run now rather than pile up.
        tokio::task::yield_now().await;
    });
}

/// The bytes before the first newline, and those after it (none when there is no newline).
#[cfg(feature = "slack")]
fn split_line(data: &[u8]) -> (&[u8], &[u8]) {
    match data.iter().position(|b| *b == b'\n') {
        Some(at) => (
            data.get(..at).unwrap_or_default(),
            data.get(at + 1..).unwrap_or_default(),
        ),
        None => (data, &[]),
    }
}
