//! `herald status`: the metrics of a running herald at a glance for a person. Reads
//! Prometheus' text format (what `/metrics` serves) and `/readyz`'s answer.

use std::collections::BTreeMap;

use serde_json::Value;

/// One sample: a metric name, its labels and its value.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// The metric name (with `_bucket`, `_sum`, `_count` for histograms).
    pub name: String,
    /// The labels, by name.
    pub labels: BTreeMap<String, String>,
    /// The value.
    pub value: f64,
}

impl Sample {
    fn label(&self, name: &str) -> &str {
        self.labels.get(name).map_or("", String::as_str)
    }
}

/// Parses Prometheus' text exposition format; lines that do not parse are skipped.
pub fn parse(text: &str) -> Vec<Sample> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(parse_line)
        .collect()
}

fn parse_line(line: &str) -> Option<Sample> {
    let name_end = line.find(|c: char| c == '{' || c.is_whitespace())?;
    let name = line.get(..name_end)?.to_owned();
    let mut rest = line.get(name_end..)?;
    let mut labels = BTreeMap::new();
    if let Some(after) = rest.strip_prefix('{') {
        let mut chars = after.char_indices();
        let mut key = String::new();
        loop {
            let (i, c) = chars.next()?;
            match c {
                '}' => {
                    rest = after.get(i + 1..)?;
                    break;
                }
                ',' | ' ' => {}
                '=' => {
                    if chars.next()?.1 != '"' {
                        return None;
                    }
                    let mut value = String::new();
                    loop {
                        match chars.next()?.1 {
                            '"' => break,
                            '\\' => match chars.next()?.1 {
                                'n' => value.push('\n'),
                                other => value.push(other),
                            },
                            other => value.push(other),
                        }
                    }
                    labels.insert(std::mem::take(&mut key), value);
                }
                other => key.push(other),
            }
        }
    }
    let value = rest.split_whitespace().next()?;
    let value = match value {
        "+Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        v => v.parse().ok()?,
    };
    Some(Sample {
        name,
        labels,
        value,
    })
}

/// The sum of `name`'s samples whose label `key` is `value`, and whose other labels match
/// `filter`.
fn sum(samples: &[Sample], name: &str, key: &str, value: &str, filter: &[(&str, &str)]) -> f64 {
    samples
        .iter()
        .filter(|s| s.name == name && s.label(key) == value)
        .filter(|s| filter.iter().all(|(k, v)| s.label(k) == *v))
        .fold(0.0, |total, s| total + s.value)
}

/// The upper bound of the bucket holding quantile `q` of histogram `name` for `key=value`;
/// `None` without observations. Beyond the last finite bucket: `+Inf`.
pub fn quantile(samples: &[Sample], name: &str, key: &str, value: &str, q: f64) -> Option<f64> {
    let bucket = format!("{name}_bucket");
    let mut buckets: Vec<(f64, f64)> = samples
        .iter()
        .filter(|s| s.name == bucket && s.label(key) == value)
        .filter_map(|s| {
            let le = match s.label("le") {
                "+Inf" => f64::INFINITY,
                le => le.parse().ok()?,
            };
            Some((le, s.value))
        })
        .collect();
    buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
    let total = buckets.last()?.1;
    if total <= 0.0 {
        return None;
    }
    buckets
        .iter()
        .find(|(_, cumulative)| *cumulative >= q * total)
        .map(|(le, _)| *le)
}

/// The values of label `key` across samples of the metrics named `names`, sorted.
fn label_values(samples: &[Sample], names: &[&str], key: &str) -> Vec<String> {
    let mut values: Vec<String> = samples
        .iter()
        .filter(|s| names.iter().any(|n| s.name.starts_with(n)))
        .filter_map(|s| s.labels.get(key).cloned())
        .collect();
    values.sort();
    values.dedup();
    values
}

fn seconds(v: Option<f64>) -> String {
    match v {
        None => "-".into(),
        Some(v) if v.is_infinite() => "> 600s".into(),
        Some(v) if v < 1.0 => format!("≤ {:.0}ms", v * 1000.0),
        Some(v) => format!("≤ {v}s"),
    }
}

fn age(seconds: f64) -> String {
    if seconds < 1.0 {
        "-".into()
    } else if seconds < 120.0 {
        format!("{seconds:.0}s")
    } else {
        format!("{:.0}m", seconds / 60.0)
    }
}

/// Appends one line.
fn line(out: &mut String, text: std::fmt::Arguments<'_>) {
    out.push_str(&text.to_string());
    out.push('\n');
}

/// The summary `herald status` prints, from `/metrics` and `/readyz`.
pub fn summary(url: &str, metrics: &[Sample], ready: &Value) -> String {
    use super::{
        DEAD_LETTERS, DELIVERIES, DELIVERY_LATENCY, EVENTS_FIRST, OUTBOX_OLDEST, OUTBOX_PENDING,
        POLLS, QUOTA_REMAINING, SOURCE_LAG, STREAM_CLIENTS,
    };
    let mut out = String::new();
    let state = ready["status"].as_str().unwrap_or("unknown");
    line(&mut out, format_args!("herald at {url}: {state}"));
    for (check, result) in ready["checks"].as_object().into_iter().flatten() {
        if check != "sources" && result["ok"] == Value::Bool(false) {
            let why = result["error"].as_str().unwrap_or("failing");
            line(&mut out, format_args!("  {check}: {why}"));
        }
    }

    let sinks = label_values(
        metrics,
        &[DELIVERIES, OUTBOX_PENDING, DELIVERY_LATENCY],
        "sink",
    );
    if !sinks.is_empty() {
        line(
            &mut out,
            format_args!(
                "\n{:<18} {:>9} {:>7} {:>6} {:>8} {:>7} {:>10} {:>10}",
                "sink", "delivered", "retried", "dead", "pending", "oldest", "p50", "p99"
            ),
        );
        for sink in &sinks {
            let count =
                |outcome: &str| sum(metrics, DELIVERIES, "sink", sink, &[("outcome", outcome)]);
            let retried = count("retry") + count("rate_limited");
            line(
                &mut out,
                format_args!(
                    "{:<18} {:>9} {:>7} {:>6} {:>8} {:>7} {:>10} {:>10}",
                    sink,
                    count("delivered"),
                    retried,
                    sum(metrics, DEAD_LETTERS, "sink", sink, &[]),
                    sum(metrics, OUTBOX_PENDING, "sink", sink, &[]),
                    age(sum(metrics, OUTBOX_OLDEST, "sink", sink, &[])),
                    seconds(quantile(metrics, DELIVERY_LATENCY, "sink", sink, 0.5)),
                    seconds(quantile(metrics, DELIVERY_LATENCY, "sink", sink, 0.99)),
                ),
            );
        }
    }

    let sources: BTreeMap<String, Value> = ready["checks"]["sources"]
        .as_object()
        .map(|m| m.clone().into_iter().collect())
        .unwrap_or_default();
    let mut source_ids = label_values(metrics, &[POLLS, QUOTA_REMAINING], "source");
    source_ids.extend(sources.keys().cloned());
    source_ids.sort();
    source_ids.dedup();
    if !source_ids.is_empty() {
        line(
            &mut out,
            format_args!(
                "\n{:<18} {:>8} {:>7} {:>10} {:>12} {:>6} {:>8}  state",
                "source", "polls ok", "failed", "last ok", "quota left", "first", "lag p50"
            ),
        );
        for source in &source_ids {
            let ok = sum(metrics, POLLS, "source", source, &[("outcome", "ok")]);
            let failed = sum(metrics, POLLS, "source", source, &[("outcome", "failed")])
                + sum(
                    metrics,
                    POLLS,
                    "source",
                    source,
                    &[("outcome", "rate_limited")],
                );
            let quota: Vec<String> = metrics
                .iter()
                .filter(|s| s.name == QUOTA_REMAINING && s.label("source") == source)
                .map(|s| format!("{}/{}", s.value, s.label("window")))
                .collect();
            let health = sources.get(source);
            let last_ok = health
                .and_then(|h| h["last_ok_seconds_ago"].as_f64())
                .map_or_else(|| "-".to_owned(), |s| format!("{s:.0}s ago"));
            let state = health
                .and_then(|h| h["state"].as_str())
                .unwrap_or("-")
                .to_owned();
            let error = health
                .and_then(|h| h["error"].as_str())
                .map(|e| format!(" ({e})"))
                .unwrap_or_default();
            let quota = if quota.is_empty() {
                "-".to_owned()
            } else {
                quota.join(" ")
            };
            // Of several sources for one match: events it had first, and its lag behind the
            // first on the others.
            let first = sum(metrics, EVENTS_FIRST, "source", source, &[]);
            let lag =
                seconds(quantile(metrics, SOURCE_LAG, "source", source, 0.5)).replace(' ', "");
            line(
                &mut out,
                format_args!(
                    "{source:<18} {ok:>8} {failed:>7} {last_ok:>10} {quota:>12} {first:>6} {lag:>8}  {state}{error}"
                ),
            );
        }
    }

    let streams: Vec<String> = metrics
        .iter()
        .filter(|s| s.name == STREAM_CLIENTS)
        .map(|s| format!("{} {} clients", s.label("sink"), s.value))
        .collect();
    if !streams.is_empty() {
        line(&mut out, format_args!("\nstreams: {}", streams.join(", ")));
    }
    let resident = metrics
        .iter()
        .find(|s| s.name == "process_resident_memory_bytes")
        .map(|s| s.value);
    let cpu = metrics
        .iter()
        .find(|s| s.name == "process_cpu_seconds_total")
        .map(|s| s.value);
    if let (Some(resident), Some(cpu)) = (resident, cpu) {
        line(
            &mut out,
            format_args!(
                "process: {:.1} MiB resident, {cpu:.1} s CPU",
                resident / (1024.0 * 1024.0)
            ),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = r#"# HELP herald_deliveries_total Delivery attempts.
# TYPE herald_deliveries_total counter
herald_deliveries_total{sink="tg",outcome="delivered"} 7
herald_deliveries_total{sink="tg",outcome="retry"} 2
herald_deliveries_total{sink="odd \"name\"",outcome="delivered"} 1
herald_delivery_latency_seconds_bucket{sink="tg",le="1"} 2
herald_delivery_latency_seconds_bucket{sink="tg",le="5"} 6
herald_delivery_latency_seconds_bucket{sink="tg",le="+Inf"} 7
herald_delivery_latency_seconds_count{sink="tg"} 7
herald_outbox_pending{sink="tg"} 3
herald_polls_total{source="fd",outcome="ok"} 10
herald_provider_quota_remaining{source="fd",window="minute"} 8
herald_source_events_first_total{source="fd"} 12
herald_source_lag_seconds_bucket{source="fd",le="2"} 3
herald_source_lag_seconds_bucket{source="fd",le="+Inf"} 3
process_cpu_seconds_total 1.5
process_resident_memory_bytes 10485760
"#;

    #[test]
    fn parses_the_text_format_with_escaped_labels() {
        let samples = parse(TEXT);
        assert_eq!(samples.len(), 15);
        assert_eq!(samples[2].labels["sink"], r#"odd "name""#);
        assert_eq!(sum(&samples, DELIVERIES_NAME, "sink", "tg", &[]), 9.0);
    }

    const DELIVERIES_NAME: &str = super::super::DELIVERIES;

    #[test]
    fn quantiles_are_the_bucket_bounds() {
        let samples = parse(TEXT);
        let latency = super::super::DELIVERY_LATENCY;
        assert_eq!(quantile(&samples, latency, "sink", "tg", 0.25), Some(1.0));
        assert_eq!(quantile(&samples, latency, "sink", "tg", 0.5), Some(5.0));
        assert_eq!(
            quantile(&samples, latency, "sink", "tg", 0.99),
            Some(f64::INFINITY)
        );
        assert_eq!(quantile(&samples, latency, "sink", "none", 0.5), None);
    }

    #[test]
    fn the_summary_shows_each_sink_and_source() {
        let ready = serde_json::json!({"status": "ready", "checks": {"store": {"ok": true},
            "sources": {"fd": {"ok": true, "state": "polling", "last_ok_seconds_ago": 4.2}}}});
        let text = summary("http://h", &parse(TEXT), &ready);
        assert!(text.starts_with("herald at http://h: ready\n"), "{text}");
        let tg = text.lines().find(|l| l.starts_with("tg ")).unwrap();
        let cols: Vec<&str> = tg.split_whitespace().collect();
        assert_eq!(cols[..5], ["tg", "7", "2", "0", "3"], "{tg}");
        let fd = text.lines().find(|l| l.starts_with("fd ")).unwrap();
        assert!(
            fd.contains("4s ago") && fd.contains("8/minute") && fd.contains("polling"),
            "{fd}"
        );
        let cols: Vec<&str> = fd.split_whitespace().collect();
        assert_eq!(cols[6..8], ["12", "≤2s"], "{fd}");
        assert!(
            text.contains("process: 10.0 MiB resident, 1.5 s CPU"),
            "{text}"
        );
    }
}
