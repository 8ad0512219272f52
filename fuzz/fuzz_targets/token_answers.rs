#![no_main]
//! Fuzz target `token_answers`: see `openstack_dest_fuzz::token_answers` for how the bytes are read.

libfuzzer_sys::fuzz_target!(|data: &[u8]| openstack_dest_fuzz::token_answers(data));
