//! WhatsApp subscribers: what they write to the sender through Twilio's signed webhook
//! (`subscribe <team>` and every other chat command, STOP, START, HELP), the opt-in it records,
//! and the 24-hour customer-service window each message opens. Both live in the store, so the
//! WhatsApp sink of every instance reads the same (through [`sink_twilio::Sessions`]). The sink
//! delivers; this module decides who may receive, and whether as free-form text.
//!
//! Subscribing from WhatsApp is itself the opt-in (the number wrote to us and asked), as is
//! START; STOP opts out and pauses what the number follows. A keyword is the whole message
//! (`unsubscribe France` is a command, not STOP). Anything else is a chat command answered by
//! the subscriptions service, as on Telegram or Slack. What a number that never opted in
//! follows is paused at its first notification (the sink reports it gone); START resumes it.
//! A delivery report of a failed message makes its delivery a dead letter.

mod extension;
mod http;

use std::sync::Arc;

use sink_api::{Command as Incoming, Commands, Recipient};
use sink_twilio::keywords::{self, Keyword};
use sink_twilio::whatsapp::SessionFuture;
use sink_twilio::{Session, Sessions, WhatsAppSink, phone};

pub use extension::Extension;
pub use http::router;

use crate::dispatch::error_chain;
use crate::render::{Renderer, SmsText};
use crate::store::{Store, StoreError, now_ms};
use crate::subscriptions::{Command, parse};

/// The inbound side of the WhatsApp sink `sink_id`.
pub struct Inbound {
    store: Store,
    sink_id: String,
    whatsapp: WhatsAppSink,
    /// The subscriptions service of the sink instance: chat commands and their replies.
    commands: Commands,
    /// The STOP, START and HELP texts' templates.
    renderer: Arc<Renderer>,
}

impl std::fmt::Debug for Inbound {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inbound")
            .field("sink_id", &self.sink_id)
            .finish_non_exhaustive()
    }
}

/// The number a message is from: `From` (`whatsapp:+14155552671`), else `WaId`
/// (`14155552671`); `None` when neither is a phone number.
fn sender(from: &str, wa_id: &str) -> Option<String> {
    let from = sink_twilio::whatsapp::number(from.trim());
    phone::normalize(from, None)
        .or_else(|_| phone::normalize(&format!("+{}", wa_id.trim()), None))
        .ok()
        .map(|p| p.e164)
}

impl Inbound {
    /// The inbound side of the sink `sink_id`, delivering through `whatsapp`, answering
    /// commands with `commands` and keywords from `renderer`'s texts.
    pub fn new(
        store: Store,
        sink_id: &str,
        whatsapp: WhatsAppSink,
        commands: Commands,
        renderer: Arc<Renderer>,
    ) -> Self {
        Self {
            store,
            sink_id: sink_id.to_owned(),
            whatsapp,
            commands,
            renderer,
        }
    }

    /// The sink (for webhook signatures).
    pub(crate) fn whatsapp(&self) -> &WhatsAppSink {
        &self.whatsapp
    }

    /// Handles what a number wrote (`from` and `wa_id` as Twilio posts them); returns the reply.
    /// The message's time is recorded first: it opens the window whatever it says.
    ///
    /// # Errors
    /// Store failures (Twilio then retries the webhook).
    pub async fn message(
        &self,
        from: &str,
        wa_id: &str,
        body: &str,
    ) -> Result<Option<String>, StoreError> {
        let Some(number) = sender(from, wa_id) else {
            tracing::warn!(sink = %self.sink_id, "a WhatsApp message from no phone number; ignored");
            return Ok(None);
        };
        let sink = self.sink_id.as_str();
        let masked = phone::mask(&number);
        self.store
            .record_whatsapp_inbound(sink, &number, now_ms())
            .await?;
        match keywords::keyword(body) {
            Some(Keyword::Stop) => {
                // Opted out first: nothing is sent even if pausing fails.
                self.store.set_whatsapp_opt_in(sink, &number, false).await?;
                let paused = self.store.pause_recipient(sink, &number).await?;
                tracing::info!(sink, phone = %masked, paused, "WhatsApp subscriber opted out");
                Ok(self.say(&SmsText::Stopped, &number).await?)
            }
            Some(Keyword::Start) => {
                self.store.set_whatsapp_opt_in(sink, &number, true).await?;
                let resumed = self.store.resume_recipient(sink, &number).await?;
                tracing::info!(sink, phone = %masked, resumed, "WhatsApp subscriber opted in");
                if resumed > 0 {
                    Ok(self.say(&SmsText::Resumed, &number).await?)
                } else {
                    Ok(Some(self.command(&number, "help").await))
                }
            }
            Some(Keyword::Help) => {
                let commands = self.command(&number, "help").await;
                let keywords = self.say(&SmsText::Help, &number).await?;
                Ok(Some(match keywords {
                    Some(keywords) => format!("{commands}\n\n{keywords}"),
                    None => commands,
                }))
            }
            None => {
                if matches!(parse(body), Ok(Command::Subscribe { .. })) {
                    self.store.set_whatsapp_opt_in(sink, &number, true).await?;
                    tracing::info!(sink, phone = %masked, "WhatsApp subscriber opted in by subscribing");
                }
                Ok(Some(self.command(&number, body).await))
            }
        }
    }

    /// The subscriptions service's answer to `text` from `number`'s chat.
    async fn command(&self, number: &str, text: &str) -> String {
        self.commands
            .handle(Incoming {
                chat: Recipient::new(number),
                user: None,
                text: text.to_owned(),
                language: None,
            })
            .await
            .text
    }

    /// `text` in the locale `number` chose (`lang`) or subscribed in, else the default; `None`
    /// (logged) if its template fails.
    async fn say(&self, text: &SmsText, number: &str) -> Result<Option<String>, StoreError> {
        let sink = self.sink_id.as_str();
        let locale = match self.store.chat_locale(sink, number).await? {
            Some(locale) => locale,
            None => self
                .store
                .subscriber_locale(sink, number)
                .await?
                .unwrap_or_else(|| self.renderer.default_locale().to_owned()),
        };
        Ok(match self.renderer.text(text, &locale) {
            Ok(said) => Some(said),
            Err(e) => {
                tracing::error!(error = %error_chain(&e), "cannot render a WhatsApp text");
                None
            }
        })
    }

    /// Records a delivery report of a failed message (`status` `failed` or `undelivered`,
    /// Twilio's `ErrorCode` `code`, the message `sid` the delivery's receipt): the delivery
    /// becomes a dead letter; a number that cannot get WhatsApp messages is paused too. A
    /// free-form message WhatsApp refused because the window had closed (63016) says so.
    ///
    /// # Errors
    /// Store failures (Twilio then retries the report).
    pub async fn delivery_failed(
        &self,
        to: &str,
        status: &str,
        code: &str,
        sid: &str,
    ) -> Result<(), StoreError> {
        let number = sink_twilio::whatsapp::number(to);
        let masked = phone::mask(number);
        let undeliverable = sink_twilio::webhook::undeliverable(code);
        let window_closed = sink_twilio::webhook::outside_window(code);
        let error = if window_closed {
            format!(
                "WhatsApp refused the free-form message: the number's 24-hour window had closed \
                 (Twilio {status}, error {code}); the template was not sent"
            )
        } else if undeliverable {
            format!(
                "Twilio reported the message {status} (error {code}): the number cannot get \
                 WhatsApp messages"
            )
        } else {
            format!("Twilio reported the message {status} (error {code})")
        };
        let recorded = !sid.is_empty()
            && self
                .store
                .dead_after_delivery(&self.sink_id, number, sid, &error)
                .await?;
        if window_closed {
            tracing::warn!(phone = %masked, code, recorded, "WhatsApp refused a free-form message outside the 24-hour window; a dead letter");
        } else if !undeliverable {
            tracing::info!(phone = %masked, code, recorded, "a WhatsApp message was not delivered");
        }
        if !undeliverable {
            return Ok(());
        }
        let paused = self.store.pause_recipient(&self.sink_id, number).await?;
        tracing::warn!(phone = %masked, code, recorded, paused, "number cannot get WhatsApp messages; subscriber paused");
        Ok(())
    }
}

/// The store's record of a WhatsApp sink's numbers, as the sink reads it.
#[derive(Debug)]
struct StoreSessions {
    store: Store,
    sink: String,
}

impl Sessions for StoreSessions {
    fn session<'a>(&'a self, phone: &'a str) -> SessionFuture<'a> {
        Box::pin(async move {
            let row = self.store.whatsapp_session(&self.sink, phone).await?;
            Ok(row.map(|r| Session {
                opted_in: r.opted_in,
                last_inbound_at_ms: r.last_inbound_at_ms,
            }))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::sender;

    #[test]
    fn the_sender_is_from_or_else_the_whatsapp_id() {
        assert_eq!(
            sender("whatsapp:+14155552671", "14155552671").as_deref(),
            Some("+14155552671")
        );
        assert_eq!(
            sender("", "5511987654321").as_deref(),
            Some("+5511987654321")
        );
        assert_eq!(sender("whatsapp:abc", ""), None);
    }
}
