//! Integration tests: one binary, one module per concern.

mod db;
mod dispatch;
mod e2e;
mod expected;
mod fake_provider;
mod fixtures_detect;
mod restart;
mod sse_client;
mod store;
