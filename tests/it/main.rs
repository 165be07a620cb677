//! Integration tests: one binary, one module per concern.

mod db;
mod expected;
mod fixtures_detect;
mod store;
