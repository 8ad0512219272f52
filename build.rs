//! Generates, into `$OUT_DIR`: `status.rs`, the `os_status` enum and its conversions, from the
//! table `src/ffi/statuses.toml`; and the C header `openstack_dest.h` with cbindgen (settings in
//! `cbindgen.toml`), which `tests/header.rs` compares with the committed `include/` copy
//! (`make header` updates that copy). Also gives the shared library its SONAME.

use std::env;
use std::fmt::Write;
use std::fs;
use std::path::PathBuf;

fn main() {
    let dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let out = PathBuf::from(env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    for path in ["src/ffi", "build.rs", "cbindgen.toml"] {
        println!("cargo:rerun-if-changed={path}");
    }

    let statuses = out.join("status.rs");
    let table = fs::read_to_string(dir.join("src/ffi/statuses.toml"))
        .expect("src/ffi/statuses.toml is readable");
    fs::write(&statuses, status_code(&table)).expect("OUT_DIR is writable");

    let version = env::var("CARGO_PKG_VERSION").expect("cargo sets CARGO_PKG_VERSION");
    let numbers: Vec<&str> = version.split(['.', '-', '+']).chain(["0", "0"]).collect();
    let mut config =
        cbindgen::Config::from_file(dir.join("cbindgen.toml")).expect("cbindgen.toml is valid");
    config.after_includes = Some(format!(
        "\n#define OPENSTACK_DEST_VERSION \"{version}\"\n#define OPENSTACK_DEST_VERSION_MAJOR {}\n#define OPENSTACK_DEST_VERSION_MINOR {}\n#define OPENSTACK_DEST_VERSION_PATCH {}\n",
        numbers[0], numbers[1], numbers[2]
    ));
    // A broken header must not hide behind a stale one: fail the build.
    cbindgen::Builder::new()
        .with_crate(&dir)
        .with_src(&statuses)
        .with_config(config)
        .generate()
        .unwrap_or_else(|e| panic!("cbindgen could not generate the header: {e}"))
        .write_to_file(out.join("openstack_dest.h"));

    // The versioned SONAME is for installed copies (`make install` sets OPENSTACK_DEST_SONAME).
    // A build in the checkout has none, so a program linked with `-Ltarget/debug
    // -lopenstack_dest` asks for `libopenstack_dest.so`, the file cargo writes, and runs from the
    // checkout (`-Wl,-rpath` or LD_LIBRARY_PATH) with no link of its own.
    println!("cargo:rerun-if-env-changed=OPENSTACK_DEST_SONAME");
    if env::var_os("OPENSTACK_DEST_SONAME").is_some()
        && env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux")
    {
        // MAJOR, or 0.MINOR before 1.0 (each 0.x release may change the ABI: README's policy).
        let soversion = if numbers[0] == "0" {
            format!("0.{}", numbers[1])
        } else {
            numbers[0].to_string()
        };
        println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libopenstack_dest.so.{soversion}");
    }
}

/// The Rust code of the status table: the enum (with the table's docs, for the header), the
/// name of a number, and the status of each of the core's error kinds.
fn status_code(table: &str) -> String {
    let table: toml::Table = table.parse().expect("src/ffi/statuses.toml is valid TOML");
    let rows = table["status"]
        .as_array()
        .expect("statuses.toml has [[status]] rows");
    let (mut variants, mut names, mut kinds) = (String::new(), String::new(), String::new());
    for row in rows {
        let name = row["name"].as_str().expect("a status has a name");
        let number = row["number"].as_integer().expect("a status has a number");
        let doc = row["doc"].as_str().expect("a status has a doc");
        writeln!(variants, "    /// {doc}\n    {name} = {number},").unwrap();
        writeln!(names, "            {number} => c\"{name}\",").unwrap();
        for kind in row["kinds"].as_array().expect("a status has kinds") {
            let kind = kind.as_str().expect("a kind is a name");
            writeln!(kinds, "            ErrorKind::{kind} => os_status::{name},").unwrap();
        }
    }
    format!(
        "/// Result of every fallible call. The numbers are stable and never reused.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum os_status {{
{variants}}}

impl os_status {{
    /// The name of a status number; `OS_UNKNOWN` for a number this version does not know.
    pub(crate) fn name_of(number: std::ffi::c_int) -> &'static std::ffi::CStr {{
        match number {{
{names}            _ => c\"OS_UNKNOWN\",
        }}
    }}
}}

impl From<ErrorKind> for os_status {{
    fn from(kind: ErrorKind) -> Self {{
        match kind {{
{kinds}        }}
    }}
}}
"
    )
}
