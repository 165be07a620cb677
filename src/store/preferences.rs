//! Recipients' delivery preferences (`chats`: quiet hours, spoilers, mode) and their live
//! tickers (`tickers`): the one message per match a ticker chat sees edited.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::bulk::{self, Column, per_backend};
use super::status::PENDING;
use super::{Store, StoreError, now_ms};
use crate::model::Score;
use crate::preferences::{Mode, Prefs, Quiet};

/// A `chats` row's preferences, as selected.
#[derive(sqlx::FromRow)]
struct PrefsRow {
    recipient: String,
    quiet: Option<String>,
    spoilers: i64,
    mode: String,
}

impl PrefsRow {
    /// The preferences; a stored value herald cannot read (a zone the database no longer
    /// has) counts as not chosen, and is logged.
    fn prefs(self) -> Prefs {
        let quiet = self.quiet.as_deref().and_then(|json| {
            serde_json::from_str::<Quiet>(json)
                .map_err(|e| tracing::warn!(error = %e, "unreadable quiet hours ignored"))
                .ok()
        });
        Prefs {
            quiet,
            spoilers: self.spoilers != 0,
            mode: Mode::parse(&self.mode).unwrap_or_default(),
        }
    }
}

/// A choice kept in its own `chats` column.
#[derive(Debug, Clone, Copy)]
enum Choice {
    Spoilers(bool),
    Mode(Mode),
}

/// A chat's live ticker for one match.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Ticker {
    /// The platform's id of the ticker message, once posted.
    pub receipt: Option<String>,
    /// What it shows.
    pub state: TickerState,
    /// When it was last posted or edited (ms); 0 for a new ticker.
    pub updated_at_ms: i64,
}

/// What a ticker shows (stored as JSON).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct TickerState {
    /// The score after the last event that had one.
    #[serde(default)]
    pub score: Option<Score>,
    /// The match is over.
    #[serde(default)]
    pub finished: bool,
    /// The latest events' lines, oldest first.
    #[serde(default)]
    pub lines: Vec<String>,
}

#[derive(sqlx::FromRow)]
struct TickerRow {
    receipt: Option<String>,
    state: String,
    updated_at: i64,
}

impl Store {
    /// The preferences of each of `recipients` of `sink` that chose any (the others have the
    /// defaults), in one statement.
    ///
    /// # Errors
    /// Database errors.
    pub async fn prefs_of(
        &self,
        sink: &str,
        recipients: &[&str],
    ) -> Result<HashMap<String, Prefs>, StoreError> {
        if recipients.is_empty() {
            return Ok(HashMap::new());
        }
        let statement = per_backend!(|backend| format!(
            "SELECT recipient, quiet, spoilers, mode FROM chats WHERE sink = $1 \
             AND recipient IN (SELECT c0 FROM ({}) AS r)",
            bulk::rows(backend, 2, &[Column::Text])
        ));
        let wanted: Vec<(&str,)> = recipients.iter().map(|r| (*r,)).collect();
        let rows: Vec<PrefsRow> = sqlx::query_as(statement.get(self.backend))
            .bind(sink)
            .bind(bulk::json(&wanted))
            .fetch_all(&self.pool)
            .await?;
        Ok(rows
            .into_iter()
            .map(|r| (r.recipient.clone(), r.prefs()))
            .collect())
    }

    /// One recipient's preferences (the defaults when it chose nothing).
    ///
    /// # Errors
    /// Database errors.
    pub async fn prefs(&self, sink: &str, recipient: &str) -> Result<Prefs, StoreError> {
        Ok(self
            .prefs_of(sink, &[recipient])
            .await?
            .remove(recipient)
            .unwrap_or_default())
    }

    /// Sets or clears a recipient's quiet hours. Clearing them lets what was held for the
    /// digest go now.
    ///
    /// # Errors
    /// Database errors.
    pub async fn set_quiet(
        &self,
        sink: &str,
        recipient: &str,
        quiet: Option<&Quiet>,
    ) -> Result<(), StoreError> {
        let now = now_ms();
        let mut conn = self.writer().await?;
        let mut tx = super::begin(&mut conn, self.backend).await?;
        if let Some(quiet) = quiet {
            upsert_quiet(&mut tx, sink, recipient, quiet, now).await?;
        } else {
            sqlx::query(
                "UPDATE chats SET quiet = NULL, updated_at = $1 WHERE sink = $2 AND recipient = $3",
            )
            .bind(now)
            .bind(sink)
            .bind(recipient)
            .execute(&mut *tx)
            .await?;
            // The head of the recipient's queue may be waiting for the end of the window.
            sqlx::query(sql!(
                "UPDATE outbox SET next_attempt_at = $1, updated_at = $1 WHERE sink = $2 \
                 AND recipient = $3 AND status = {PENDING} AND next_attempt_at > $1 \
                 AND last_error LIKE 'held:%'"
            ))
            .bind(now)
            .bind(sink)
            .bind(recipient)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Sets whether a recipient's texts may give the score away.
    ///
    /// # Errors
    /// Database errors.
    pub async fn set_spoilers(
        &self,
        sink: &str,
        recipient: &str,
        shown: bool,
    ) -> Result<(), StoreError> {
        self.choose(sink, recipient, Choice::Spoilers(shown)).await
    }

    /// Sets how a chat gets match events.
    ///
    /// # Errors
    /// Database errors.
    pub async fn set_mode(
        &self,
        sink: &str,
        recipient: &str,
        mode: Mode,
    ) -> Result<(), StoreError> {
        self.choose(sink, recipient, Choice::Mode(mode)).await
    }

    /// Records one choice of a recipient, leaving the others as they are.
    async fn choose(&self, sink: &str, recipient: &str, choice: Choice) -> Result<(), StoreError> {
        let statement = match choice {
            Choice::Spoilers(_) => {
                "INSERT INTO chats (sink, recipient, spoilers, updated_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (sink, recipient) DO UPDATE SET spoilers = excluded.spoilers, \
                 updated_at = excluded.updated_at"
            }
            Choice::Mode(_) => {
                "INSERT INTO chats (sink, recipient, mode, updated_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (sink, recipient) DO UPDATE SET mode = excluded.mode, \
                 updated_at = excluded.updated_at"
            }
        };
        let query = sqlx::query(statement).bind(sink).bind(recipient);
        let query = match choice {
            Choice::Spoilers(shown) => query.bind(i64::from(shown)),
            Choice::Mode(mode) => query.bind(mode.as_str()),
        };
        query
            .bind(now_ms())
            .execute(&mut *self.writer().await?)
            .await?;
        Ok(())
    }

    /// A chat's ticker for a match (a new, empty one when there is none).
    ///
    /// # Errors
    /// Database errors.
    pub async fn ticker(
        &self,
        sink: &str,
        recipient: &str,
        match_id: &str,
    ) -> Result<Ticker, StoreError> {
        let row: Option<TickerRow> = sqlx::query_as(
            "SELECT receipt, state, updated_at FROM tickers \
             WHERE sink = $1 AND recipient = $2 AND match_id = $3",
        )
        .bind(sink)
        .bind(recipient)
        .bind(match_id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map_or_else(Ticker::default, |r| Ticker {
            receipt: r.receipt,
            state: serde_json::from_str(&r.state).unwrap_or_default(),
            updated_at_ms: r.updated_at,
        }))
    }

    /// Records what a chat's ticker for a match now shows, and where.
    ///
    /// # Errors
    /// Database errors.
    pub async fn save_ticker(
        &self,
        sink: &str,
        recipient: &str,
        match_id: &str,
        ticker: &Ticker,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO tickers (sink, recipient, match_id, receipt, state, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (sink, recipient, match_id) DO UPDATE \
             SET receipt = excluded.receipt, state = excluded.state, \
             updated_at = excluded.updated_at",
        )
        .bind(sink)
        .bind(recipient)
        .bind(match_id)
        .bind(ticker.receipt.as_deref())
        .bind(serde_json::to_string(&ticker.state).unwrap_or_default())
        .bind(ticker.updated_at_ms)
        .execute(&mut *self.writer().await?)
        .await?;
        Ok(())
    }

    /// Holds delivery `id` until `until_ms` without counting an attempt: quiet hours, or a
    /// ticker edit waiting for its pace. `why` is recorded as `held: <why>`.
    ///
    /// # Errors
    /// Database errors.
    pub async fn hold(&self, id: i64, until_ms: i64, why: &str) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE outbox SET next_attempt_at = $1, last_error = $2, updated_at = $3 \
             WHERE id = $4",
        )
        .bind(until_ms)
        .bind(format!("held: {why}"))
        .bind(now_ms())
        .bind(id)
        .execute(&mut *self.writer().await?)
        .await?;
        Ok(())
    }
}

/// Sets a recipient's quiet hours inside a transaction (a chat command, an SMS signup).
pub(super) async fn upsert_quiet(
    conn: &mut sqlx::AnyConnection,
    sink: &str,
    recipient: &str,
    quiet: &Quiet,
    now: i64,
) -> Result<(), StoreError> {
    let json = serde_json::to_string(quiet).map_err(|source| StoreError::Corrupt {
        what: "quiet hours",
        source,
    })?;
    sqlx::query(
        "INSERT INTO chats (sink, recipient, quiet, updated_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (sink, recipient) DO UPDATE SET quiet = excluded.quiet, \
         updated_at = excluded.updated_at",
    )
    .bind(sink)
    .bind(recipient)
    .bind(json)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}
