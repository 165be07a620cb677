//! Fuzz target `api_football`: any bytes into its entry point in `herald::fuzzing::TARGETS`, which
//! must not panic.
#![no_main]

use std::sync::LazyLock;

use herald::fuzzing::{Entry, entry};

static ENTRY: LazyLock<Entry> =
    LazyLock::new(|| entry("api_football").expect("api_football is in herald::fuzzing::TARGETS"));

libfuzzer_sys::fuzz_target!(|data: &[u8]| ENTRY(data));
