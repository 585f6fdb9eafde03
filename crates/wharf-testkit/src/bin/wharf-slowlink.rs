//! `wharf-slowlink UPSTREAM [RTT_MS [MBIT]]`: runs [`wharf_testkit::slowlink`] in front of
//! `UPSTREAM` (host:port) until killed, for the benchmarks. Prints the address to use on
//! stdout. Defaults: 40 ms round trip, 200 Mbit/s each way (0 = unlimited).
#![forbid(unsafe_code)]
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::io::Write;
use std::net::{SocketAddr, ToSocketAddrs};
use std::process::ExitCode;
use std::time::Duration;

use wharf_testkit::slowlink::{Shape, SlowLink};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let upstream: Option<SocketAddr> = args
        .first()
        .and_then(|a| a.to_socket_addrs().ok())
        .and_then(|mut a| a.next());
    let number = |i: usize, default: u64| args.get(i).map_or(Some(default), |a| a.parse().ok());
    let (Some(upstream), Some(rtt), Some(mbit)) = (upstream, number(1, 40), number(2, 200)) else {
        eprintln!("usage: wharf-slowlink HOST:PORT [RTT_MS [MBIT]]");
        return ExitCode::from(2);
    };
    let shape = Shape {
        rtt: Duration::from_millis(rtt),
        bits_per_second: mbit * 1_000_000,
    };
    let link = match SlowLink::start(upstream, shape) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("wharf-slowlink: listening for {upstream}: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!("{}", link.addr());
    let _ = std::io::stdout().flush();
    loop {
        std::thread::park();
    }
}
