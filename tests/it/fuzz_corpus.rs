//! The fuzz targets' corpora as regression tests, on the stable toolchain and without a fuzzer:
//! every seed and every fixed crash reproducer in `fuzz/corpus/<target>/` goes through the
//! target's entry point in `herald::fuzzing`, which must not panic.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use herald::fuzzing::TARGETS;

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz")
}

/// The files of a directory, sorted.
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.is_file())
        .collect();
    files.sort();
    files
}

#[test]
fn every_corpus_file_goes_through_its_target_without_a_panic() {
    let mut failures = Vec::new();
    let mut total = 0;
    for (target, entry) in TARGETS {
        let corpus = files(&fuzz_dir().join("corpus").join(target));
        assert!(!corpus.is_empty(), "fuzz/corpus/{target} has no seeds");
        for path in corpus {
            let data = std::fs::read(&path).unwrap();
            total += 1;
            if catch_unwind(AssertUnwindSafe(|| entry(&data))).is_err() {
                failures.push(path.display().to_string());
            }
        }
    }
    assert!(failures.is_empty(), "panicked on {failures:#?}");
    assert!(total >= TARGETS.len(), "{total} files");
}

#[test]
fn every_fuzz_target_has_an_entry_point_and_a_corpus() {
    let mut declared: Vec<String> = files(&fuzz_dir().join("fuzz_targets"))
        .iter()
        .map(|path| path.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    declared.sort();
    let mut entries: Vec<String> = TARGETS.iter().map(|(name, _)| (*name).to_owned()).collect();
    entries.sort();
    assert_eq!(
        declared, entries,
        "fuzz/fuzz_targets/ and herald::fuzzing::TARGETS"
    );
    let mut corpora: Vec<String> = std::fs::read_dir(fuzz_dir().join("corpus"))
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    corpora.sort();
    assert_eq!(
        corpora, entries,
        "fuzz/corpus/ and herald::fuzzing::TARGETS"
    );
}
