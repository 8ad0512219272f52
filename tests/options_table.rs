//! README's options table and the fuzz dictionary of option keys come from the one table of
//! options (`src/config/keys.rs`). This test fails when either differs from it;
//! `OSD_BLESS_OPTIONS=1 cargo test --test options_table` rewrites them.

use openstack_dest::config::keys;

const BEGIN: &str = "<!-- options table: generated from src/config/keys.rs (OSD_BLESS_OPTIONS=1 cargo test --test options_table) -->\n";
const END: &str = "<!-- end of the options table -->\n";

fn path(relative: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(relative)
}

/// `text` with the part between `begin` and `end` replaced by `body`.
fn with_section(text: &str, begin: &str, end: &str, body: &str) -> String {
    let a = text.find(begin).expect("the begin marker") + begin.len();
    let b = a + text[a..].find(end).expect("the end marker");
    format!("{}{body}{}", &text[..a], &text[b..])
}

fn check_or_bless(relative: &str, wanted: &str) {
    let file = path(relative);
    let have = std::fs::read_to_string(&file).unwrap();
    if have == wanted {
        return;
    }
    if std::env::var_os("OSD_BLESS_OPTIONS").is_some() {
        std::fs::write(&file, wanted).unwrap();
        return;
    }
    panic!("{relative} differs from src/config/keys.rs: run OSD_BLESS_OPTIONS=1 cargo test --test options_table");
}

#[test]
fn readme_options_table_is_the_table() {
    let readme = std::fs::read_to_string(path("README.md")).unwrap();
    let wanted = with_section(&readme, BEGIN, END, &keys::markdown_table());
    check_or_bless("README.md", &wanted);
}

#[test]
fn the_fuzz_dictionary_has_every_key() {
    let relative = "fuzz/dicts/url_options.dict";
    let dict = std::fs::read_to_string(path(relative)).unwrap();
    let begin = "# option keys: generated from src/config/keys.rs\n";
    let end = "# end of the option keys\n";
    let body: String = keys::TABLE
        .iter()
        .map(|o| format!("\"{}\"\n", o.key))
        .collect();
    check_or_bless(relative, &with_section(&dict, begin, end, &body));
}
