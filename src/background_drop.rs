//! Freeing large values on another thread.
//!
//! Freeing the ten thousand value trees a large plan builds on its way (the evaluation's
//! bindings, address indexes) costs a tenth of the plan's time when done inline, and nothing
//! waits on it: a spare core can do it while the plan goes on.

/// Below this many entries a thread costs more than the freeing it saves.
pub const WORTH_A_THREAD: usize = 1_000;

/// Drops `value` on a new thread.
pub fn drop_in_background<T: Send + 'static>(value: T) {
    // When no thread can be started, the closure, and the value in it, is freed here instead.
    let _ = std::thread::Builder::new()
        .name("cairn-drop".into())
        .spawn(move || drop(value));
}
