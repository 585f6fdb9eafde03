//! A TCP proxy that behaves like a real network path: a fixed round-trip time and a bandwidth
//! shared by every connection in each direction. On loopback a registry answers in
//! microseconds, so a copy benchmark only measures CPU; through this proxy round trips
//! (existence checks, token fetches, upload sessions) cost what they cost users. The kernel's
//! netem would do this, but needs `CAP_NET_ADMIN` and the `sch_netem` module, which this kind of
//! VM lacks.
//!
//! Each direction of each connection has a reader thread and a writer thread. The reader stamps
//! every chunk it reads with the time it would have left the far end of the link: the link is
//! busy for `len * 8 / bandwidth` after the previous chunk of the same direction (of any
//! connection), then the chunk travels half the round trip. The writer sleeps until that time
//! and forwards it. A half-close travels the same way, after the last chunk. A new connection
//! waits one round trip before anything is relayed: the TCP handshake's.

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

/// The link's shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shape {
    /// Round-trip time added to every exchange (half in each direction).
    pub rtt: Duration,
    /// Bits per second in each direction, shared by all connections; 0 for unlimited.
    pub bits_per_second: u64,
}

impl Shape {
    /// A continental broadband path: 40 ms round trip, 200 Mbit/s each way.
    pub const WAN: Self = Self {
        rtt: Duration::from_millis(40),
        bits_per_second: 200_000_000,
    };

    /// How long the link is busy sending `bytes`.
    fn serialization(&self, bytes: usize) -> Duration {
        if self.bits_per_second == 0 {
            return Duration::ZERO;
        }
        let nanos = (bytes as u128 * 8 * 1_000_000_000) / u128::from(self.bits_per_second);
        Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX))
    }
}

/// One direction of the link: when it is free to send the next chunk.
#[derive(Default)]
struct Direction(Mutex<Option<Instant>>);

impl Direction {
    /// Books the link for `bytes` read at `now`; returns when they arrive at the other end.
    fn book(&self, shape: &Shape, now: Instant, bytes: usize) -> Instant {
        let mut free = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let start = free.map_or(now, |f| f.max(now));
        let sent = start + shape.serialization(bytes);
        *free = Some(sent);
        sent + shape.rtt / 2
    }
}

struct Link {
    shape: Shape,
    up: Direction,
    down: Direction,
    /// Connections open now, and the most ever open at once.
    open: AtomicUsize,
    peak: AtomicUsize,
}

/// A running proxy; stops accepting when dropped (open connections finish on their own).
pub struct SlowLink {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    link: Arc<Link>,
}

impl SlowLink {
    /// Listens on a free port of 127.0.0.1 and forwards every connection to `upstream`.
    pub fn start(upstream: SocketAddr, shape: Shape) -> io::Result<Self> {
        Self::listen(SocketAddr::from(([127, 0, 0, 1], 0)), upstream, shape)
    }

    /// Listens on `listen` and forwards every connection to `upstream`.
    pub fn listen(listen: SocketAddr, upstream: SocketAddr, shape: Shape) -> io::Result<Self> {
        let listener = TcpListener::bind(listen)?;
        let addr = listener.local_addr()?;
        let stop = Arc::new(AtomicBool::new(false));
        let link = Arc::new(Link {
            shape,
            up: Direction::default(),
            down: Direction::default(),
            open: AtomicUsize::new(0),
            peak: AtomicUsize::new(0),
        });
        let stopping = stop.clone();
        let accepted = link.clone();
        thread::Builder::new()
            .name("slowlink-accept".into())
            .spawn(move || {
                for client in listener.incoming() {
                    if stopping.load(Ordering::Relaxed) {
                        break;
                    }
                    let Ok(client) = client else { continue };
                    let link = accepted.clone();
                    let now = link.open.fetch_add(1, Ordering::SeqCst) + 1;
                    link.peak.fetch_max(now, Ordering::SeqCst);
                    let _ = thread::Builder::new()
                        .name("slowlink-conn".into())
                        .spawn(move || {
                            // The kernel completed the handshake locally; a real one costs a
                            // round trip before the first request leaves: hold the connection
                            // that long before reading from it.
                            thread::sleep(link.shape.rtt);
                            if let Ok(server) = TcpStream::connect(upstream) {
                                connect(&client, &server, &link);
                            }
                            link.open.fetch_sub(1, Ordering::SeqCst);
                        });
                }
            })?;
        Ok(Self { addr, stop, link })
    }

    /// The address clients connect to.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The most connections that were open through the link at once: how many requests a
    /// client kept in flight (HTTP/1.1 runs one request per connection at a time).
    pub fn peak_connections(&self) -> usize {
        self.link.peak.load(Ordering::SeqCst)
    }
}

impl Drop for SlowLink {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        // Wakes the accept loop so that it sees the flag.
        let _ = TcpStream::connect(self.addr);
    }
}

/// Relays both directions of one connection until both are closed.
fn connect(client: &TcpStream, server: &TcpStream, link: &Arc<Link>) {
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    let pipes = [
        (client.try_clone(), server.try_clone(), true),
        (server.try_clone(), client.try_clone(), false),
    ];
    let mut handles = Vec::new();
    for (from, to, up) in pipes {
        let (Ok(from), Ok(to)) = (from, to) else {
            return;
        };
        let link = link.clone();
        handles.push(thread::spawn(move || relay(from, to, &link, up)));
    }
    for h in handles {
        let _ = h.join();
    }
}

/// Chunks of up to 64 KiB in flight per direction of a connection (4 MiB, beyond the
/// bandwidth-delay product of the paths this is meant for).
const QUEUE: usize = 64;

/// A chunk on its way, or the end of the stream (empty), with its arrival time.
type Chunk = (Instant, Vec<u8>);

fn relay(mut from: TcpStream, mut to: TcpStream, link: &Link, up: bool) {
    let direction = if up { &link.up } else { &link.down };
    // Bounded, so that a sender faster than the link fills its TCP window and waits, as it
    // would on a real path, instead of the proxy buffering the whole transfer.
    let (tx, rx) = mpsc::sync_channel::<Chunk>(QUEUE);
    let writer = thread::spawn(move || {
        for (at, data) in rx {
            let now = Instant::now();
            if at > now {
                thread::sleep(at - now);
            }
            if data.is_empty() {
                let _ = to.shutdown(Shutdown::Write);
                return;
            }
            if to.write_all(&data).is_err() {
                return;
            }
        }
        let _ = to.shutdown(Shutdown::Write);
    });
    let mut buf = vec![0u8; 64 << 10];
    loop {
        let n = from.read(&mut buf).unwrap_or(0);
        let at = direction.book(&link.shape, Instant::now(), n);
        if tx.send((at, buf[..n].to_vec())).is_err() || n == 0 {
            break;
        }
    }
    drop(tx);
    let _ = writer.join();
    let _ = from.shutdown(Shutdown::Read);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An upstream that echoes every connection back.
    fn echo() -> SocketAddr {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        thread::spawn(move || {
            for c in l.incoming() {
                let Ok(mut c) = c else { continue };
                thread::spawn(move || {
                    let mut w = c.try_clone().unwrap();
                    let _ = io::copy(&mut c, &mut w);
                    let _ = w.shutdown(Shutdown::Write);
                });
            }
        });
        addr
    }

    #[test]
    fn a_round_trip_takes_at_least_the_rtt_and_bytes_arrive_intact() {
        let shape = Shape {
            rtt: Duration::from_millis(60),
            bits_per_second: 0,
        };
        let link = SlowLink::start(echo(), shape).unwrap();
        let mut c = TcpStream::connect(link.addr()).unwrap();
        let t = Instant::now();
        c.write_all(b"ping").unwrap();
        let mut got = [0u8; 4];
        c.read_exact(&mut got).unwrap();
        assert_eq!(&got, b"ping");
        // The handshake's round trip, then each way takes half of another.
        assert!(t.elapsed() >= shape.rtt * 2, "{:?}", t.elapsed());
        // On the open connection an exchange costs one round trip.
        let t = Instant::now();
        c.write_all(b"pong").unwrap();
        c.read_exact(&mut got).unwrap();
        assert_eq!(&got, b"pong");
        assert!(t.elapsed() >= shape.rtt, "{:?}", t.elapsed());
    }

    #[test]
    fn the_bandwidth_bounds_a_transfer_and_half_close_travels() {
        // 2 MB at 80 Mbit/s: at least 200 ms each way on the link.
        let shape = Shape {
            rtt: Duration::from_millis(2),
            bits_per_second: 80_000_000,
        };
        let link = SlowLink::start(echo(), shape).unwrap();
        let data: Vec<u8> = (0..2_000_000u32).map(|i| (i % 251) as u8).collect();
        let mut c = TcpStream::connect(link.addr()).unwrap();
        let t = Instant::now();
        let mut w = c.try_clone().unwrap();
        let sent = data.clone();
        let sender = thread::spawn(move || {
            w.write_all(&sent).unwrap();
            w.shutdown(Shutdown::Write).unwrap();
        });
        let mut back = Vec::new();
        // Ends only if the half-close went through the proxy to the echo and back.
        c.read_to_end(&mut back).unwrap();
        sender.join().unwrap();
        assert_eq!(back, data);
        assert!(
            t.elapsed() >= Duration::from_millis(200),
            "{:?}",
            t.elapsed()
        );
    }

    #[test]
    fn the_serialization_time_follows_the_bandwidth() {
        assert_eq!(Shape::WAN.serialization(25_000_000), Duration::from_secs(1));
        let free = Shape {
            rtt: Duration::ZERO,
            bits_per_second: 0,
        };
        assert_eq!(free.serialization(1 << 30), Duration::ZERO);
    }
}
