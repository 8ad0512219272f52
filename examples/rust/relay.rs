//! The test relay (tests/support/relay.rs) as a program, for `make bench`'s realistic network:
//! every connection to 127.0.0.1:<port> goes to <upstream> with a one-way delay and a link
//! bandwidth shared by all connections, the same for every client measured.
//!
//! Usage: relay <port> <upstream host:port> <one-way delay ms> <bandwidth MiB/s, 0 = none>

#[path = "../../tests/support/relay.rs"]
mod relay;

use std::time::Duration;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let usage = || -> ! {
        eprintln!("usage: relay <port> <upstream host:port> <one-way delay ms> <bandwidth MiB/s, 0 = none>");
        std::process::exit(2)
    };
    if args.len() != 5 {
        usage();
    }
    let port: u16 = args[1].parse().unwrap_or_else(|_| usage());
    let delay: u64 = args[3].parse().unwrap_or_else(|_| usage());
    let mib: u64 = args[4].parse().unwrap_or_else(|_| usage());
    let r = relay::Relay::start_on(port, &args[2]);
    r.set_latency(Duration::from_millis(delay));
    r.set_rate(mib << 20);
    println!(
        "relay: {} -> {} (one-way delay {delay} ms, {mib} MiB/s each way)",
        r.url(),
        args[2]
    );
    loop {
        std::thread::park();
    }
}
