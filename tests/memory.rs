//! Uploads and downloads stream: 1 GiB up and down through the real Swift adds at most 16 MiB
//! to the process's peak memory. (Its own test binary, so no other test shares the process.)

mod support;

use std::io::{Read, Write};

use md5::{Digest, Md5};
use openstack_dest::{Destination, ReadOnce};
use support::real::{testbed, unique_container, var};

/// Deterministic pseudo-random bytes, generated on the fly.
struct Generator {
    left: u64,
    state: u64,
    md5: Md5,
}

impl Read for Generator {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = (buf.len() as u64).min(self.left) as usize;
        for b in &mut buf[..n] {
            self.state ^= self.state << 13;
            self.state ^= self.state >> 7;
            self.state ^= self.state << 17;
            *b = self.state as u8;
        }
        self.md5.update(&buf[..n]);
        self.left -= n as u64;
        Ok(n)
    }
}

struct HashingSink(Md5, u64);

impl Write for HashingSink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.update(buf);
        self.1 += buf.len() as u64;
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn peak_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

#[test]
fn one_gib_up_and_down_adds_at_most_16_mib() {
    let Some(tb) = testbed() else { return };
    let mib: u64 = std::env::var("OSD_MEMORY_TEST_MIB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1024);
    let c = unique_container("memory");
    let d = Destination::open(&tb.v3(&c, "", &var("OSD_REGION1"))).unwrap();
    d.create_container().unwrap();
    d.put_bytes("warm-up", b"x").unwrap();
    d.get_bytes("warm-up").unwrap();
    let before = peak_kib();

    let size = mib * 1024 * 1024;
    let (tx, rx) = std::sync::mpsc::channel();
    let gen = Generator {
        left: size,
        state: 0x9E37_79B9_7F4A_7C15,
        md5: Md5::new(),
    };
    struct Tap<R>(R, std::sync::mpsc::Sender<[u8; 16]>);
    impl Read for Tap<Generator> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = self.0.read(buf)?;
            if n == 0 {
                let _ = self.1.send(self.0.md5.clone().finalize().into());
            }
            Ok(n)
        }
    }
    let t = std::time::Instant::now();
    let sent = d
        .put_stream("big", Box::new(ReadOnce(Tap(gen, tx))), Some(size), None)
        .unwrap();
    let up = t.elapsed();
    assert_eq!(sent, size);
    let sent_md5 = rx.recv().unwrap();

    let t = std::time::Instant::now();
    let mut sink = HashingSink(Md5::new(), 0);
    d.get_to_writer("big", &mut sink, None).unwrap();
    let down = t.elapsed();
    assert_eq!(sink.1, size);
    assert_eq!(<[u8; 16]>::from(sink.0.finalize()), sent_md5);

    let after = peak_kib();
    let added_mib = (after.saturating_sub(before)) as f64 / 1024.0;
    eprintln!(
        "memory: {mib} MiB up in {:.1} s, down in {:.1} s; peak memory grew by {added_mib:.1} MiB (from {} to {} KiB)",
        up.as_secs_f64(),
        down.as_secs_f64(),
        before,
        after
    );
    assert!(added_mib <= 16.0, "peak memory grew by {added_mib:.1} MiB");
    d.delete("big").unwrap();
    d.delete("warm-up").unwrap();
}
