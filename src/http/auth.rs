//! Who may call the API: named tokens with scopes (`[[http.tokens]]`, and `http.admin_token`
//! with every scope), given as `Authorization: Bearer <token>` or as HTTP Basic
//! `<name>:<token>` (what clients of the older message sender send). Every token is compared
//! in constant time, and all of them every time; tokens never reach a log.

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use base64::Engine as _;
use secrecy::{ExposeSecret, SecretString};
use subtle::ConstantTimeEq;

use super::error;
use crate::config::{ApiScope, HttpConfig};

/// The name of `http.admin_token` (the user name of HTTP Basic).
pub const ADMIN: &str = "admin";

/// The challenge of a 401: either scheme works.
const CHALLENGE: &str = r#"Bearer realm="herald", Basic realm="herald""#;

/// One token.
#[derive(Clone)]
struct Token {
    name: String,
    secret: SecretString,
    scopes: Vec<ApiScope>,
}

/// Every token herald accepts.
#[derive(Clone, Default)]
pub struct Auth {
    tokens: Vec<Token>,
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.tokens.iter().map(|t| t.name.as_str()).collect();
        f.debug_struct("Auth").field("tokens", &names).finish()
    }
}

/// Who called, once authorized.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The token's name.
    pub name: String,
}

impl Auth {
    /// The tokens of `[http]`.
    pub fn new(http: &HttpConfig) -> Self {
        let admin = http.admin_token.iter().map(|secret| Token {
            name: ADMIN.to_owned(),
            secret: secret.clone(),
            scopes: vec![ApiScope::Admin],
        });
        let named = http.tokens.iter().map(|t| Token {
            name: t.name.trim().to_owned(),
            secret: t.token.clone(),
            scopes: t.scopes.clone(),
        });
        Self {
            tokens: admin.chain(named).collect(),
        }
    }

    /// The caller of a request that needs `scope`, or the answer to send: 403 when no
    /// token is configured at all, 401 (with the challenge) when the credentials are
    /// missing or wrong, 403 when the token lacks the scope.
    #[allow(clippy::result_large_err)]
    pub fn authorize(&self, headers: &HeaderMap, scope: ApiScope) -> Result<Caller, Response> {
        if self.tokens.is_empty() {
            return Err(error(
                StatusCode::FORBIDDEN,
                "the API is disabled: set http.admin_token or add [[http.tokens]] to enable it",
                None,
            ));
        }
        let given = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .map(str::trim);
        let Some(given) = given else {
            return Err(unauthorized(
                "missing credentials (Authorization: Bearer <token>, or Basic <name>:<token>)",
            ));
        };
        let (scheme, credential) = given.split_once(' ').unwrap_or((given, ""));
        let credential = credential.trim();
        let found = if scheme.eq_ignore_ascii_case("bearer") {
            self.find(None, credential)
        } else if scheme.eq_ignore_ascii_case("basic") {
            basic(credential).and_then(|(name, token)| self.find(Some(&name), &token))
        } else {
            None
        };
        let Some(token) = found else {
            return Err(unauthorized("invalid credentials"));
        };
        if !token.scopes.contains(&scope) && !token.scopes.contains(&ApiScope::Admin) {
            return Err(error(
                StatusCode::FORBIDDEN,
                &format!(
                    "the token `{}` does not have the `{}` scope",
                    token.name,
                    scope.as_str()
                ),
                None,
            ));
        }
        Ok(Caller {
            name: token.name.clone(),
        })
    }

    /// The token whose secret is `given` (and whose name is `name`, for Basic). Compares
    /// with every token, in constant time each.
    fn find(&self, name: Option<&str>, given: &str) -> Option<&Token> {
        let mut found = None;
        for token in &self.tokens {
            let same = token
                .secret
                .expose_secret()
                .as_bytes()
                .ct_eq(given.as_bytes());
            let named = name.is_none_or(|n| n == token.name);
            if bool::from(same) && named && found.is_none() {
                found = Some(token);
            }
        }
        found
    }
}

/// The `name:token` of a Basic credential.
fn basic(encoded: &str) -> Option<(String, String)> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let (name, token) = text.split_once(':')?;
    Some((name.to_owned(), token.to_owned()))
}

fn unauthorized(message: &str) -> Response {
    let mut response = error(StatusCode::UNAUTHORIZED, message, None);
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static(CHALLENGE),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::TokenConfig;

    fn auth() -> Auth {
        Auth::new(&HttpConfig {
            admin_token: Some("admin-secret-0123456789".into()),
            tokens: vec![
                TokenConfig {
                    name: "reporter".into(),
                    token: "reporter-secret-0123".into(),
                    scopes: vec![ApiScope::Read],
                },
                TokenConfig {
                    name: "sender".into(),
                    token: "sender-secret-01234".into(),
                    scopes: vec![ApiScope::Publish, ApiScope::Read],
                },
            ],
            ..HttpConfig::default()
        })
    }

    fn headers(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::AUTHORIZATION, value.parse().unwrap());
        h
    }

    fn basic_of(user: &str, token: &str) -> String {
        let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{token}"));
        format!("Basic {encoded}")
    }

    #[test]
    fn bearer_and_basic_name_the_caller() {
        let a = auth();
        let caller = a
            .authorize(&headers("Bearer sender-secret-01234"), ApiScope::Publish)
            .unwrap();
        assert_eq!(caller.name, "sender");
        let caller = a
            .authorize(
                &headers(&basic_of("sender", "sender-secret-01234")),
                ApiScope::Read,
            )
            .unwrap();
        assert_eq!(caller.name, "sender");
        let caller = a
            .authorize(&headers("bearer admin-secret-0123456789"), ApiScope::Ingest)
            .unwrap();
        assert_eq!(caller.name, ADMIN);
    }

    #[test]
    fn wrong_credentials_are_401_and_a_missing_scope_403() {
        let a = auth();
        let status = |h: HeaderMap, scope| a.authorize(&h, scope).unwrap_err().status();
        assert_eq!(
            status(HeaderMap::new(), ApiScope::Read),
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(
            status(headers("Bearer nope"), ApiScope::Read),
            StatusCode::UNAUTHORIZED
        );
        // The right token under another name is not accepted.
        assert_eq!(
            status(
                headers(&basic_of("reporter", "sender-secret-01234")),
                ApiScope::Read
            ),
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(
            status(headers("Bearer reporter-secret-0123"), ApiScope::Publish),
            StatusCode::FORBIDDEN
        );
        let challenge = a.authorize(&HeaderMap::new(), ApiScope::Read).unwrap_err();
        assert!(
            challenge.headers()[header::WWW_AUTHENTICATE]
                .to_str()
                .unwrap()
                .contains("Basic")
        );
    }

    #[test]
    fn without_tokens_the_api_is_refused() {
        let none = Auth::new(&HttpConfig::default());
        let r = none
            .authorize(&headers("Bearer anything-at-all-0000"), ApiScope::Publish)
            .unwrap_err();
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
    }
}
