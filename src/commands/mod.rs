//! What the CLI subcommands do, apart from parsing arguments (`main.rs`) and running the
//! service (`app.rs`).

mod ingest;
mod messages;
mod remote;
#[cfg(feature = "console")]
mod replay;
mod status;
mod subscribers;

use anyhow::Context as _;
use secrecy::ExposeSecret;

use crate::config::Config;
use crate::store::Store;

pub use ingest::ingest;
pub use messages::{MessagesAction, SendArgs, messages};
pub use remote::Remote;
#[cfg(feature = "console")]
pub use replay::replay;
pub use status::status;
pub use subscribers::{SubscribersAction, subscribers};

/// Appends one line of output.
fn line(out: &mut String, text: std::fmt::Arguments<'_>) {
    out.push_str(&text.to_string());
    out.push('\n');
}

/// `herald check-config`: a summary of what would run, secrets redacted.
pub fn describe(config: &Config) -> String {
    let mut out = String::new();
    line(&mut out, format_args!("configuration is valid"));
    if config.http.enabled {
        let mut tokens: Vec<String> = config
            .http
            .admin_token
            .iter()
            .filter(|t| !t.expose_secret().is_empty())
            .map(|_| format!("{}: all scopes", crate::http::auth::ADMIN))
            .collect();
        tokens.extend(config.http.tokens.iter().map(|t| {
            let scopes: Vec<&str> = t.scopes.iter().map(|s| s.as_str()).collect();
            format!("{}: {}", t.name.trim(), scopes.join(", "))
        }));
        let api = if tokens.is_empty() {
            "API disabled: no http.admin_token or http.tokens".to_owned()
        } else {
            format!("API tokens {}", tokens.join("; "))
        };
        line(
            &mut out,
            format_args!("http:    {} ({api})", config.http.listen),
        );
    } else {
        line(&mut out, format_args!("http:    disabled"));
    }
    line(
        &mut out,
        format_args!("store:   {}", config.store.redacted_url()),
    );
    for (id, source) in &config.sources {
        line(
            &mut out,
            format_args!(
                "source:  {id} ({}) {}",
                source.kind(),
                source.spec.describe()
            ),
        );
    }
    for (id, sink) in &config.sinks {
        let kind = sink.kind();
        let locale = sink
            .route
            .locale
            .as_deref()
            .unwrap_or(&config.render.default_locale);
        let detail = sink.spec.describe();
        let detail = if detail.is_empty() {
            String::new()
        } else {
            format!(" {detail}")
        };
        line(
            &mut out,
            format_args!("sink:    {id} ({kind}, {locale}){detail}"),
        );
    }
    out
}

/// `herald migrate`: applies pending migrations.
///
/// # Errors
/// When the store cannot be reached or a migration fails.
pub async fn migrate(config: &Config) -> anyhow::Result<usize> {
    let store = connect(config).await?;
    let applied = store.migrate().await.context("migration failed")?;
    store.close().await;
    Ok(applied)
}

async fn connect(config: &Config) -> anyhow::Result<Store> {
    Store::connect(&config.store)
        .await
        .with_context(|| format!("cannot open the store at {}", config.store.redacted_url()))
}

/// The store, connected and migrated, for the commands that read or change it.
async fn open_store(config: &Config) -> anyhow::Result<Store> {
    let store = connect(config).await?;
    store.migrate().await.context("migration failed")?;
    Ok(store)
}

/// Milliseconds since the epoch as an RFC 3339 time, empty when out of range.
fn rfc3339(ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(ms / 1000)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

/// What `herald dead-letters` should do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeadLetterAction {
    /// List the newest `limit`.
    List {
        /// How many.
        limit: i64,
    },
    /// Queue one again.
    Retry(i64),
    /// Queue all again.
    RetryAll,
}

/// `herald dead-letters`: lists or re-queues deliveries that were given up on.
///
/// # Errors
/// When the store cannot be reached.
pub async fn dead_letters(config: &Config, action: DeadLetterAction) -> anyhow::Result<String> {
    let store = open_store(config).await?;
    let mut out = String::new();
    match action {
        DeadLetterAction::List { limit } => {
            let dead = store.dead_letters(limit).await?;
            if dead.is_empty() {
                out.push_str("no dead letters\n");
            }
            for d in dead {
                let at = rfc3339(d.updated_at_ms);
                line(
                    &mut out,
                    format_args!(
                        "#{:<6} {at}  {} → {}  {} ({})  after {} attempt(s): {}",
                        d.id,
                        d.sink,
                        d.recipient,
                        d.kind,
                        d.event_id,
                        d.attempts,
                        d.last_error.unwrap_or_default()
                    ),
                );
            }
        }
        DeadLetterAction::Retry(id) => {
            let n = store.requeue_dead(Some(id)).await?;
            anyhow::ensure!(n == 1, "no dead letter #{id}");
            line(&mut out, format_args!("dead letter #{id} queued again"));
        }
        DeadLetterAction::RetryAll => {
            let n = store.requeue_dead(None).await?;
            line(&mut out, format_args!("{n} dead letter(s) queued again"));
        }
    }
    store.close().await;
    Ok(out)
}
