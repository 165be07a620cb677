//! Fuzz target `discord_inbound`: any bytes into its entry point in `herald::fuzzing::TARGETS`, which
//! must not panic.
#![no_main]

use std::sync::LazyLock;

use herald::fuzzing::{Entry, entry};

static ENTRY: LazyLock<Entry> = LazyLock::new(|| {
    entry("discord_inbound").expect("discord_inbound is in herald::fuzzing::TARGETS")
});

libfuzzer_sys::fuzz_target!(|data: &[u8]| ENTRY(data));
