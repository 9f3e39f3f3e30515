//! The coldstart probe workload, identical on every target.
//!
//! A probe instance does two kinds of work, and the harness times both:
//!
//! * **init**, once per new instance: allocate and touch `init_kib` KiB of memory
//!   (every word written, so every page is faulted in), fold it into a digest, then
//!   run `init_iters` rounds of a mixing hash over that digest. This is the
//!   "initialization code" that the article advises keeping small; the two knobs
//!   let a user see how much of a cold start it is.
//! * **invoke**, once per request: `iters` rounds of the same hash, each round
//!   reading a word of the init memory chosen by the running state. The result, a
//!   64-bit checksum, depends on the init state and on the request, including the
//!   request's 64-bit **nonce**, a fresh random value the harness sends with every
//!   request: so a skipped or wrong computation shows up as a checksum mismatch, and
//!   so does a cached or replayed answer (it carries another request's checksum).
//!
//! Everything is computed on `u64` with wrapping arithmetic, never on `usize`, so
//! a 32-bit wasm32 target and a 64-bit native one give the same bits.
//!
//! The instance id is drawn by each entry point (native, wasm, Lambda) from its
//! platform's random source and passed in, so this crate stays deterministic.

pub mod protocol;
pub mod test_sleep;

/// How much init work a new instance does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct InitParams {
    /// Memory allocated and written during init, in KiB.
    pub init_kib: u64,
    /// Rounds of the mixing hash run during init.
    pub init_iters: u64,
}

impl InitParams {
    /// The defaults: light enough that a bare instantiate dominates a Wasm cold start.
    pub const DEFAULT: InitParams = InitParams {
        init_kib: 4,
        init_iters: 100,
    };
}

impl Default for InitParams {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// The per-invocation work used when none is given.
pub const DEFAULT_INVOKE_ITERS: u64 = 50;

/// Seed of the init memory's contents.
const SEED: u64 = 0x636f_6c64_7374_6172; // "coldstar"
const GOLDEN: u64 = 0x9e37_79b9_7f4a_7c15;

/// The splitmix64 finaliser: a cheap, well-mixed 64-bit hash step.
#[inline]
pub const fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// One probe instance: its init state and its invocation counter.
#[derive(Debug, Clone)]
pub struct Probe {
    instance_id: u64,
    memory: Vec<u64>,
    digest: u64,
    invocations: u64,
}

/// What one invocation returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Invocation {
    /// The instance that answered.
    pub instance_id: u64,
    /// 0 for the instance's first invocation, then 1, 2, ...
    pub index: u64,
    /// The result of the work; see [`checksum`].
    pub checksum: u64,
}

impl Probe {
    /// Does the init work for a new instance with the given id.
    pub fn init(instance_id: u64, params: InitParams) -> Probe {
        let words = params.init_kib.saturating_mul(1024 / 8);
        let mut memory = Vec::with_capacity(words as usize);
        let mut state = SEED;
        let mut digest = mix(SEED ^ params.init_kib);
        for _ in 0..words {
            state = state.wrapping_add(GOLDEN);
            let word = mix(state);
            memory.push(word);
            digest = digest.rotate_left(5) ^ word;
        }
        digest = mix(digest);
        for i in 0..params.init_iters {
            digest = mix(digest ^ i);
        }
        Probe {
            instance_id,
            memory,
            digest,
            invocations: 0,
        }
    }

    /// The id this instance was started with.
    pub fn instance_id(&self) -> u64 {
        self.instance_id
    }

    /// Serves one request of `iters` hash rounds carrying `nonce`.
    pub fn invoke(&mut self, iters: u64, nonce: u64) -> Invocation {
        let index = self.invocations;
        self.invocations += 1;
        Invocation {
            instance_id: self.instance_id,
            index,
            checksum: self.checksum(iters, nonce),
        }
    }

    /// The checksum this instance answers to a request of `iters` rounds carrying
    /// `nonce`, without counting an invocation: how the harness computes what each
    /// request's answer must be.
    pub fn checksum(&self, iters: u64, nonce: u64) -> u64 {
        checksum(self.digest, &self.memory, iters, nonce)
    }
}

/// The invocation work: `iters` rounds of the hash, each folding in a word of the
/// init memory picked by the running state (so the memory must really be there).
/// The nonce enters the starting state, so every round depends on it.
fn checksum(digest: u64, memory: &[u64], iters: u64, nonce: u64) -> u64 {
    let len = memory.len() as u64;
    let mut x = mix(digest ^ iters.wrapping_mul(GOLDEN) ^ mix(nonce ^ SEED));
    for i in 0..iters {
        let word = if len == 0 {
            0
        } else {
            memory[(x % len) as usize]
        };
        x = mix(x ^ word ^ i);
    }
    x
}

/// The checksum any correct instance returns for these parameters and this nonce.
/// (The harness keeps one initialised [`Probe`] and calls [`Probe::checksum`] per
/// request instead of redoing the init work each time.)
pub fn expected_checksum(params: InitParams, invoke_iters: u64, nonce: u64) -> u64 {
    Probe::init(0, params).checksum(invoke_iters, nonce)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksum_depends_on_init_and_request() {
        let base = expected_checksum(InitParams::DEFAULT, 50, 9);
        let more_memory = InitParams {
            init_kib: 8,
            ..InitParams::DEFAULT
        };
        let more_iters = InitParams {
            init_iters: 101,
            ..InitParams::DEFAULT
        };
        assert_ne!(base, expected_checksum(more_memory, 50, 9));
        assert_ne!(base, expected_checksum(more_iters, 50, 9));
        assert_ne!(base, expected_checksum(InitParams::DEFAULT, 51, 9));
    }

    #[test]
    fn every_nonce_gives_its_own_checksum() {
        // A replayed answer (another request's checksum) must not verify: no two
        // nonces of many share a checksum, with and without init memory or rounds.
        for (params, iters) in [
            (InitParams::DEFAULT, 50),
            (
                InitParams {
                    init_kib: 0,
                    init_iters: 0,
                },
                0,
            ),
        ] {
            let probe = Probe::init(1, params);
            let mut seen = std::collections::HashSet::new();
            for nonce in (0..2000u64).chain([u64::MAX, 1 << 63]) {
                assert!(seen.insert(probe.checksum(iters, nonce)), "nonce {nonce}");
            }
        }
    }

    #[test]
    fn checksum_is_independent_of_instance_and_index() {
        let mut probe = Probe::init(42, InitParams::DEFAULT);
        let first = probe.invoke(50, 7);
        let second = probe.invoke(50, 7);
        assert_eq!((first.index, second.index), (0, 1));
        assert_eq!(first.instance_id, 42);
        assert_eq!(first.checksum, second.checksum);
        assert_eq!(
            first.checksum,
            expected_checksum(InitParams::DEFAULT, 50, 7)
        );
    }

    #[test]
    fn zero_memory_and_zero_iters_are_valid() {
        let params = InitParams {
            init_kib: 0,
            init_iters: 0,
        };
        let mut probe = Probe::init(1, params);
        assert_eq!(probe.invoke(0, 0).checksum, expected_checksum(params, 0, 0));
        assert_ne!(
            expected_checksum(params, 0, 0),
            expected_checksum(params, 1, 0)
        );
    }
}
