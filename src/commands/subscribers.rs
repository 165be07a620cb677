//! `herald subscribers`: operators list, add, remove and export subscribers (SMS numbers,
//! chats) without going through signup.

use anyhow::Context as _;
use sink_api::Recipient;

use crate::config::Config;
use crate::routing::{Scope, Subscription};
use crate::store::{Store, SubscriberRow};
use crate::targets::{Resolved, kind_word, resolve};

/// What `herald subscribers` should do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SubscribersAction {
    /// Print every subscription, one per line.
    List,
    /// Subscribe a recipient, active at once (the operator vouches for consent).
    Add {
        /// A phone number (SMS sinks) or a chat id.
        recipient: String,
        /// Teams or competitions to follow; none for everything.
        follow: Vec<String>,
        /// Kinds or groups; none for all.
        kinds: Vec<String>,
        /// Locale of its notifications.
        locale: Option<String>,
    },
    /// Remove every subscription of a recipient.
    Remove {
        /// A phone number or a chat id.
        recipient: String,
    },
    /// Print every subscription as CSV.
    Export,
}

/// The sink the command is about: the one named, or the only SMS sink.
fn sink_id(config: &Config, named: Option<&str>) -> anyhow::Result<String> {
    if let Some(id) = named {
        anyhow::ensure!(
            config.sinks.contains_key(id),
            "no sink `{id}` in the configuration (configured: {})",
            config.sinks.keys().cloned().collect::<Vec<_>>().join(", ")
        );
        return Ok(id.to_owned());
    }
    let sms: Vec<&String> = config
        .sinks
        .iter()
        .filter(|(_, s)| s.kind() == "twilio")
        .map(|(id, _)| id)
        .collect();
    match sms.as_slice() {
        [one] => Ok((*one).clone()),
        [] => anyhow::bail!("no twilio sink is configured; name the sink with --sink"),
        _ => anyhow::bail!("several twilio sinks are configured; name one with --sink"),
    }
}

/// A recipient as the sink addresses it: SMS numbers in E.164.
fn address(config: &Config, sink: &str, typed: &str) -> anyhow::Result<String> {
    #[cfg(feature = "twilio")]
    if let Some(c) = config
        .sinks
        .get(sink)
        .and_then(|s| s.settings::<sink_twilio::Config>())
    {
        let phone = sink_twilio::phone::normalize(typed, c.signup.default_country.as_deref())?;
        return Ok(phone.e164);
    }
    let _ = (config, sink);
    let typed = typed.trim();
    anyhow::ensure!(!typed.is_empty(), "the recipient must not be empty");
    Ok(typed.to_owned())
}

/// `herald subscribers …`.
///
/// # Errors
/// Bad input (unknown sink, team, kind, locale, number), or a store that cannot be reached.
pub async fn subscribers(
    config: &Config,
    sink: Option<&str>,
    action: SubscribersAction,
) -> anyhow::Result<String> {
    let store = super::open_store(config).await?;
    let result = run(config, &store, sink, action).await;
    store.close().await;
    result
}

async fn run(
    config: &Config,
    store: &Store,
    sink: Option<&str>,
    action: SubscribersAction,
) -> anyhow::Result<String> {
    let mut out = String::new();
    match action {
        SubscribersAction::List => {
            let rows = store.subscriber_rows(sink).await?;
            if rows.is_empty() {
                out.push_str("no subscribers\n");
            }
            for row in rows {
                let [sink, recipient, scope, value, kinds, locale, state, created] = fields(&row);
                out.push_str(&format!(
                    "{sink:<10} {recipient:<16} {scope:<11} {value:<24} {kinds:<16} {locale:<6} {state:<6} {created}\n"
                ));
            }
        }
        SubscribersAction::Export => {
            out.push_str("sink,recipient,scope,value,kinds,locale,status,created_at\n");
            for row in store.subscriber_rows(sink).await? {
                let cells: Vec<String> = fields(&row).iter().map(|f| csv(f)).collect();
                out.push_str(&cells.join(","));
                out.push('\n');
            }
        }
        SubscribersAction::Add {
            recipient,
            follow,
            kinds,
            locale,
        } => {
            let sink = sink_id(config, sink)?;
            let recipient = address(config, &sink, &recipient)?;
            let kinds = kinds
                .iter()
                .map(|k| kind_word(k).with_context(|| format!("unknown kind `{k}`")))
                .collect::<anyhow::Result<Vec<_>>>()?;
            if let Some(l) = &locale {
                anyhow::ensure!(
                    crate::render::LOCALES.contains(&l.as_str()),
                    "unknown locale `{l}` (available: {})",
                    crate::render::LOCALES.join(", ")
                );
            }
            let mut scopes = Vec::new();
            for typed in &follow {
                match resolve(store, typed).await? {
                    Resolved::Scope(scope) => scopes.push(scope),
                    Resolved::Phone => anyhow::bail!("`{typed}` is a phone number, not a team"),
                    Resolved::Unknown(suggestions) => anyhow::bail!(
                        "unknown team or competition `{typed}`{}",
                        if suggestions.is_empty() {
                            String::new()
                        } else {
                            format!(" (did you mean {}?)", suggestions.join(", "))
                        }
                    ),
                }
            }
            if scopes.is_empty() {
                scopes.push(Scope::All);
            }
            for scope in scopes {
                store
                    .subscribe(&Subscription {
                        sink: sink.clone(),
                        recipient: Recipient::new(&recipient),
                        scope,
                        kinds: kinds.clone(),
                        locale: locale.clone(),
                    })
                    .await?;
            }
            out.push_str(&format!("{recipient} subscribed on {sink}\n"));
        }
        SubscribersAction::Remove { recipient } => {
            let sink = sink_id(config, sink)?;
            let recipient = address(config, &sink, &recipient)?;
            let removed = store.unsubscribe(&sink, &recipient, None).await?;
            anyhow::ensure!(removed > 0, "{recipient} has no subscriptions on {sink}");
            out.push_str(&format!(
                "{recipient}: {removed} subscription(s) removed from {sink}\n"
            ));
        }
    }
    Ok(out)
}

fn fields(row: &SubscriberRow) -> [String; 8] {
    let s = &row.subscription;
    let (scope, value) = s.scope.parts();
    [
        s.sink.clone(),
        s.recipient.to_string(),
        scope.to_owned(),
        value.to_owned(),
        s.kinds.join(" "),
        s.locale.clone().unwrap_or_default(),
        if row.active { "active" } else { "paused" }.to_owned(),
        super::rfc3339(row.created_at_ms),
    ]
}

/// A CSV cell (RFC 4180): quoted when it holds a comma, a quote or a line break.
fn csv(cell: &str) -> String {
    if cell.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", cell.replace('"', "\"\""))
    } else {
        cell.to_owned()
    }
}
