//! Subscriptions and chat preferences: who follows what on which sink, paused or active.

use sink_api::Recipient;

use super::active::{ACTIVE, PAUSED};
use super::{Store, StoreError, now_ms};
use crate::routing::{Scope, Subscription};

/// A subscription as operators list it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscriberRow {
    /// The subscription.
    pub subscription: Subscription,
    /// Whether it delivers (paused by STOP or a gone recipient otherwise).
    pub active: bool,
    /// When it was created (ms).
    pub created_at_ms: i64,
}

impl Store {
    /// Pauses every subscription routing `sink` to `recipient` (the platform says it is gone).
    ///
    /// # Errors
    /// Database errors.
    pub async fn pause_recipient(&self, sink: &str, recipient: &str) -> Result<u64, StoreError> {
        self.set_active(sink, recipient, false).await
    }

    /// Pauses or resumes every subscription routing `sink` to `recipient`; returns how many
    /// changed.
    async fn set_active(
        &self,
        sink: &str,
        recipient: &str,
        active: bool,
    ) -> Result<u64, StoreError> {
        let result = sqlx::query(
            "UPDATE subscriptions SET active = $1, updated_at = $2 WHERE sink = $3 AND recipient = $4 AND active <> $1",
        )
        .bind(if active { ACTIVE } else { PAUSED })
        .bind(now_ms())
        .bind(sink)
        .bind(recipient)
        .execute(&mut *self.writer().await?)
        .await?;
        Ok(result.rows_affected())
    }

    /// Adds or updates a subscription (bot commands and signups use this).
    ///
    /// # Errors
    /// Database errors.
    pub async fn subscribe(&self, sub: &Subscription) -> Result<(), StoreError> {
        let mut conn = self.writer().await?;
        upsert_subscription(&mut conn, sub, now_ms()).await
    }

    /// Removes what `recipient` follows on `sink`: one scope, or everything with `None`.
    /// Returns how many subscriptions were removed.
    ///
    /// # Errors
    /// Database errors.
    pub async fn unsubscribe(
        &self,
        sink: &str,
        recipient: &str,
        scope: Option<&Scope>,
    ) -> Result<u64, StoreError> {
        let result = match scope {
            Some(scope) => {
                let (kind, value) = scope.parts();
                sqlx::query("DELETE FROM subscriptions WHERE sink = $1 AND recipient = $2 AND scope = $3 AND value = $4")
                    .bind(sink)
                    .bind(recipient)
                    .bind(kind)
                    .bind(value)
                    .execute(&mut *self.writer().await?)
                    .await?
            }
            None => {
                sqlx::query("DELETE FROM subscriptions WHERE sink = $1 AND recipient = $2")
                    .bind(sink)
                    .bind(recipient)
                    .execute(&mut *self.writer().await?)
                    .await?
            }
        };
        Ok(result.rows_affected())
    }

    /// What `recipient` follows on `sink` (active subscriptions).
    ///
    /// # Errors
    /// Database errors.
    pub async fn subscriptions_of(
        &self,
        sink: &str,
        recipient: &str,
    ) -> Result<Vec<Subscription>, StoreError> {
        let rows = sqlx::query_as(sql!(
            "SELECT sink, recipient, scope, value, kinds, locale FROM subscriptions \
             WHERE sink = $1 AND recipient = $2 AND active = {ACTIVE} ORDER BY id"
        ))
        .bind(sink)
        .bind(recipient)
        .fetch_all(&self.pool)
        .await?;
        Ok(SubscriptionRow::valid(rows))
    }

    /// The locale `recipient`'s subscriptions on `sink` use, paused ones included, if any.
    ///
    /// # Errors
    /// Database errors.
    pub async fn subscriber_locale(
        &self,
        sink: &str,
        recipient: &str,
    ) -> Result<Option<String>, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT locale FROM subscriptions WHERE sink = $1 AND recipient = $2 \
             AND locale IS NOT NULL ORDER BY id LIMIT 1",
        )
        .bind(sink)
        .bind(recipient)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// The locale a chat chose with `lang`, if it did.
    ///
    /// # Errors
    /// Database errors.
    pub async fn chat_locale(
        &self,
        sink: &str,
        recipient: &str,
    ) -> Result<Option<String>, StoreError> {
        let locale: Option<Option<String>> =
            sqlx::query_scalar("SELECT locale FROM chats WHERE sink = $1 AND recipient = $2")
                .bind(sink)
                .bind(recipient)
                .fetch_optional(&self.pool)
                .await?;
        Ok(locale.flatten())
    }

    /// Records a chat's locale and applies it to everything the chat follows.
    ///
    /// # Errors
    /// Database errors.
    pub async fn set_chat_locale(
        &self,
        sink: &str,
        recipient: &str,
        locale: &str,
    ) -> Result<(), StoreError> {
        let now = now_ms();
        let mut conn = self.writer().await?;
        let mut tx = super::begin(&mut conn, self.backend).await?;
        sqlx::query(
            "INSERT INTO chats (sink, recipient, locale, updated_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (sink, recipient) DO UPDATE SET locale = excluded.locale, updated_at = excluded.updated_at",
        )
        .bind(sink)
        .bind(recipient)
        .bind(locale)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        sqlx::query("UPDATE subscriptions SET locale = $1, updated_at = $2 WHERE sink = $3 AND recipient = $4")
            .bind(locale)
            .bind(now)
            .bind(sink)
            .bind(recipient)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Active subscriptions of `sink`.
    ///
    /// # Errors
    /// Database errors.
    pub async fn subscriptions(&self, sink: &str) -> Result<Vec<Subscription>, StoreError> {
        let rows = sqlx::query_as(sql!(
            "SELECT sink, recipient, scope, value, kinds, locale FROM subscriptions \
             WHERE sink = $1 AND active = {ACTIVE} ORDER BY id"
        ))
        .bind(sink)
        .fetch_all(&self.pool)
        .await?;
        Ok(SubscriptionRow::valid(rows))
    }

    /// Reactivates every subscription routing `sink` to `recipient` (START after STOP).
    /// Returns how many.
    ///
    /// # Errors
    /// Database errors.
    pub async fn resume_recipient(&self, sink: &str, recipient: &str) -> Result<u64, StoreError> {
        self.set_active(sink, recipient, true).await
    }

    /// Every subscription, active or paused, of one sink or of all, for operators.
    ///
    /// # Errors
    /// Database errors.
    pub async fn subscriber_rows(
        &self,
        sink: Option<&str>,
    ) -> Result<Vec<SubscriberRow>, StoreError> {
        let rows: Vec<StoredSubscriber> = sqlx::query_as(
            "SELECT sink, recipient, scope, value, kinds, locale, active, created_at FROM subscriptions \
             WHERE $1 = '' OR sink = $1 ORDER BY sink, recipient, id",
        )
        .bind(sink.unwrap_or(""))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .filter_map(|r| SubscriberRow::try_from(r).ok())
            .collect())
    }
}

/// Adds or reactivates a subscription, updating its kinds and locale.
pub(super) async fn upsert_subscription(
    conn: &mut sqlx::AnyConnection,
    sub: &Subscription,
    now: i64,
) -> Result<(), StoreError> {
    let (scope, value) = sub.scope.parts();
    sqlx::query(sql!(
        "INSERT INTO subscriptions (sink, recipient, scope, value, kinds, locale, active, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, {ACTIVE}, $7, $7) \
         ON CONFLICT (sink, recipient, scope, value) DO UPDATE SET kinds = excluded.kinds, \
         locale = excluded.locale, active = {ACTIVE}, updated_at = excluded.updated_at"
    ))
    .bind(&sub.sink)
    .bind(sub.recipient.as_str())
    .bind(scope)
    .bind(value)
    .bind(sub.kinds.join(","))
    .bind(&sub.locale)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// A `subscriptions` row as selected: `sink, recipient, scope, value, kinds, locale`.
#[derive(sqlx::FromRow)]
pub(super) struct SubscriptionRow {
    sink: String,
    recipient: String,
    scope: String,
    value: String,
    /// Comma-separated, empty for all.
    kinds: String,
    locale: Option<String>,
}

impl SubscriptionRow {
    /// The subscriptions of `rows`, skipping scopes this version does not know.
    pub(super) fn valid(rows: Vec<Self>) -> Vec<Subscription> {
        rows.into_iter()
            .filter_map(|r| Subscription::try_from(r).ok())
            .collect()
    }
}

/// A stored scope kind this version does not know (written by a newer one?).
#[derive(Debug)]
pub(super) struct UnknownScope;

impl TryFrom<SubscriptionRow> for Subscription {
    type Error = UnknownScope;

    fn try_from(r: SubscriptionRow) -> Result<Self, UnknownScope> {
        Ok(Self {
            scope: Scope::from_parts(&r.scope, r.value).ok_or(UnknownScope)?,
            sink: r.sink,
            recipient: Recipient::new(r.recipient),
            kinds: r
                .kinds
                .split(',')
                .filter(|k| !k.is_empty())
                .map(str::to_owned)
                .collect(),
            locale: r.locale,
        })
    }
}

/// A subscription as operators list it: the subscription's columns, then
/// `active, created_at`.
#[derive(sqlx::FromRow)]
struct StoredSubscriber {
    #[sqlx(flatten)]
    subscription: SubscriptionRow,
    active: i64,
    created_at: i64,
}

impl TryFrom<StoredSubscriber> for SubscriberRow {
    type Error = UnknownScope;

    fn try_from(r: StoredSubscriber) -> Result<Self, UnknownScope> {
        Ok(Self {
            subscription: r.subscription.try_into()?,
            active: r.active == ACTIVE,
            created_at_ms: r.created_at,
        })
    }
}
