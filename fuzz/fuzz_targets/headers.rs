#![no_main]
//! Fuzz target `headers`: see `openstack_dest_fuzz::headers` for how the bytes are read.

libfuzzer_sys::fuzz_target!(|data: &[u8]| openstack_dest_fuzz::headers(data));
