//! Integration tests: one binary, one module per concern.

mod cli;
mod config_example;
mod corrections;
mod db;
mod discord;
mod dispatch;
mod e2e;
mod expected;
mod fake_provider;
mod fixtures_detect;
mod harness;
mod publish;
mod quota;
mod resilience;
mod restart;
mod secrets;
mod slack;
mod sms;
mod sse_client;
mod store;
mod subscriptions;
mod telegram;
mod x;
