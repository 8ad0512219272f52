#![no_main]
//! Fuzz target `url_options`: see `openstack_dest_fuzz::url_options` for how the bytes are read.

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    openstack_dest_fuzz::url_options(data);
});
