//! The fuzz targets' inputs in the ordinary test suite: every committed corpus input of every
//! target (which includes every input that ever crashed one) is replayed through the target's
//! own code, and a bounded number of mutations of them (byte changes, insertions, cuts, and
//! splices of two inputs, as libFuzzer mutates) must not panic either. `scripts/fuzz` runs the
//! same targets unbounded.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::Index;

use crate::hookgate_fuzz::targets::ALL;

fn corpus_dir(target: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target)
}

/// A corpus: `(file name, input)`, sorted by name.
type Corpus = Vec<(String, Vec<u8>)>;

/// The committed inputs of `target`, read once.
fn corpus(target: &str) -> &'static Corpus {
    static CORPORA: OnceLock<Vec<(&'static str, Corpus)>> = OnceLock::new();
    let corpora = CORPORA.get_or_init(|| {
        ALL.iter()
            .map(|(name, _)| (*name, read_corpus(name)))
            .collect()
    });
    &corpora
        .iter()
        .find(|(name, _)| *name == target)
        .expect("a known target")
        .1
}

fn read_corpus(target: &str) -> Corpus {
    let dir = corpus_dir(target);
    let mut inputs: Corpus = std::fs::read_dir(&dir)
        .unwrap_or_else(|error| panic!("{}: {error}", dir.display()))
        .map(|entry| {
            let path = entry.expect("a corpus entry").path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (
                name,
                std::fs::read(&path).expect("a corpus input is readable"),
            )
        })
        .collect();
    inputs.sort();
    inputs
}

#[test]
fn every_corpus_input_of_every_target_is_handled() {
    for (target, run) in ALL {
        let inputs = corpus(target);
        assert!(
            inputs.len() >= 3,
            "{target}: a corpus of {} inputs",
            inputs.len()
        );
        for (name, input) in inputs {
            let outcome = std::panic::catch_unwind(|| run(input));
            assert!(
                outcome.is_ok(),
                "{target} panicked on fuzz/corpus/{target}/{name}"
            );
        }
    }
}

/// One libFuzzer-style change to an input.
#[derive(Debug, Clone)]
enum Mutation {
    Replace(Index, u8),
    Insert(Index, Vec<u8>),
    Remove(Index, Index),
    /// The input up to a point, then another corpus input from a point.
    Splice(Index, Index, Index),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        4 => (any::<Index>(), any::<u8>()).prop_map(|(at, byte)| Mutation::Replace(at, byte)),
        2 => (any::<Index>(), vec(any::<u8>(), 1..8)).prop_map(|(at, bytes)| Mutation::Insert(at, bytes)),
        2 => (any::<Index>(), any::<Index>()).prop_map(|(from, to)| Mutation::Remove(from, to)),
        1 => (any::<Index>(), any::<Index>(), any::<Index>())
            .prop_map(|(cut, other, from)| Mutation::Splice(cut, other, from)),
    ]
}

fn mutate(input: &[u8], corpus: &Corpus, mutation: &Mutation) -> Vec<u8> {
    let mut out = input.to_vec();
    let at = |index: &Index, len: usize| index.index(len + 1);
    match mutation {
        Mutation::Replace(index, byte) if !out.is_empty() => {
            let at = index.index(out.len());
            out[at] = *byte;
        }
        Mutation::Replace(..) => {}
        Mutation::Insert(index, bytes) => {
            let at = at(index, out.len());
            out.splice(at..at, bytes.iter().copied());
        }
        Mutation::Remove(from, to) => {
            let (a, b) = (at(from, out.len()), at(to, out.len()));
            out.drain(a.min(b)..a.max(b));
        }
        Mutation::Splice(cut, other, from) => {
            out.truncate(at(cut, out.len()));
            let other = &corpus[other.index(corpus.len())].1;
            out.extend_from_slice(&other[at(from, other.len())..]);
        }
    }
    out
}

proptest! {
    // 256 cases, each run through all 8 targets: well under a second in a debug build.
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn mutated_corpus_inputs_never_panic(
        pick in any::<Index>(),
        mutations in vec(mutation(), 1..5),
    ) {
        for (target, run) in ALL {
            let inputs = corpus(target);
            let mut input = inputs[pick.index(inputs.len())].1.clone();
            for mutation in &mutations {
                input = mutate(&input, inputs, mutation);
            }
            let outcome = std::panic::catch_unwind(|| run(&input));
            prop_assert!(outcome.is_ok(), "{} panicked on {:?}", target, String::from_utf8_lossy(&input));
        }
    }

    #[test]
    fn arbitrary_inputs_never_panic(input in vec(any::<u8>(), 0..512)) {
        for (target, run) in ALL {
            let outcome = std::panic::catch_unwind(|| run(&input));
            prop_assert!(outcome.is_ok(), "{} panicked on {:?}", target, String::from_utf8_lossy(&input));
        }
    }
}
