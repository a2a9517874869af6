//! Random single changes to a correctly signed request: one edit of a byte string (a signed
//! header's value or name, or the body), or a signed header sent twice. Seeded, so a failing
//! run can be repeated from the seed it prints.

use fastrand::Rng;

/// One change to a byte string.
#[derive(Debug, Clone, Copy)]
pub enum Edit {
    /// Flip bit `bit` (0–7) of the byte at `at`.
    FlipBit {
        at: usize,
        bit: u8,
    },
    /// Insert `byte` before position `at` (`at` may be the length: appended).
    Insert {
        at: usize,
        byte: u8,
    },
    Delete {
        at: usize,
    },
    /// Keep only the first `to` bytes (fewer than there are).
    Truncate {
        to: usize,
    },
    /// Repeat bytes `from..to` in place.
    Repeat {
        from: usize,
        to: usize,
    },
}

impl Edit {
    /// A random edit of a string of `len` (> 0) bytes; every edit changes the string.
    pub fn random(rng: &mut Rng, len: usize) -> Edit {
        match rng.u8(0..5) {
            0 => Edit::FlipBit {
                at: rng.usize(0..len),
                bit: rng.u8(0..8),
            },
            1 => Edit::Insert {
                at: rng.usize(0..=len),
                byte: rng.u8(..),
            },
            2 => Edit::Delete {
                at: rng.usize(0..len),
            },
            3 => Edit::Truncate {
                to: rng.usize(0..len),
            },
            _ => {
                let from = rng.usize(0..len);
                Edit::Repeat {
                    from,
                    to: rng.usize(from + 1..=len.min(from + 8)),
                }
            }
        }
    }

    pub fn apply(self, bytes: &[u8]) -> Vec<u8> {
        let mut out = bytes.to_vec();
        match self {
            Edit::FlipBit { at, bit } => out[at] ^= 1 << bit,
            Edit::Insert { at, byte } => out.insert(at, byte),
            Edit::Delete { at } => {
                out.remove(at);
            }
            Edit::Truncate { to } => out.truncate(to),
            Edit::Repeat { from, to } => {
                let repeated = bytes[from..to].to_vec();
                out.splice(to..to, repeated);
            }
        }
        out
    }
}

/// One change to a request; `field` indexes the original's signed fields.
#[derive(Debug, Clone, Copy)]
pub enum Mutation {
    Value {
        field: usize,
        edit: Edit,
    },
    Name {
        field: usize,
        edit: Edit,
    },
    /// The field sent twice: unchanged both times, or with one copy edited (first or second).
    Repeated {
        field: usize,
        edit: Option<Edit>,
        edited_first: bool,
    },
    Body(Edit),
}

impl Mutation {
    /// A random mutation of a request with `fields` signed fields of these value and name
    /// lengths, and a body of `body_len` bytes: mostly values and bodies, where a forger works.
    pub fn random(rng: &mut Rng, fields: &[(usize, usize)], body_len: usize) -> Mutation {
        let field = rng.usize(0..fields.len());
        let (value_len, name_len) = fields[field];
        match rng.u8(0..20) {
            0..=8 => Mutation::Value {
                field,
                edit: Edit::random(rng, value_len),
            },
            9..=10 => Mutation::Name {
                field,
                edit: Edit::random(rng, name_len),
            },
            11..=12 => Mutation::Repeated {
                field,
                edit: rng.bool().then(|| Edit::random(rng, value_len)),
                edited_first: rng.bool(),
            },
            _ => Mutation::Body(Edit::random(rng, body_len)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_random_edit_changes_the_bytes() {
        let mut rng = Rng::with_seed(7);
        for _ in 0..10_000 {
            let bytes: Vec<u8> = (0..rng.usize(1..20)).map(|_| rng.u8(..)).collect();
            let edit = Edit::random(&mut rng, bytes.len());
            assert_ne!(edit.apply(&bytes), bytes, "{edit:?}");
        }
    }
}
