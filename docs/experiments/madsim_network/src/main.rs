//! Does madsim serve as asyncspec's simulated network? The same job both ways: a peer
//! sends 24 bytes in three writes over a link with 0-60 ms latency; record what the
//! reader receives (time, bytes) for 2000 seeds; check that a seed replays the same
//! arrivals; time both. Needs RUSTFLAGS="--cfg madsim" (madsim replaces tokio's
//! runtime only under that cfg).

use std::time::{Duration, Instant};

const MESSAGE: &[u8] = b"ab\nab\nabab\naab\nb\nabba\n\n";
const SEEDS: u64 = 2000;

#[cfg(madsim)]
fn madsim_arrivals(seed: u64) -> Vec<(u128, Vec<u8>)> {
    use madsim::net::{TcpListener, TcpStream};
    use madsim::runtime::Runtime;
    use std::net::SocketAddr;
    let mut config = madsim::Config::default();
    config.net.send_latency = Duration::from_millis(0)..Duration::from_millis(60);
    let rt = Runtime::with_seed_and_config(seed, config);
    let server: SocketAddr = "10.0.0.1:1".parse().unwrap();
    let server_node = rt.create_node().ip(server.ip()).build();
    let client_node = rt.create_node().ip("10.0.0.2".parse().unwrap()).build();
    rt.block_on(async move {
        let reader = server_node.spawn(async move {
            use tokio::io::AsyncReadExt;
            let listener = TcpListener::bind(server).await.unwrap();
            let (mut conn, _) = listener.accept().await.unwrap();
            let start = madsim::time::Instant::now();
            let mut got = Vec::new();
            let mut buf = [0u8; 64];
            loop {
                let n = conn.read(&mut buf).await.unwrap();
                if n == 0 {
                    break;
                }
                got.push((start.elapsed().as_millis(), buf[..n].to_vec()));
            }
            got
        });
        client_node
            .spawn(async move {
                use tokio::io::AsyncWriteExt;
                madsim::time::sleep(Duration::from_millis(1)).await;
                let mut conn = TcpStream::connect(server).await.unwrap();
                for part in MESSAGE.chunks(8) {
                    conn.write_all(part).await.unwrap();
                    // madsim sends only on flush, the whole buffer as one message.
                    conn.flush().await.unwrap();
                    madsim::time::sleep(Duration::from_millis(20)).await;
                }
                if std::env::var_os("LINGER").is_some() {
                    // Keep the connection open until everything in flight has landed.
                    madsim::time::sleep(Duration::from_millis(500)).await;
                }
            })
            .await
            .unwrap();
        reader.await.unwrap()
    })
}

fn sim_arrivals(seed: u64) -> Vec<(u128, Vec<u8>)> {
    use asyncspec_sim::network::{schedule, Arrival, End, Link, Write};
    let writes: Vec<Write> = MESSAGE
        .chunks(8)
        .enumerate()
        .map(|(i, c)| Write { at_ms: 20 * i as u64, data: c.to_vec() })
        .collect();
    let link = Link { latency_min_ms: 0, latency_max_ms: 60, max_chunk: 8 };
    let mut choices = asyncspec_sim::seed::Choices::new(seed);
    schedule(&mut choices, &link, &writes, &[], End::Eof)
        .into_iter()
        .filter_map(|d| match d.what {
            Arrival::Data(b) => Some((d.at_ms as u128, b)),
            _ => None,
        })
        .collect()
}

fn measure(name: &str, f: impl Fn(u64) -> Vec<(u128, Vec<u8>)>) {
    let started = Instant::now();
    let mut distinct_chunkings = std::collections::BTreeSet::new();
    let mut broken = 0;
    for seed in 0..SEEDS {
        let a = f(seed);
        let joined: Vec<u8> = a.iter().flat_map(|(_, b)| b.clone()).collect();
        if joined != MESSAGE {
            println!(
                "{name}: seed {seed}: the reader got {:?} (at ms {:?}), not the {} bytes sent in order",
                String::from_utf8_lossy(&joined),
                a.iter().map(|(t, _)| *t).collect::<Vec<_>>(),
                MESSAGE.len()
            );
            broken += 1;
        }
        distinct_chunkings.insert(a.iter().map(|(_, b)| b.len()).collect::<Vec<_>>());
    }
    let elapsed = started.elapsed();
    let replay_same = (0..50).all(|seed| f(seed) == f(seed));
    println!(
        "{name}: {SEEDS} seeds in {:.3} s ({:.1} us/seed); same seed replays: {replay_same}; distinct chunkings seen: {}; seeds whose bytes arrived lost or out of order: {broken}",
        elapsed.as_secs_f64(),
        elapsed.as_secs_f64() * 1e6 / SEEDS as f64,
        distinct_chunkings.len()
    );
    if broken > 0 {
        println!("  ({name}: only the first mismatches are shown above)");
    }
}

fn main() {
    measure("asyncspec-sim network::schedule", sim_arrivals);
    #[cfg(madsim)]
    measure("madsim 0.2.34 TCP", madsim_arrivals);
    #[cfg(not(madsim))]
    println!("madsim: not measured (build with RUSTFLAGS=\"--cfg madsim\")");
}
