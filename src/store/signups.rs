//! SMS signups waiting for their confirmation code.

use sink_api::Recipient;

use super::subscriptions::upsert_subscription;
use super::{Store, StoreError, now_ms};
use crate::preferences::Quiet;
use crate::routing::{Scope, Subscription};

/// An SMS signup waiting for its confirmation code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingSignup {
    /// The Twilio sink instance.
    pub sink: String,
    /// The number, E.164.
    pub phone: String,
    /// The code texted to it.
    pub code: String,
    /// What it will follow once confirmed (empty: everything).
    pub scopes: Vec<Scope>,
    /// Kinds or groups; empty for all.
    pub kinds: Vec<String>,
    /// Its locale.
    pub locale: String,
    /// Quiet hours asked for at signup.
    pub quiet: Option<Quiet>,
    /// Wrong codes tried so far.
    pub attempts: u32,
    /// When the code stops working (ms).
    pub expires_at_ms: i64,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct SignupRequest {
    scopes: Vec<(String, String)>,
    kinds: Vec<String>,
    locale: String,
    /// Absent in signups stored before quiet hours existed.
    #[serde(default)]
    quiet: Option<Quiet>,
}

impl Store {
    /// Records a signup waiting for confirmation, replacing an earlier one of the same number.
    ///
    /// # Errors
    /// Database errors.
    pub async fn put_signup(&self, signup: &PendingSignup) -> Result<(), StoreError> {
        let request = serde_json::to_string(&SignupRequest {
            scopes: signup
                .scopes
                .iter()
                .map(|s| {
                    let (k, v) = s.parts();
                    (k.to_owned(), v.to_owned())
                })
                .collect(),
            kinds: signup.kinds.clone(),
            locale: signup.locale.clone(),
            quiet: signup.quiet.clone(),
        })
        .map_err(|source| StoreError::Corrupt {
            what: "signup",
            source,
        })?;
        sqlx::query(
            "INSERT INTO sms_signups (sink, phone, code, request, attempts, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, 0, $5, $6) ON CONFLICT (sink, phone) DO UPDATE SET \
             code = excluded.code, request = excluded.request, attempts = 0, \
             created_at = excluded.created_at, expires_at = excluded.expires_at",
        )
        .bind(&signup.sink)
        .bind(&signup.phone)
        .bind(&signup.code)
        .bind(request)
        .bind(now_ms())
        .bind(signup.expires_at_ms)
        .execute(&mut *self.writer().await?)
        .await?;
        Ok(())
    }

    /// The signup of `phone` waiting for confirmation, if any.
    ///
    /// # Errors
    /// Database errors, or a stored request that does not parse.
    pub async fn signup(
        &self,
        sink: &str,
        phone: &str,
    ) -> Result<Option<PendingSignup>, StoreError> {
        let row: Option<SignupRow> = sqlx::query_as(
            "SELECT sink, phone, code, request, attempts, expires_at FROM sms_signups \
             WHERE sink = $1 AND phone = $2",
        )
        .bind(sink)
        .bind(phone)
        .fetch_optional(&self.pool)
        .await?;
        row.map(PendingSignup::try_from).transpose()
    }

    /// Forgets signups whose code expired before `now_ms`: numbers that never confirmed are
    /// not kept. Returns how many.
    ///
    /// # Errors
    /// Database errors.
    pub async fn sweep_signups(&self, now_ms: i64) -> Result<u64, StoreError> {
        let result = sqlx::query("DELETE FROM sms_signups WHERE expires_at < $1")
            .bind(now_ms)
            .execute(&mut *self.writer().await?)
            .await?;
        Ok(result.rows_affected())
    }

    /// Counts one code attempt against the pending signup of `phone`, if it is unexpired and
    /// has attempts left; returns whether it did. Check-and-count is one statement, so any
    /// number of concurrent guesses compare at most `max_attempts` codes in all.
    ///
    /// # Errors
    /// Database errors.
    pub async fn take_signup_attempt(
        &self,
        sink: &str,
        phone: &str,
        max_attempts: u32,
    ) -> Result<bool, StoreError> {
        let counted = sqlx::query(
            "UPDATE sms_signups SET attempts = attempts + 1 \
             WHERE sink = $1 AND phone = $2 AND attempts < $3 AND expires_at >= $4",
        )
        .bind(sink)
        .bind(phone)
        .bind(i64::from(max_attempts))
        .bind(now_ms())
        .execute(&mut *self.writer().await?)
        .await?
        .rows_affected();
        Ok(counted == 1)
    }

    /// Forgets a pending signup.
    ///
    /// # Errors
    /// Database errors.
    pub async fn drop_signup(&self, sink: &str, phone: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM sms_signups WHERE sink = $1 AND phone = $2")
            .bind(sink)
            .bind(phone)
            .execute(&mut *self.writer().await?)
            .await?;
        Ok(())
    }

    /// Turns a pending signup into active subscriptions, in one transaction.
    ///
    /// # Errors
    /// Database errors; nothing changes then.
    pub async fn confirm_signup(&self, signup: &PendingSignup) -> Result<(), StoreError> {
        let now = now_ms();
        let mut conn = self.writer().await?;
        let mut tx = super::begin(&mut conn, self.backend).await?;
        let scopes = if signup.scopes.is_empty() {
            vec![Scope::All]
        } else {
            signup.scopes.clone()
        };
        for scope in scopes {
            let sub = Subscription {
                sink: signup.sink.clone(),
                recipient: Recipient::new(&signup.phone),
                scope,
                kinds: signup.kinds.clone(),
                locale: Some(signup.locale.clone()),
            };
            upsert_subscription(&mut tx, &sub, now).await?;
        }
        if let Some(quiet) = &signup.quiet {
            super::preferences::upsert_quiet(&mut tx, &signup.sink, &signup.phone, quiet, now)
                .await?;
        }
        sqlx::query("DELETE FROM sms_signups WHERE sink = $1 AND phone = $2")
            .bind(&signup.sink)
            .bind(&signup.phone)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }
}

/// An `sms_signups` row as selected:
/// `sink, phone, code, request, attempts, expires_at`.
#[derive(sqlx::FromRow)]
struct SignupRow {
    sink: String,
    phone: String,
    code: String,
    /// A [`SignupRequest`] as JSON.
    request: String,
    attempts: i64,
    expires_at: i64,
}

impl TryFrom<SignupRow> for PendingSignup {
    type Error = StoreError;

    fn try_from(r: SignupRow) -> Result<Self, StoreError> {
        let request: SignupRequest =
            serde_json::from_str(&r.request).map_err(|source| StoreError::Corrupt {
                what: "signup",
                source,
            })?;
        Ok(Self {
            sink: r.sink,
            phone: r.phone,
            code: r.code,
            scopes: request
                .scopes
                .into_iter()
                .filter_map(|(k, v)| Scope::from_parts(&k, v))
                .collect(),
            kinds: request.kinds,
            locale: request.locale,
            quiet: request.quiet,
            attempts: u32::try_from(r.attempts).unwrap_or(u32::MAX),
            expires_at_ms: r.expires_at,
        })
    }
}
