//! The coldstart probe workload, identical on every target.
//!
//! A probe instance does two kinds of work, and the harness times both:
//!
//! * **init**, once per new instance: allocate and touch `init_kib` KiB of memory
//!   (every word written, so every page is faulted in), fold it into a digest, then
//!   run `init_iters` rounds of a mixing hash over that digest. This is the
//!   "initialization code" that the article advises keeping small; the two knobs
//!   let a user see how much of a cold start it is. Both the memory's words and the
//!   digest are keyed by the **instance nonce**, a fresh random value the harness
//!   gives each start (an argument, an environment variable, the kernel command
//!   line, an export's parameter), so the init state belongs to that start: one
//!   restored from another start's post-init memory gives another start's checksums.
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

/// The key an instance's init state is derived with, from the **instance nonce**
/// the harness sends when it starts the instance (a fresh random value per start):
/// every word of the init memory is XORed with it and the digest starts from it, so
/// the init state, and with it every checksum, belongs to that one start. An
/// instance restored from another instance's post-init memory answers with the
/// other start's checksums and does not verify as a cold start.
#[inline]
const fn instance_key(instance_nonce: u64) -> u64 {
    mix(instance_nonce ^ GOLDEN)
}

/// The init memory's `i`-th word before the instance key is applied: the same for
/// every instance, so the harness keeps one copy of them per run.
#[inline]
const fn base_word(i: u64) -> u64 {
    mix(SEED.wrapping_add(GOLDEN.wrapping_mul(i + 1)))
}

/// Where the init digest starts, before the memory's words are folded in.
#[inline]
const fn digest_start(params: InitParams, key: u64) -> u64 {
    mix(SEED ^ params.init_kib ^ key)
}

/// One word of the init memory folded into the digest.
#[inline]
const fn fold(digest: u64, word: u64) -> u64 {
    digest.rotate_left(5) ^ word
}

/// The init rounds over the folded digest: the init state's digest.
fn init_rounds(folded: u64, init_iters: u64) -> u64 {
    let mut digest = mix(folded);
    for i in 0..init_iters {
        digest = mix(digest ^ i);
    }
    digest
}

/// Words of the init memory.
fn word_count(params: InitParams) -> u64 {
    params.init_kib.saturating_mul(1024 / 8)
}

/// `x` rotated left by `5 * k` bits.
#[inline]
const fn rotated(x: u64, k: u64) -> u64 {
    x.rotate_left(((k % 64) * 5 % 64) as u32)
}

/// What XORing `key` into each of `count` words adds to their fold: the XOR of
/// `rotated(key, k)` for `k < count`. Since 5 and 64 are coprime, 64 consecutive
/// rotations are all 64 rotations, whose XOR has every bit equal to `key`'s parity;
/// so only `count % 64` terms are left, plus that once if `count / 64` is odd.
fn key_fold(key: u64, count: u64) -> u64 {
    let cycle = if key.count_ones() % 2 == 1 {
        u64::MAX
    } else {
        0
    };
    let mut folded = if (count / 64) % 2 == 1 { cycle } else { 0 };
    for k in 0..count % 64 {
        folded ^= rotated(key, k);
    }
    folded
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
    /// Does the init work for a new instance with the given id, started with
    /// `instance_nonce`: allocates and writes `init_kib` KiB (each word keyed by
    /// the nonce), folds them into the digest, runs the init rounds.
    pub fn init(instance_id: u64, instance_nonce: u64, params: InitParams) -> Probe {
        let key = instance_key(instance_nonce);
        let count = word_count(params);
        let mut memory = Vec::with_capacity(count as usize);
        let mut folded = digest_start(params, key);
        for i in 0..count {
            let word = base_word(i) ^ key;
            memory.push(word);
            folded = fold(folded, word);
        }
        Probe {
            instance_id,
            memory,
            digest: init_rounds(folded, params.init_iters),
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
    /// `nonce`, without counting an invocation.
    pub fn checksum(&self, iters: u64, nonce: u64) -> u64 {
        checksum(
            self.digest,
            self.memory.len() as u64,
            |i| self.memory[i as usize],
            iters,
            nonce,
        )
    }
}

/// The invocation work: `iters` rounds of the hash, each folding in a word of the
/// init memory picked by the running state (so the memory must really be there).
/// The nonce enters the starting state, so every round depends on it.
#[inline]
fn checksum(digest: u64, len: u64, word: impl Fn(u64) -> u64, iters: u64, nonce: u64) -> u64 {
    let mut x = mix(digest ^ iters.wrapping_mul(GOLDEN) ^ mix(nonce ^ SEED));
    for i in 0..iters {
        let word = if len == 0 { 0 } else { word(x % len) };
        x = mix(x ^ word ^ i);
    }
    x
}

/// The harness's side of the workload: what any correct instance answers, for
/// every instance nonce of a run, without an instance's memory per instance. It
/// keeps the init memory's unkeyed words once, and their fold; since the fold is
/// XORs and rotations, [`Reference::instance`] derives one instance's state (its
/// key and digest, 16 bytes) in O(64 + init_iters), whatever the init memory's size.
#[derive(Debug, Clone)]
pub struct Reference {
    params: InitParams,
    base: Vec<u64>,
    /// The unkeyed words folded into a digest that starts at 0.
    base_fold: u64,
}

/// One instance's init state, as the harness derives it from its instance nonce.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InstanceState {
    pub instance_nonce: u64,
    key: u64,
    digest: u64,
}

impl Reference {
    pub fn new(params: InitParams) -> Reference {
        let base: Vec<u64> = (0..word_count(params)).map(base_word).collect();
        let base_fold = base.iter().fold(0, |folded, word| fold(folded, *word));
        Reference {
            params,
            base,
            base_fold,
        }
    }

    /// The init state of an instance started with `instance_nonce`: the fold of
    /// its keyed words from its start is the start rotated once per word, the
    /// unkeyed words' fold, and the key's share ([`key_fold`]).
    pub fn instance(&self, instance_nonce: u64) -> InstanceState {
        let key = instance_key(instance_nonce);
        let count = self.base.len() as u64;
        let folded =
            rotated(digest_start(self.params, key), count) ^ self.base_fold ^ key_fold(key, count);
        InstanceState {
            instance_nonce,
            key,
            digest: init_rounds(folded, self.params.init_iters),
        }
    }

    /// The checksum that instance answers to `iters` rounds carrying `nonce`.
    pub fn checksum(&self, instance: &InstanceState, iters: u64, nonce: u64) -> u64 {
        let base = &self.base;
        checksum(
            instance.digest,
            base.len() as u64,
            |i| base[i as usize] ^ instance.key,
            iters,
            nonce,
        )
    }
}

/// The checksum any correct instance started with `instance_nonce` returns for
/// these parameters and this request nonce.
pub fn expected_checksum(
    params: InitParams,
    instance_nonce: u64,
    invoke_iters: u64,
    nonce: u64,
) -> u64 {
    let reference = Reference::new(params);
    reference.checksum(&reference.instance(instance_nonce), invoke_iters, nonce)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksum_depends_on_init_and_request() {
        let base = expected_checksum(InitParams::DEFAULT, 3, 50, 9);
        let more_memory = InitParams {
            init_kib: 8,
            ..InitParams::DEFAULT
        };
        let more_iters = InitParams {
            init_iters: 101,
            ..InitParams::DEFAULT
        };
        assert_ne!(base, expected_checksum(more_memory, 3, 50, 9));
        assert_ne!(base, expected_checksum(more_iters, 3, 50, 9));
        assert_ne!(base, expected_checksum(InitParams::DEFAULT, 3, 51, 9));
        assert_ne!(base, expected_checksum(InitParams::DEFAULT, 4, 50, 9));
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
            let probe = Probe::init(1, 0, params);
            let mut seen = std::collections::HashSet::new();
            for nonce in (0..2000u64).chain([u64::MAX, 1 << 63]) {
                assert!(seen.insert(probe.checksum(iters, nonce)), "nonce {nonce}");
            }
        }
    }

    #[test]
    fn checksum_is_independent_of_instance_and_index() {
        let mut probe = Probe::init(42, 6, InitParams::DEFAULT);
        let first = probe.invoke(50, 7);
        let second = probe.invoke(50, 7);
        assert_eq!((first.index, second.index), (0, 1));
        assert_eq!(first.instance_id, 42);
        assert_eq!(first.checksum, second.checksum);
        assert_eq!(
            first.checksum,
            expected_checksum(InitParams::DEFAULT, 6, 50, 7)
        );
    }

    #[test]
    fn zero_memory_and_zero_iters_are_valid() {
        let params = InitParams {
            init_kib: 0,
            init_iters: 0,
        };
        let mut probe = Probe::init(1, 5, params);
        assert_eq!(
            probe.invoke(0, 0).checksum,
            expected_checksum(params, 5, 0, 0)
        );
        assert_ne!(
            expected_checksum(params, 5, 0, 0),
            expected_checksum(params, 5, 1, 0)
        );
        // With no memory, the instance nonce still reaches the checksum (the digest).
        assert_ne!(
            expected_checksum(params, 5, 0, 0),
            expected_checksum(params, 6, 0, 0)
        );
    }

    #[test]
    fn every_instance_nonce_gives_its_own_init_state() {
        // A start whose init state came from another start (a restored snapshot) must
        // not verify: many instance nonces, one request, no two checksums alike; and
        // the harness's reference agrees with a real instance's own memory for each.
        let reference = Reference::new(InitParams::DEFAULT);
        let mut seen = std::collections::HashSet::new();
        for instance_nonce in (0..500u64).chain([u64::MAX, 1 << 63]) {
            let probe = Probe::init(7, instance_nonce, InitParams::DEFAULT);
            let state = reference.instance(instance_nonce);
            assert_eq!(
                reference.checksum(&state, 50, 9),
                probe.checksum(50, 9),
                "{instance_nonce}"
            );
            assert!(seen.insert(probe.checksum(50, 9)), "{instance_nonce}");
        }
    }

    #[test]
    fn the_reference_derives_what_the_probe_computes() {
        // The closed-form fold against the probe's own, word by word, for memory
        // sizes of 0, 1 and several KiB and for the key's share of any word count.
        for init_kib in [0, 1, 3, 64] {
            let params = InitParams {
                init_kib,
                init_iters: 17,
            };
            let reference = Reference::new(params);
            for instance_nonce in [0, 1, 0xdead_beef, u64::MAX] {
                let probe = Probe::init(9, instance_nonce, params);
                assert_eq!(
                    reference.instance(instance_nonce).digest,
                    probe.digest,
                    "{init_kib} KiB, {instance_nonce:x}"
                );
            }
        }
        for key in [1, 0b11, 0x8000_0000_0000_0001, 0x0123_4567_89ab_cdef] {
            let mut naive = 0;
            for count in 0..300 {
                assert_eq!(key_fold(key, count), naive, "{key:x} × {count}");
                naive ^= rotated(key, count);
            }
        }
    }

    #[test]
    fn the_init_memory_itself_is_keyed_by_the_instance_nonce() {
        // Not only the digest: a restore that kept the pages but redid the digest
        // would still hold another start's memory.
        let a = Probe::init(1, 1, InitParams::DEFAULT);
        let b = Probe::init(1, 2, InitParams::DEFAULT);
        assert_eq!(a.memory.len(), 512);
        assert!(a.memory.iter().zip(&b.memory).all(|(x, y)| x != y));
    }
}
