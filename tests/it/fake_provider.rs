//! A local fake of the four score APIs, serving a fixture's recorded responses step by step on
//! the real paths with the real rules: required and optional query parameters (unknown ones
//! are refused), each API's authentication, FIFA's ETag / If-None-Match → 304, and a `Date`
//! header at the step's historical time.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::Value;

#[derive(Debug, Deserialize)]
struct Manifest {
    format: String,
    endpoints: Vec<Endpoint>,
    steps: Vec<ManifestStep>,
}

#[derive(Debug, Clone, Deserialize)]
struct Endpoint {
    key: String,
    request: String,
    path: String,
    #[serde(default)]
    query: BTreeMap<String, String>,
    #[serde(default)]
    optional_query: Vec<String>,
    #[serde(default)]
    required_params: Vec<String>,
    #[serde(default)]
    query_case_insensitive: bool,
    #[serde(default)]
    etag: bool,
    #[serde(default)]
    filter_status: bool,
}

#[derive(Debug, Deserialize)]
struct ManifestStep {
    file: String,
}

#[derive(Debug, Deserialize)]
struct Step {
    wall_clock_utc: String,
    responses: BTreeMap<String, Recorded>,
}

#[derive(Debug, Clone, Deserialize)]
struct Recorded {
    status: u16,
    body: Value,
}

/// One request the fake answered.
#[derive(Debug, Clone)]
pub(crate) struct Hit {
    pub(crate) step: usize,
    pub(crate) endpoint: String,
    pub(crate) status: u16,
    /// Whether an injected fault was served instead of the recording.
    pub(crate) fault: bool,
    /// When the request arrived.
    pub(crate) at: Instant,
}

/// A failure the fake serves instead of the recording.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fault {
    /// An error status.
    Status(u16),
    /// 429 with `Retry-After` in seconds.
    RateLimited(u64),
    /// A 200 whose body is not the API's format.
    Malformed,
}

/// What a storm answers, request after request, whatever the endpoint.
pub(crate) const STORM: [StormAnswer; 4] = [
    StormAnswer::TooManyRequests,
    StormAnswer::ServerError,
    StormAnswer::Timeout,
    StormAnswer::Truncated,
];

/// One answer of a storm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StormAnswer {
    /// 429 with `Retry-After: 2`.
    TooManyRequests,
    /// 500.
    ServerError,
    /// No answer for longer than herald's request timeout (20 s).
    Timeout,
    /// 200 with the recorded body cut in half.
    Truncated,
}

/// Seconds a storm's 429 asks to wait.
pub(crate) const STORM_RETRY_AFTER: u64 = 2;

struct Inner {
    /// While set, requests to this endpoint get this fault.
    fault: Mutex<Option<(String, Fault)>>,
    /// Until this instant every request gets the next answer of [`STORM`].
    storm_until: Mutex<Option<Instant>>,
    storm_answers: AtomicUsize,
    format: String,
    endpoints: Vec<Endpoint>,
    steps: Vec<Step>,
    step: AtomicUsize,
    hits: Mutex<Vec<Hit>>,
}

/// A running fake provider.
#[derive(Clone)]
pub(crate) struct FakeProvider {
    inner: Arc<Inner>,
    pub(crate) addr: SocketAddr,
}

impl FakeProvider {
    pub(crate) async fn start(dir: &Path) -> Self {
        let manifest: Manifest =
            serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).unwrap()).unwrap();
        let steps = manifest
            .steps
            .iter()
            .map(|s| serde_json::from_slice(&std::fs::read(dir.join(&s.file)).unwrap()).unwrap())
            .collect();
        let inner = Arc::new(Inner {
            fault: Mutex::new(None),
            storm_until: Mutex::new(None),
            storm_answers: AtomicUsize::new(0),
            format: manifest.format,
            endpoints: manifest.endpoints,
            steps,
            step: AtomicUsize::new(0),
            hits: Mutex::new(Vec::new()),
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app = Router::new()
            .fallback(handle)
            .with_state(Arc::clone(&inner));
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self { inner, addr }
    }

    pub(crate) fn base(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub(crate) fn format(&self) -> &str {
        &self.inner.format
    }

    pub(crate) fn steps(&self) -> usize {
        self.inner.steps.len()
    }

    pub(crate) fn set_step(&self, step: usize) {
        self.inner.step.store(step, Ordering::SeqCst);
    }

    /// Makes requests to `endpoint` fail with `fault` until cleared with `None`.
    pub(crate) fn set_fault(&self, fault: Option<(&str, Fault)>) {
        *self.inner.fault.lock().unwrap() = fault.map(|(e, f)| (e.to_owned(), f));
    }

    /// Answers every request with the next of [`STORM`] for `length`, from now.
    pub(crate) fn storm(&self, length: Duration) {
        *self.inner.storm_until.lock().unwrap() = Some(Instant::now() + length);
    }

    pub(crate) fn hits(&self) -> Vec<Hit> {
        self.inner.hits.lock().unwrap().clone()
    }

    /// The endpoint a poll starts with.
    pub(crate) fn first_endpoint(&self) -> &'static str {
        match self.inner.format.as_str() {
            "fifa" => "calendar",
            "football-data" => "matches_today",
            "livescore" => "live",
            _ => "live_all",
        }
    }

    /// Waits until herald has started `polls` polls in the current step, so that at least
    /// `polls - 1` complete polls (fetch, detect, commit) saw this step.
    pub(crate) async fn wait_polls(&self, polls: usize, timeout: Duration) {
        let step = self.inner.step.load(Ordering::SeqCst);
        let first = self.first_endpoint();
        let deadline = Instant::now() + timeout;
        loop {
            let n = self
                .hits()
                .iter()
                .filter(|h| h.step == step && h.endpoint == first)
                .count();
            if n >= polls {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "herald did not poll step {step} {polls} times in {timeout:?}"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
}

fn params(query: &str) -> Vec<(String, String)> {
    serde_urlencoded::from_str(query).unwrap_or_default()
}

async fn handle(State(inner): State<Arc<Inner>>, request: Request) -> Response {
    let step_index = inner.step.load(Ordering::SeqCst);
    let step = &inner.steps[step_index];
    let path = request.uri().path().to_owned();
    let query = params(request.uri().query().unwrap_or(""));
    let headers = request.headers().clone();
    let arrived = Instant::now();
    let record_hit = |endpoint: &str, status: u16, fault: bool| {
        inner.hits.lock().unwrap().push(Hit {
            step: step_index,
            endpoint: endpoint.to_owned(),
            status,
            fault,
            at: arrived,
        });
    };
    let record = |endpoint: &str, status: u16| record_hit(endpoint, status, false);

    // Authentication, as each API does it.
    let unauthorized = match inner.format.as_str() {
        "football-data" => headers.get("x-auth-token").is_none_or(|v| v.is_empty()),
        "api-football" => headers.get("x-apisports-key").is_none_or(|v| v.is_empty()),
        _ => false,
    };
    if unauthorized {
        record("unauthorized", 403);
        return (StatusCode::FORBIDDEN, axum::Json(serde_json::json!({"message": "The resource you are looking for is restricted.", "errorCode": 403}))).into_response();
    }

    // The most specific endpoint whose path and required query match.
    let mut candidates: Vec<&Endpoint> =
        inner.endpoints.iter().filter(|e| e.path == path).collect();
    candidates.sort_by_key(|e| std::cmp::Reverse(e.query.len()));
    let key_eq = |e: &Endpoint, a: &str, b: &str| {
        if e.query_case_insensitive {
            a.eq_ignore_ascii_case(b)
        } else {
            a == b
        }
    };
    let endpoint = candidates.into_iter().find(|e| {
        e.query
            .iter()
            .all(|(k, v)| query.iter().any(|(qk, qv)| key_eq(e, qk, k) && qv == v))
            && (e.query.contains_key("status")
                || !query.iter().any(|(k, _)| k == "status")
                || e.filter_status)
    });
    let Some(endpoint) = endpoint else {
        record("unknown", 404);
        return (StatusCode::NOT_FOUND, format!("no such endpoint {path}")).into_response();
    };
    for required in &endpoint.required_params {
        if !query.iter().any(|(k, v)| k == required && !v.is_empty()) {
            record(&endpoint.key, 401);
            return (
                StatusCode::UNAUTHORIZED,
                axum::Json(
                    serde_json::json!({"success": false, "error": format!("missing {required}")}),
                ),
            )
                .into_response();
        }
    }
    for (k, _) in &query {
        let known = endpoint.query.keys().any(|q| key_eq(endpoint, q, k))
            || endpoint
                .optional_query
                .iter()
                .any(|q| key_eq(endpoint, q, k))
            || endpoint.required_params.contains(k)
            || (endpoint.filter_status && k == "status");
        if !known {
            record(&endpoint.key, 400);
            return (
                StatusCode::BAD_REQUEST,
                format!("unexpected query parameter {k}"),
            )
                .into_response();
        }
    }
    let fault = inner.fault.lock().unwrap().clone();
    if let Some((key, fault)) = fault.filter(|(key, _)| *key == endpoint.key) {
        return match fault {
            Fault::Status(status) => {
                record_hit(&key, status, true);
                (StatusCode::from_u16(status).unwrap(), "injected failure").into_response()
            }
            Fault::RateLimited(seconds) => {
                record_hit(&key, 429, true);
                (
                    StatusCode::TOO_MANY_REQUESTS,
                    [(header::RETRY_AFTER, seconds.to_string())],
                    "rate limited",
                )
                    .into_response()
            }
            Fault::Malformed => {
                record_hit(&key, 200, true);
                (
                    StatusCode::OK,
                    [(header::CONTENT_TYPE, "application/json")],
                    "{\"Event\": \"not a list\"",
                )
                    .into_response()
            }
        };
    }
    let Some(recorded) = step.responses.get(&endpoint.request) else {
        record(&endpoint.key, 404);
        return (StatusCode::NOT_FOUND, "not recorded at this step").into_response();
    };
    let storming = inner
        .storm_until
        .lock()
        .unwrap()
        .is_some_and(|until| arrived < until);
    if storming {
        let n = inner.storm_answers.fetch_add(1, Ordering::SeqCst);
        let answer = STORM[n % STORM.len()];
        return match answer {
            StormAnswer::TooManyRequests => {
                record_hit(&endpoint.key, 429, true);
                (
                    StatusCode::TOO_MANY_REQUESTS,
                    [(header::RETRY_AFTER, STORM_RETRY_AFTER.to_string())],
                    "slow down",
                )
                    .into_response()
            }
            StormAnswer::ServerError => {
                record_hit(&endpoint.key, 500, true);
                (StatusCode::INTERNAL_SERVER_ERROR, "storm").into_response()
            }
            StormAnswer::Timeout => {
                record_hit(&endpoint.key, 504, true);
                tokio::time::sleep(Duration::from_secs(25)).await;
                (StatusCode::GATEWAY_TIMEOUT, "too late").into_response()
            }
            StormAnswer::Truncated => {
                record_hit(&endpoint.key, 200, true);
                let text = serde_json::to_string(&recorded.body).unwrap();
                let half = text.get(..text.len() / 2).unwrap_or_default().to_owned();
                (
                    StatusCode::OK,
                    [(header::CONTENT_TYPE, "application/json")],
                    half,
                )
                    .into_response()
            }
        };
    }
    let mut body = recorded.body.clone();
    if endpoint.filter_status
        && let Some((_, wanted)) = query.iter().find(|(k, _)| k == "status")
    {
        let wanted: Vec<&str> = wanted.split(',').collect();
        if let Some(Value::Array(matches)) = body.get_mut("matches") {
            matches.retain(|m| m["status"].as_str().is_some_and(|s| wanted.contains(&s)));
        }
    }
    let text = serde_json::to_string(&body).unwrap();
    let date = httpdate::fmt_http_date(
        std::time::UNIX_EPOCH
            + Duration::from_secs(
                u64::try_from(
                    time::OffsetDateTime::parse(
                        &step.wall_clock_utc,
                        &time::format_description::well_known::Rfc3339,
                    )
                    .unwrap()
                    .unix_timestamp(),
                )
                .unwrap(),
            ),
    );
    let mut response = if endpoint.etag {
        let etag = format!("\"{}\"", fnv(&text));
        if headers
            .get(header::IF_NONE_MATCH)
            .and_then(|v| v.to_str().ok())
            == Some(etag.as_str())
        {
            record(&endpoint.key, 304);
            let mut r = StatusCode::NOT_MODIFIED.into_response();
            r.headers_mut()
                .insert(header::ETAG, HeaderValue::from_str(&etag).unwrap());
            r.headers_mut()
                .insert(header::DATE, HeaderValue::from_str(&date).unwrap());
            return r;
        }
        let mut r = Response::new(Body::from(text));
        r.headers_mut()
            .insert(header::ETAG, HeaderValue::from_str(&etag).unwrap());
        r
    } else {
        Response::new(Body::from(text))
    };
    *response.status_mut() = StatusCode::from_u16(recorded.status).unwrap();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
        .headers_mut()
        .insert(header::DATE, HeaderValue::from_str(&date).unwrap());
    record(&endpoint.key, recorded.status);
    response
}

/// A numeric hash, like FIFA's numeric ETags.
fn fnv(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}
