//! Provider quotas over real HTTP: football-data.org's per-minute counter and 429s, and
//! API-Football's daily allowance and in-body errors.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::IntoResponse;
use herald::sources::api_football::ApiFootball;
use herald::sources::football_data::FootballData;
use herald::sources::http::{Auth, HttpTransport};
use herald::sources::{NextPoll, Source, SourceError};
use secrecy::SecretString;
use serde_json::json;

type Log = Arc<Mutex<Vec<(String, Instant)>>>;

async fn serve(app: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

fn live_match() -> serde_json::Value {
    json!({
        "id": 1, "utcDate": "2022-12-18T15:00:00Z", "status": "IN_PLAY", "minute": 23,
        "lastUpdated": "2022-12-18T15:23:00Z",
        "homeTeam": {"id": 762, "name": "Argentina"}, "awayTeam": {"id": 773, "name": "France"},
        "score": {"fullTime": {"home": 1, "away": 0}, "halfTime": {"home": null, "away": null}},
        "goals": [{"minute": 23, "type": "PENALTY", "team": {"id": 762}, "scorer": {"id": 1, "name": "Messi"}, "score": {"home": 1, "away": 0}}]
    })
}

fn transport(base: &str, header: &'static str) -> HttpTransport {
    herald::app::install_crypto_provider();
    HttpTransport::new(
        base,
        Auth::Header {
            name: header,
            value: SecretString::from("token"),
        },
        None,
    )
    .unwrap()
}

#[tokio::test]
async fn football_data_pauses_until_the_minute_counter_resets() {
    let log: Log = Arc::default();
    let seen = Arc::clone(&log);
    let app = Router::new().fallback(move |uri: Uri, headers: HeaderMap| {
        let seen = Arc::clone(&seen);
        async move {
            assert_eq!(headers["x-auth-token"], "token");
            seen.lock()
                .unwrap()
                .push((uri.path().to_owned(), Instant::now()));
            let body = if uri.path() == "/v4/matches" {
                json!({"matches": [live_match()]})
            } else {
                live_match()
            };
            (
                [
                    ("x-requests-available-minute", "0"),
                    ("x-requestcounter-reset", "1"),
                ],
                axum::Json(body),
            )
                .into_response()
        }
    });
    let base = serve(app).await;
    let mut source = FootballData::new(vec![], transport(&format!("{base}/v4"), "X-Auth-Token"));
    let poll = source.poll().await.unwrap();
    assert_eq!(
        poll.snapshot.matches[0].incidents.len(),
        1,
        "the detail was fetched"
    );
    let log = log.lock().unwrap().clone();
    assert_eq!(
        log.iter().map(|(p, _)| p.as_str()).collect::<Vec<_>>(),
        ["/v4/matches", "/v4/matches/1"]
    );
    let gap = log[1].1 - log[0].1;
    assert!(
        gap >= Duration::from_millis(950),
        "the quota pause was not honoured: {gap:?}"
    );
}

#[tokio::test]
async fn football_data_429_reports_when_to_retry() {
    let app = Router::new().fallback(|| async {
        (StatusCode::TOO_MANY_REQUESTS, [("x-requestcounter-reset", "7")], axum::Json(json!({"message": "You reached your request limit. Wait 7 seconds.", "errorCode": 429})))
    });
    let base = serve(app).await;
    let mut source = FootballData::new(
        vec!["WC".into()],
        transport(&format!("{base}/v4"), "X-Auth-Token"),
    );
    let err = source.poll().await.unwrap_err();
    assert_eq!(err.retry_after(), Some(Duration::from_secs(7)), "{err}");
}

#[tokio::test]
async fn api_football_spreads_the_daily_quota_until_midnight_utc() {
    let app = Router::new().fallback(|| async {
        (
            [
                ("x-ratelimit-requests-remaining", "10"),
                ("date", "Tue, 08 Jul 2014 20:00:00 GMT"),
            ],
            axum::Json(json!({"get": "fixtures", "errors": [], "results": 0, "response": []})),
        )
    });
    let base = serve(app).await;
    let mut source = ApiFootball::new(vec![], vec![], transport(&base, "x-apisports-key"));
    let poll = source.poll().await.unwrap();
    // Four hours left, ten requests, one request per poll: one poll every 24 minutes.
    assert_eq!(
        poll.next,
        NextPoll::NotBefore(Duration::from_secs(4 * 3600 / 10))
    );
}

#[tokio::test]
async fn api_football_errors_in_a_200_fail_the_poll() {
    let app = Router::new().fallback(|| async {
        axum::Json(json!({"errors": {"requests": "You have reached the request limit for the day"}, "response": []}))
    });
    let base = serve(app).await;
    let mut source = ApiFootball::new(vec![], vec![], transport(&base, "x-apisports-key"));
    let err = source.poll().await.unwrap_err();
    assert!(matches!(err, SourceError::Api { .. }), "{err}");
    assert!(
        err.to_string().contains("request limit for the day"),
        "{err}"
    );
}

#[tokio::test]
async fn after_a_429_nothing_is_asked_before_retry_after_whoever_made_the_request() {
    let log: Log = Arc::default();
    let seen = Arc::clone(&log);
    let app = Router::new().fallback(move |uri: Uri| {
        let seen = Arc::clone(&seen);
        async move {
            let mut seen = seen.lock().unwrap();
            seen.push((uri.path().to_owned(), Instant::now()));
            if seen.len() == 1 {
                (
                    StatusCode::TOO_MANY_REQUESTS,
                    [("retry-after", "1")],
                    "slow down",
                )
                    .into_response()
            } else {
                axum::Json(json!({"matches": []})).into_response()
            }
        }
    });
    let base = serve(app).await;
    let transport = transport(&base, "X-Auth-Token");
    // A caller that ignores the 429 (a line-up read only logs it) asks again at once.
    use herald::sources::Transport as _;
    let first = transport.get("/lineups", &[]).await.unwrap();
    assert_eq!(first.status, 429);
    transport.get("/matches", &[]).await.unwrap();
    let log = log.lock().unwrap().clone();
    let gap = log[1].1 - log[0].1;
    assert!(
        gap >= Duration::from_millis(950),
        "asked again {gap:?} after a 429 with Retry-After: 1"
    );
}
