//! Throughput of the library on one destination: a large file up and down, and many small
//! objects sequentially and from several threads. Prints one `key value` line per figure, for
//! examples/bench/run.sh to compare with curl and python-swiftclient on the same server.
//!
//! Usage: bench <openstack-url> <large-file> <small-count> <small-size-bytes> <threads>

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use openstack_dest::Destination;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 6 {
        eprintln!(
            "usage: bench <openstack-url> <large-file> <small-count> <small-size-bytes> <threads>"
        );
        std::process::exit(2);
    }
    let d = Arc::new(Destination::open(&args[1]).unwrap_or_else(|e| {
        eprintln!("bench: {e}");
        std::process::exit(1)
    }));
    let big = Path::new(&args[2]);
    let count: usize = args[3].parse().expect("small-count is a number");
    let size: usize = args[4].parse().expect("small-size-bytes is a number");
    let threads: usize = args[5].parse().expect("threads is a number");
    d.create_container().expect("create container");

    let t = Instant::now();
    d.put_file("bench-large", big).expect("large upload");
    println!("large_put_seconds {:.3}", t.elapsed().as_secs_f64());
    let out = big.with_extension("restored");
    let t = Instant::now();
    d.get_file("bench-large", &out).expect("large download");
    println!("large_get_seconds {:.3}", t.elapsed().as_secs_f64());
    let _ = std::fs::remove_file(&out);

    let data = vec![0x5au8; size];
    let t = Instant::now();
    for i in 0..count {
        d.put_bytes(&format!("small/seq-{i}"), &data)
            .expect("small upload");
    }
    println!("small_put_seq_seconds {:.3}", t.elapsed().as_secs_f64());

    let t = Instant::now();
    let per = count.div_ceil(threads);
    let handles: Vec<_> = (0..threads)
        .map(|k| {
            let d = d.clone();
            let data = data.clone();
            std::thread::spawn(move || {
                for i in (k * per)..((k + 1) * per).min(count) {
                    d.put_bytes(&format!("small/par-{i}"), &data)
                        .expect("small upload");
                }
            })
        })
        .collect();
    for h in handles {
        h.join().expect("thread");
    }
    println!("small_put_par_seconds {:.3}", t.elapsed().as_secs_f64());

    let t = Instant::now();
    let listed = d.list().expect("list").len();
    println!(
        "list_seconds {:.3} entries {listed}",
        t.elapsed().as_secs_f64()
    );

    for i in 0..count {
        d.delete(&format!("small/seq-{i}")).expect("delete");
        d.delete(&format!("small/par-{i}")).expect("delete");
    }
    d.delete("bench-large").expect("delete");
}
