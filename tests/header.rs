//! The committed C header must be exactly what build.rs generates from src/ffi/, and must
//! declare every function src/ffi exports. `make header` (OSD_BLESS_HEADER=1) updates it.

const COMMITTED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/include/openstack_dest.h");

#[test]
fn committed_header_is_current() {
    let generated = std::fs::read_to_string(concat!(env!("OUT_DIR"), "/openstack_dest.h"))
        .expect("build.rs writes the header to OUT_DIR");
    if std::env::var_os("OSD_BLESS_HEADER").is_some() {
        std::fs::write(COMMITTED, &generated).expect("include/openstack_dest.h is writable");
    }
    let committed = std::fs::read_to_string(COMMITTED).expect("include/openstack_dest.h exists");
    assert!(
        generated == committed,
        "include/openstack_dest.h is stale: run `make header` and commit it"
    );
}

#[test]
fn header_declares_every_export() {
    let header = std::fs::read_to_string(COMMITTED).expect("include/openstack_dest.h exists");
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/src/ffi");
    let mut exports = Vec::new();
    for file in std::fs::read_dir(dir).unwrap() {
        let text = std::fs::read_to_string(file.unwrap().path()).unwrap_or_default();
        for line in text.lines() {
            let line = line.trim_start();
            let rest = line
                .strip_prefix("pub unsafe extern \"C\" fn ")
                .or_else(|| line.strip_prefix("pub extern \"C\" fn "));
            if let Some(rest) = rest {
                exports.push(rest.split('(').next().unwrap().to_string());
            }
        }
    }
    assert!(exports.len() > 20, "found too few exports: {exports:?}");
    for f in &exports {
        assert!(
            header.contains(&format!(" {f}(")) || header.contains(&format!("*{f}(")),
            "{f} is missing from the header"
        );
    }
}
