//! libopenstack_dest: an OpenStack Swift backup destination.
//!
//! A backup program names its destination with one URL,
//! `openstack://<container>/<prefix>?auth-username=..&auth-password=..&openstack-tenant-name=..&openstack-authuri=..`,
//! and puts, gets, lists and deletes files. Keystone v2 (password or API key) and v3, regions,
//! paging, integrity checks, retries and streaming live here; the C ABI in [`ffi`] and the
//! Python and C# bindings only wrap it.
//!
//! ```no_run
//! use openstack_dest::Destination;
//! let d = Destination::open("openstack://backups/host1?auth-username=alice&auth-password=secret&openstack-tenant-name=demo&openstack-domain-name=Default&openstack-authuri=https://keystone.example:5000/v3")?;
//! d.create_container()?;
//! d.put_bytes("hello.txt", b"hello")?;
//! assert_eq!(d.get_bytes("hello.txt")?, b"hello");
//! for e in d.list()? { println!("{} {:?}", e.name, e.size); }
//! d.delete("hello.txt")?;
//! # Ok::<(), openstack_dest::Error>(())
//! ```

// All `unsafe` code is in `ffi` (the C ABI and the one raw system call, `ffi::sys`).
#![deny(unsafe_code)]

mod auth;
pub mod config;
pub mod error;
#[allow(unsafe_code)]
pub mod ffi;
#[doc(hidden)]
pub mod fuzzing;
mod headers;
mod http;
mod lock;
pub mod log;
mod secret;
mod swift;
mod time;

pub use config::Config;
pub use error::{Error, ErrorKind, Result};
pub use secret::{Secret, SecretUrl};
pub use swift::meta::PutOptions;
pub use swift::names::MAX_OBJECT_NAME;
pub use swift::types::{
    DeleteReport, Entry, EntryKind, ListOptions, Progress, Quota, ReadOnce, Rewindable, Session,
    SweepReport, UploadSource, Version,
};
pub use swift::Destination;
