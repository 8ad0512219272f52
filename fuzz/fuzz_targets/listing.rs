#![no_main]
//! Fuzz target `listing`: see `openstack_dest_fuzz::listing` for how the bytes are read.

libfuzzer_sys::fuzz_target!(|data: &[u8]| openstack_dest_fuzz::listing(data));
