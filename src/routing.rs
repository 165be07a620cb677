//! Which sink instances and recipients get an event, in which locale. Pure: the store calls it
//! inside the transaction that records the event, with the subscriptions it just read.

use sink_api::{Delivery, Recipient};

use crate::config::RouteConfig;
use crate::model::{Event, EventKind};
use crate::teams;

/// One sink instance's routing: its filter and its configured recipients.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// The sink instance id (`[sinks.<id>]`).
    pub sink: String,
    /// What the configured recipients receive.
    pub filter: Filter,
    /// Recipients from the sink's own config (broadcast, fixed channels).
    pub recipients: Vec<Recipient>,
    /// Locale for the configured recipients.
    pub locale: String,
    /// Whether the sink's deliveries are sent once, by one instance, or served by every one.
    pub delivery: Delivery,
}

impl Route {
    /// The route of sink `sink` from its `[sinks.<id>]` keys.
    pub fn new(
        sink: &str,
        config: &RouteConfig,
        recipients: Vec<Recipient>,
        default_locale: &str,
    ) -> Self {
        Self {
            sink: sink.to_owned(),
            filter: Filter::from_config(config),
            recipients,
            locale: config
                .locale
                .clone()
                .unwrap_or_else(|| default_locale.to_owned()),
            delivery: Delivery::PointToPoint,
        }
    }

    /// The same route for a sink delivered as `delivery` says.
    #[must_use]
    pub fn with_delivery(mut self, delivery: Delivery) -> Self {
        self.delivery = delivery;
        self
    }
}

/// A filter over events; every non-empty list must match.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    kinds: Vec<String>,
    teams: Vec<String>,
    competitions: Vec<String>,
    matches: Vec<String>,
}

impl Filter {
    /// The filter of a sink's routing keys.
    pub fn from_config(c: &RouteConfig) -> Self {
        Self {
            kinds: c.kinds.clone(),
            teams: lower(&c.teams),
            competitions: lower(&c.competitions),
            matches: c.matches.clone(),
        }
    }

    /// Whether `event` passes. Announcements match teams and competitions by their topic.
    pub fn accepts(&self, event: &Event) -> bool {
        let topic = event.topic.as_deref().map(str::to_lowercase);
        let teams: Vec<String> = event.teams().iter().map(|t| t.to_lowercase()).collect();
        kind_matches(&self.kinds, event.kind)
            && (self.teams.is_empty()
                || self
                    .teams
                    .iter()
                    .any(|t| teams.contains(t) || topic.as_ref() == Some(t)))
            && (self.competitions.is_empty()
                || self.competitions.iter().any(|c| {
                    event.competition.as_deref().map(str::to_lowercase).as_ref() == Some(c)
                        || topic.as_ref() == Some(c)
                }))
            && (self.matches.is_empty()
                || event
                    .match_id
                    .as_ref()
                    .is_some_and(|m| self.matches.contains(m)))
    }
}

fn lower(items: &[String]) -> Vec<String> {
    items.iter().map(|s| s.trim().to_lowercase()).collect()
}

/// Whether `kind` is in a list of kinds and groups (empty = all).
pub fn kind_matches(list: &[String], kind: EventKind) -> bool {
    list.is_empty() || list.iter().any(|k| k == kind.as_str() || k == kind.group())
}

/// What a subscription follows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// Everything.
    All,
    /// A team, by name (case-insensitive).
    Team(String),
    /// A competition, by name (case-insensitive).
    Competition(String),
    /// A match, by id.
    Match(String),
}

impl Scope {
    /// The scope as stored and exported: its kind (`all`, `team`, `competition`, `match`)
    /// and its value (empty for `all`).
    pub fn parts(&self) -> (&'static str, &str) {
        match self {
            Self::All => ("all", ""),
            Self::Team(t) => ("team", t),
            Self::Competition(c) => ("competition", c),
            Self::Match(m) => ("match", m),
        }
    }

    /// The scope of stored parts, `None` for an unknown kind.
    pub fn from_parts(kind: &str, value: String) -> Option<Self> {
        Some(match kind {
            "all" => Self::All,
            "team" => Self::Team(value),
            "competition" => Self::Competition(value),
            "match" => Self::Match(value),
            _ => return None,
        })
    }
}

/// A subscriber's standing order on one sink.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    /// The sink instance id.
    pub sink: String,
    /// Who receives.
    pub recipient: Recipient,
    /// What they follow.
    pub scope: Scope,
    /// Kinds or groups they want; empty for all.
    pub kinds: Vec<String>,
    /// Their locale, when they chose one.
    pub locale: Option<String>,
}

impl Subscription {
    /// Whether `event` is for this subscriber.
    pub fn accepts(&self, event: &Event) -> bool {
        if !kind_matches(&self.kinds, event.kind) {
            return false;
        }
        let team = |a: Option<&str>, b: &str| a.is_some_and(|a| teams::same(a, b));
        // "World Cup" follows "FIFA World Cup™".
        let competition = |a: Option<&str>, b: &str| {
            let wanted = teams::fold(b);
            a.is_some_and(|a| !wanted.is_empty() && teams::fold(a).contains(&wanted))
        };
        let topic = event.topic.as_deref();
        match &self.scope {
            Scope::All => true,
            Scope::Team(t) => {
                team(event.home.as_deref(), t) || team(event.away.as_deref(), t) || team(topic, t)
            }
            Scope::Competition(c) => {
                competition(event.competition.as_deref(), c) || competition(topic, c)
            }
            Scope::Match(m) => event.match_id.as_deref() == Some(m.as_str()),
        }
    }
}

/// One delivery to queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The sink instance id.
    pub sink: String,
    /// The recipient.
    pub recipient: Recipient,
    /// The locale to render in.
    pub locale: String,
}

/// Every (sink, recipient) that gets `event`, once each: configured recipients first, then
/// subscribers; a subscriber's own locale wins over the sink's.
pub fn targets(event: &Event, routes: &[Route], subscriptions: &[Subscription]) -> Vec<Target> {
    let mut out: Vec<Target> = Vec::new();
    let mut seen: std::collections::HashSet<(String, Recipient)> = std::collections::HashSet::new();
    let mut push = |target: Target| {
        if seen.insert((target.sink.clone(), target.recipient.clone())) {
            out.push(target);
        }
    };
    for route in routes {
        if route.filter.accepts(event) {
            for recipient in &route.recipients {
                push(Target {
                    sink: route.sink.clone(),
                    recipient: recipient.clone(),
                    locale: route.locale.clone(),
                });
            }
        }
        for sub in subscriptions.iter().filter(|s| s.sink == route.sink) {
            if sub.accepts(event) {
                push(Target {
                    sink: route.sink.clone(),
                    recipient: sub.recipient.clone(),
                    locale: sub.locale.clone().unwrap_or_else(|| route.locale.clone()),
                });
            }
        }
    }
    out
}

/// Who a message addressed through the messages API goes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Audience {
    /// Whoever the routing sends any of these events to: the message as each of its topics,
    /// teams and kinds would be routed (configured recipients and subscribers).
    Routed(Vec<Event>),
    /// These recipients, exactly.
    Recipients(Vec<Target>),
    /// Every active subscriber of these sinks, whatever they follow.
    Subscribers(Vec<String>),
}

/// The targets of `audience`, once each, in the order found; `locale` replaces every
/// target's own when given.
pub fn audience_targets(
    audience: &Audience,
    routes: &[Route],
    subscriptions: &[Subscription],
    locale: Option<&str>,
) -> Vec<Target> {
    let found: Vec<Target> = match audience {
        Audience::Routed(probes) => probes
            .iter()
            .flat_map(|probe| targets(probe, routes, subscriptions))
            .collect(),
        Audience::Recipients(targets) => targets.clone(),
        Audience::Subscribers(sinks) => routes
            .iter()
            .filter(|r| sinks.contains(&r.sink))
            .flat_map(|route| {
                subscriptions
                    .iter()
                    .filter(|s| s.sink == route.sink)
                    .map(|s| Target {
                        sink: route.sink.clone(),
                        recipient: s.recipient.clone(),
                        locale: s.locale.clone().unwrap_or_else(|| route.locale.clone()),
                    })
            })
            .collect(),
    };
    let mut seen = std::collections::HashSet::new();
    found
        .into_iter()
        .filter(|t| seen.insert((t.sink.clone(), t.recipient.clone())))
        .map(|mut t| {
            if let Some(locale) = locale {
                locale.clone_into(&mut t.locale);
            }
            t
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn goal() -> Event {
        crate::render::sample(EventKind::Goal)
    }

    fn route(config: &RouteConfig) -> Route {
        Route::new("s", config, vec![Recipient::broadcast()], "en")
    }

    #[test]
    fn an_empty_filter_accepts_everything() {
        assert!(Filter::default().accepts(&goal()));
        assert!(Filter::default().accepts(&crate::render::sample(EventKind::Announcement)));
    }

    #[test]
    fn kinds_match_by_name_or_group() {
        let f = |kinds: &[&str]| {
            Filter::from_config(&RouteConfig {
                kinds: kinds.iter().map(|s| (*s).to_owned()).collect(),
                ..RouteConfig::default()
            })
        };
        assert!(f(&["goals"]).accepts(&goal()));
        assert!(f(&["goal"]).accepts(&goal()));
        assert!(!f(&["cards", "full_time"]).accepts(&goal()));
        assert!(f(&["goals"]).accepts(&crate::render::sample(EventKind::GoalDisallowed)));
    }

    #[test]
    fn teams_match_case_insensitively_and_announcements_by_topic() {
        let f = Filter::from_config(&RouteConfig {
            teams: vec!["croatia".into()],
            ..RouteConfig::default()
        });
        assert!(f.accepts(&goal()));
        let mut e = goal();
        e.away = Some("Belgium".into());
        assert!(!f.accepts(&e));
        let mut news = crate::render::sample(EventKind::Announcement);
        news.topic = Some("CROATIA".into());
        assert!(f.accepts(&news));
    }

    #[test]
    fn subscriptions_follow_their_scope_and_kinds() {
        let sub = |scope: Scope, kinds: &[&str]| Subscription {
            sink: "s".into(),
            recipient: Recipient::new("42"),
            scope,
            kinds: kinds.iter().map(|s| (*s).to_owned()).collect(),
            locale: None,
        };
        assert!(sub(Scope::All, &[]).accepts(&goal()));
        assert!(sub(Scope::Team("FRANCE".into()), &[]).accepts(&goal()));
        assert!(!sub(Scope::Team("Spain".into()), &[]).accepts(&goal()));
        assert!(sub(Scope::Competition("fifa world cup".into()), &["goals"]).accepts(&goal()));
        assert!(!sub(Scope::All, &["cards"]).accepts(&goal()));
        assert!(sub(Scope::Match("sample:1".into()), &[]).accepts(&goal()));
    }

    #[test]
    fn targets_are_unique_per_sink_and_recipient_with_the_subscribers_locale() {
        let routes = vec![route(&RouteConfig::default())];
        let subs = vec![
            Subscription {
                sink: "s".into(),
                recipient: Recipient::new("42"),
                scope: Scope::All,
                kinds: vec![],
                locale: Some("pt-BR".into()),
            },
            Subscription {
                sink: "s".into(),
                recipient: Recipient::new("42"),
                scope: Scope::Team("France".into()),
                kinds: vec![],
                locale: None,
            },
            Subscription {
                sink: "other".into(),
                recipient: Recipient::new("7"),
                scope: Scope::All,
                kinds: vec![],
                locale: None,
            },
        ];
        let t = targets(&goal(), &routes, &subs);
        assert_eq!(t.len(), 2);
        assert_eq!(t[0].recipient, Recipient::broadcast());
        assert_eq!(t[0].locale, "en");
        assert_eq!(t[1].recipient, Recipient::new("42"));
        assert_eq!(t[1].locale, "pt-BR");
    }

    #[test]
    fn an_audience_reaches_each_target_once_in_the_messages_locale() {
        let routes = vec![route(&RouteConfig::default()), {
            let mut r = Route::new("sms", &RouteConfig::default(), vec![], "en");
            r.locale = "fr".into();
            r
        }];
        let sub = |sink: &str, to: &str, scope: Scope| Subscription {
            sink: sink.into(),
            recipient: Recipient::new(to),
            scope,
            kinds: vec![],
            locale: None,
        };
        let subs = vec![
            sub("sms", "+1", Scope::Team("France".into())),
            sub("sms", "+1", Scope::All),
            sub("sms", "+2", Scope::Team("Spain".into())),
        ];
        let everyone = audience_targets(
            &Audience::Subscribers(vec!["sms".into()]),
            &routes,
            &subs,
            None,
        );
        let to: Vec<&str> = everyone.iter().map(|t| t.recipient.as_str()).collect();
        assert_eq!(to, ["+1", "+2"]);
        assert!(everyone.iter().all(|t| t.locale == "fr"));
        let mut news = crate::render::sample(EventKind::Announcement);
        news.topic = Some("Spain".into());
        let mut france = news.clone();
        france.topic = Some("France".into());
        let routed = audience_targets(
            &Audience::Routed(vec![news, france]),
            &routes,
            &subs,
            Some("de"),
        );
        let to: Vec<(&str, &str)> = routed
            .iter()
            .map(|t| (t.sink.as_str(), t.recipient.as_str()))
            .collect();
        assert_eq!(to, [("s", "*"), ("sms", "+1"), ("sms", "+2")]);
        assert!(routed.iter().all(|t| t.locale == "de"));
    }
}
