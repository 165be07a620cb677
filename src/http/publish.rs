//! `POST /api/v1/publish`: a free-form message through the same store → dispatch → sinks path
//! as match events. Needs a token with the `publish` scope; refused outright when no token is
//! configured.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::answers::{ErrorBody, PublishRequest, Published};
use super::{AppState, error};
use crate::config::ApiScope;
use crate::dispatch::error_chain;
use crate::model::{Event, EventKind};

/// Longest accepted values, in characters.
const MAX_TOPIC: usize = 100;
const MAX_TITLE: usize = 200;
const MAX_BODY_TEXT: usize = 4000;

/// `POST /api/v1/publish` (scope `publish`).
#[utoipa::path(post, path = "/api/v1/publish", tag = "messages",
    request_body = PublishRequest,
    security(("token" = []), ("basic" = [])),
    responses(
        (status = 202, description = "Recorded; deliveries queued.", body = Published),
        (status = 400, description = "A field that does not hold.", body = ErrorBody),
        (status = 401, description = "No token, or a wrong one.", body = ErrorBody),
        (status = 403, description = "The token lacks the scope, or no token is configured.", body = ErrorBody),
        (status = 415, description = "The body is not JSON.", body = ErrorBody),
    ))]
pub(super) async fn publish(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(refused) = json_caller(&state.auth, &headers, ApiScope::Publish) {
        return refused;
    }
    let request = match parse(&body) {
        Ok(r) => r,
        Err((message, field)) => return error(StatusCode::BAD_REQUEST, &message, field.as_deref()),
    };
    let mut event = Event::new(
        format!("announcement:{}", random_id()),
        EventKind::Announcement,
    );
    event.topic = Some(request.topic.trim().to_owned());
    event.title = Some(request.title.trim().to_owned());
    event.text = Some(request.body.trim().to_owned());
    let id = event.id.clone();
    match state.outbox.publish(event).await {
        Ok(committed) => {
            tracing::info!(event_id = %id, deliveries = committed.deliveries, "published");
            (
                StatusCode::ACCEPTED,
                axum::Json(Published {
                    id,
                    deliveries: committed.deliveries,
                }),
            )
                .into_response()
        }
        Err(e) => {
            tracing::error!(error = %error_chain(&e), "cannot record a published message");
            error(
                StatusCode::SERVICE_UNAVAILABLE,
                "the store is unavailable; try again",
                None,
            )
        }
    }
}

/// The caller of a request that needs `scope` and sends a JSON body, or the answer to send:
/// the refusal of [`Auth::authorize`](super::auth::Auth::authorize), or 415 for another body.
#[allow(clippy::result_large_err)]
pub(crate) fn json_caller(
    auth: &super::auth::Auth,
    headers: &HeaderMap,
    scope: ApiScope,
) -> Result<super::auth::Caller, Response> {
    let caller = auth.authorize(headers, scope)?;
    if !is_json(headers) {
        return Err(error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "the body must be JSON (Content-Type: application/json)",
            None,
        ));
    }
    Ok(caller)
}

/// Whether the request says its body is JSON (`application/json`, parameters allowed).
fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"))
}

/// Parses and checks the body; errors name the field.
fn parse(body: &[u8]) -> Result<PublishRequest, (String, Option<String>)> {
    if body.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err(("the body must be a JSON object".to_owned(), None));
    }
    let de = &mut serde_json::Deserializer::from_slice(body);
    let request: PublishRequest = serde_path_to_error::deserialize(&mut *de).map_err(|e| {
        let path = e.path().to_string();
        let message = e.inner().to_string();
        let field = match path.as_str() {
            // `missing field `title``, `unknown field `x``: the name is in the message.
            "." => message.split('`').nth(1).map(str::to_owned),
            // Not JSON at all: no field to name.
            "?" => None,
            _ => Some(path),
        };
        (format!("invalid JSON body: {message}"), field)
    })?;
    de.end().map_err(|_| {
        (
            "invalid JSON body: trailing characters after the object".to_owned(),
            None,
        )
    })?;
    for (field, value, max) in [
        ("topic", &request.topic, MAX_TOPIC),
        ("title", &request.title, MAX_TITLE),
        ("body", &request.body, MAX_BODY_TEXT),
    ] {
        let len = value.trim().chars().count();
        if len == 0 {
            return Err((format!("{field} must not be empty"), Some(field.to_owned())));
        }
        if len > max {
            return Err((
                format!("{field} is longer than {max} characters"),
                Some(field.to_owned()),
            ));
        }
    }
    Ok(request)
}

/// 128 random bits as hex: unique announcement ids without a uuid dependency.
fn random_id() -> String {
    let bits: u128 = rand::random();
    format!("{bits:032x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_name_the_field() {
        let field = |body: &str| parse(body.as_bytes()).unwrap_err().1;
        assert_eq!(
            field(r#"{"topic": "a", "body": "b"}"#).as_deref(),
            Some("title")
        );
        assert_eq!(
            field(r#"{"topic": "a", "title": 3, "body": "b"}"#).as_deref(),
            Some("title")
        );
        assert_eq!(
            field(r#"{"topic": "a", "title": " ", "body": "b"}"#).as_deref(),
            Some("title")
        );
        assert_eq!(
            field(r#"{"topic": "a", "title": "t", "body": "b", "x": 1}"#).as_deref(),
            Some("x")
        );
        assert_eq!(
            field(&format!(
                r#"{{"topic": "a", "title": "t", "body": "{}"}}"#,
                "x".repeat(4001)
            ))
            .as_deref(),
            Some("body")
        );
        assert!(
            parse(br#"{"topic": "France", "title": "Team news", "body": "Mbapp\u00e9 starts"}"#)
                .is_ok()
        );
    }

    #[test]
    fn only_one_json_object_is_accepted() {
        let ok = r#"{"topic": "a", "title": "t", "body": "b"}"#;
        assert!(parse(ok.as_bytes()).is_ok());
        let (message, _) = parse(format!("{ok} trailing").as_bytes()).unwrap_err();
        assert!(message.contains("trailing"), "{message}");
        assert!(parse(format!("{ok}{ok}").as_bytes()).is_err());
        let (message, _) = parse(br#"["a", "t", "b"]"#).unwrap_err();
        assert_eq!(message, "the body must be a JSON object");
        assert!(parse(format!("  {ok}\n").as_bytes()).is_ok());
    }

    #[test]
    fn malformed_json_is_an_error_without_a_field() {
        let (message, field) = parse(b"{not json").unwrap_err();
        assert!(message.starts_with("invalid JSON body"), "{message}");
        assert_eq!(field, None);
    }
}
