//! WhatsApp sessions: when each number last wrote to a WhatsApp sink (which opens WhatsApp's
//! 24-hour customer-service window) and whether it opted in to notifications. In the store,
//! so every instance sending for the sink sees the same window.

use opt_in::{OPTED_IN, OPTED_OUT};

use super::{Store, StoreError, now_ms};

/// Values of `whatsapp_sessions.opted_in`: a flag, stored as BIGINT 0/1.
mod opt_in {
    /// Asked for notifications.
    pub(super) const OPTED_IN: i64 = 1;
    /// Never asked, or sent STOP.
    pub(super) const OPTED_OUT: i64 = 0;
}

/// What herald knows of one number on one WhatsApp sink.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WhatsAppSession {
    /// The WhatsApp sink instance.
    pub sink: String,
    /// The number, E.164.
    pub phone: String,
    /// When it last wrote (ms), if ever.
    pub last_inbound_at_ms: Option<i64>,
    /// Whether it opted in and has not sent STOP since.
    pub opted_in: bool,
    /// When the row last changed (ms).
    pub updated_at_ms: i64,
}

/// A `whatsapp_sessions` row as selected:
/// `sink, phone, last_inbound_at, opted_in, updated_at`.
#[derive(sqlx::FromRow)]
struct SessionRow {
    sink: String,
    phone: String,
    last_inbound_at: Option<i64>,
    opted_in: i64,
    updated_at: i64,
}

impl From<SessionRow> for WhatsAppSession {
    fn from(r: SessionRow) -> Self {
        Self {
            sink: r.sink,
            phone: r.phone,
            last_inbound_at_ms: r.last_inbound_at,
            opted_in: r.opted_in == OPTED_IN,
            updated_at_ms: r.updated_at,
        }
    }
}

impl Store {
    /// Records that `phone` wrote to the WhatsApp sink `sink` at `at_ms` (its window opens
    /// then); a number seen for the first time has not opted in. The time never goes back: an
    /// earlier time recorded late, or by an instance whose clock is behind, leaves the window
    /// a later message opened as it is.
    ///
    /// # Errors
    /// Database errors.
    pub async fn record_whatsapp_inbound(
        &self,
        sink: &str,
        phone: &str,
        at_ms: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(sql!(
            "INSERT INTO whatsapp_sessions (sink, phone, last_inbound_at, opted_in, updated_at) \
             VALUES ($1, $2, $3, {OPTED_OUT}, $4) ON CONFLICT (sink, phone) DO UPDATE SET \
             last_inbound_at = CASE WHEN whatsapp_sessions.last_inbound_at IS NULL \
             OR excluded.last_inbound_at > whatsapp_sessions.last_inbound_at \
             THEN excluded.last_inbound_at ELSE whatsapp_sessions.last_inbound_at END, \
             updated_at = excluded.updated_at"
        ))
        .bind(sink)
        .bind(phone)
        .bind(at_ms)
        .bind(now_ms())
        .execute(&mut *self.writer().await?)
        .await?;
        Ok(())
    }

    /// Opts `phone` in to the WhatsApp sink `sink`'s notifications, or out (STOP).
    ///
    /// # Errors
    /// Database errors.
    pub async fn set_whatsapp_opt_in(
        &self,
        sink: &str,
        phone: &str,
        opted_in: bool,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO whatsapp_sessions (sink, phone, last_inbound_at, opted_in, updated_at) \
             VALUES ($1, $2, NULL, $3, $4) ON CONFLICT (sink, phone) DO UPDATE SET \
             opted_in = excluded.opted_in, updated_at = excluded.updated_at",
        )
        .bind(sink)
        .bind(phone)
        .bind(if opted_in { OPTED_IN } else { OPTED_OUT })
        .bind(now_ms())
        .execute(&mut *self.writer().await?)
        .await?;
        Ok(())
    }

    /// What is known of `phone` on the WhatsApp sink `sink`; `None` if it never wrote or opted
    /// in.
    ///
    /// # Errors
    /// Database errors.
    pub async fn whatsapp_session(
        &self,
        sink: &str,
        phone: &str,
    ) -> Result<Option<WhatsAppSession>, StoreError> {
        let row: Option<SessionRow> = sqlx::query_as(
            "SELECT sink, phone, last_inbound_at, opted_in, updated_at FROM whatsapp_sessions \
             WHERE sink = $1 AND phone = $2",
        )
        .bind(sink)
        .bind(phone)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(WhatsAppSession::from))
    }
}
