//! The simulated network: what a peer sends becomes a delivery schedule for a reader.
//!
//! A connection is in order (TCP): the peer's writes are cut into chunks whose sizes,
//! like each chunk's latency, come from the seed; a stall (a partition) holds every
//! arrival due inside it until it heals; the stream ends with EOF or a reset. The
//! model never runs the network: the scenario stores the schedule this produces, so
//! the model and every runtime replay exactly the same arrivals. Times are whole
//! milliseconds, which every loop's clock can represent exactly.

use crate::seed::Choices;

/// How the link shapes traffic.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Link {
    /// Least one-way latency, in milliseconds.
    pub latency_min_ms: u64,
    /// Most one-way latency, in milliseconds (a slow link has a high one).
    pub latency_max_ms: u64,
    /// Largest chunk the receiver sees at once (at least 1).
    pub max_chunk: usize,
}

/// A write by the peer at a time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Write {
    /// When the peer writes, in milliseconds.
    pub at_ms: u64,
    /// What it writes.
    pub data: Vec<u8>,
}

/// How the peer's side of the stream ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum End {
    /// It closes: EOF after the last byte.
    Eof,
    /// The connection is reset after the last byte.
    Reset,
    /// It stays open.
    Open,
}

/// A partition: nothing arrives from `from_ms` until `until_ms`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stall {
    /// Start, in milliseconds.
    pub from_ms: u64,
    /// Recovery, in milliseconds.
    pub until_ms: u64,
}

/// What arrives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Arrival {
    /// Bytes.
    Data(Vec<u8>),
    /// End of stream.
    Eof,
    /// Connection reset.
    Reset,
}

/// One arrival at a time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Delivery {
    /// When, in milliseconds.
    pub at_ms: u64,
    /// What.
    pub what: Arrival,
}

/// The arrivals a reader sees for the peer's `writes` (in time order) over `link`,
/// with `stalls`, ending as `end`. Deterministic in `choices`.
pub fn schedule(
    choices: &mut Choices,
    link: &Link,
    writes: &[Write],
    stalls: &[Stall],
    end: End,
) -> Vec<Delivery> {
    let mut out = Vec::new();
    // In order: nothing arrives before what was sent earlier.
    let mut last_ms = 0u64;
    let mut arrive = |choices: &mut Choices, sent_ms: u64| {
        let spread = link.latency_max_ms.saturating_sub(link.latency_min_ms);
        let latency = link.latency_min_ms + choices.below(spread + 1);
        let mut at = (sent_ms + latency).max(last_ms);
        for s in stalls {
            if at >= s.from_ms && at < s.until_ms {
                at = s.until_ms;
            }
        }
        last_ms = at;
        at
    };
    for w in writes {
        let mut rest: &[u8] = &w.data;
        while !rest.is_empty() {
            let max = link.max_chunk.max(1).min(rest.len());
            let size = 1 + choices.below(max as u64) as usize;
            let (chunk, tail) = rest.split_at(size);
            let at_ms = arrive(choices, w.at_ms);
            out.push(Delivery {
                at_ms,
                what: Arrival::Data(chunk.to_vec()),
            });
            rest = tail;
        }
    }
    let last_write = writes.last().map_or(0, |w| w.at_ms);
    match end {
        End::Eof | End::Reset => {
            let at_ms = arrive(choices, last_write);
            let what = if end == End::Eof {
                Arrival::Eof
            } else {
                Arrival::Reset
            };
            out.push(Delivery { at_ms, what });
        }
        End::Open => {}
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data_of(ds: &[Delivery]) -> Vec<u8> {
        ds.iter()
            .flat_map(|d| match &d.what {
                Arrival::Data(b) => b.clone(),
                _ => Vec::new(),
            })
            .collect()
    }

    #[test]
    fn every_byte_arrives_once_in_order_and_times_never_go_back() {
        let link = Link {
            latency_min_ms: 1,
            latency_max_ms: 40,
            max_chunk: 3,
        };
        let writes = vec![
            Write {
                at_ms: 0,
                data: b"hello ".to_vec(),
            },
            Write {
                at_ms: 5,
                data: b"world\n".to_vec(),
            },
        ];
        let stalls = [Stall {
            from_ms: 10,
            until_ms: 100,
        }];
        for seed in 0..200 {
            let ds = schedule(&mut Choices::new(seed), &link, &writes, &stalls, End::Eof);
            assert_eq!(data_of(&ds), b"hello world\n".to_vec(), "seed {seed}");
            assert!(
                ds.windows(2).all(|w| w[0].at_ms <= w[1].at_ms),
                "seed {seed}"
            );
            assert!(
                ds.iter().all(|d| d.at_ms < 10 || d.at_ms >= 100),
                "seed {seed}: an arrival inside the stall"
            );
            assert_eq!(ds.last().map(|d| &d.what), Some(&Arrival::Eof));
            assert!(ds.iter().all(|d| match &d.what {
                Arrival::Data(b) => !b.is_empty() && b.len() <= 3,
                _ => true,
            }));
        }
    }

    #[test]
    fn same_seed_same_schedule() {
        let link = Link {
            latency_min_ms: 0,
            latency_max_ms: 9,
            max_chunk: 4,
        };
        let writes = [Write {
            at_ms: 1,
            data: b"abcdefghij".to_vec(),
        }];
        let a = schedule(&mut Choices::new(7), &link, &writes, &[], End::Reset);
        let b = schedule(&mut Choices::new(7), &link, &writes, &[], End::Reset);
        assert_eq!(a, b);
    }
}
