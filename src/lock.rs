//! Locks that outlive a panic: a thread that panicked while holding a lock (a host callback
//! that panicked, caught at the C boundary) leaves data that is still consistent here, since
//! every critical section only replaces whole values. One helper instead of a recovery at
//! every call site.

use std::sync::{LockResult, PoisonError};

/// Takes the guard (or value) out of a lock result, poisoned or not.
pub(crate) trait Recover<T> {
    /// The guard or value, even when a panicking thread poisoned the lock.
    fn recover(self) -> T;
}

impl<T> Recover<T> for LockResult<T> {
    fn recover(self) -> T {
        self.unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    #[test]
    fn a_poisoned_lock_still_gives_its_value() {
        let m = Arc::new(Mutex::new(1));
        let m2 = m.clone();
        let _ = std::thread::spawn(move || {
            let _g = m2.lock().recover();
            panic!("poison it");
        })
        .join();
        assert!(m.is_poisoned());
        *m.lock().recover() += 1;
        assert_eq!(*m.lock().recover(), 2);
    }
}
