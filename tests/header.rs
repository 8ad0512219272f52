//! The committed C header must be exactly what build.rs generates from src/ffi/.

#[test]
fn committed_header_is_current() {
    let generated = std::fs::read_to_string(concat!(env!("OUT_DIR"), "/openstack_dest.h"))
        .expect("build.rs writes the header to OUT_DIR");
    let committed = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/include/openstack_dest.h"
    ))
    .expect("include/openstack_dest.h exists");
    assert!(
        generated == committed,
        "include/openstack_dest.h is stale: run `cargo build` outside CI and commit the header"
    );
}

#[test]
fn header_declares_every_export() {
    let header = include_str!("../include/openstack_dest.h");
    for f in [
        "os_open",
        "os_open_with",
        "os_free",
        "os_test",
        "os_create_container",
        "os_put",
        "os_put_file",
        "os_put_file_ex",
        "os_put_stream",
        "os_get",
        "os_bytes_free",
        "os_get_file",
        "os_get_file_ex",
        "os_get_stream",
        "os_delete",
        "os_rename",
        "os_stat",
        "os_entry_free",
        "os_list",
        "os_entries_free",
        "os_quota",
        "os_version",
        "os_status_name",
        "os_last_error_message",
        "os_last_http_status",
        "os_set_log_callback",
    ] {
        assert!(
            header.contains(&format!(" {f}(")) || header.contains(&format!("*{f}(")),
            "{f} is missing from the header"
        );
    }
}
