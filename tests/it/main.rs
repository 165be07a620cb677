//! Integration tests: one binary, one module per concern.

mod expected;
mod fixtures_detect;
