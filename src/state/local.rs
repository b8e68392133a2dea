//! The local file backend: `.cairn/state/ENV.json`, written atomically, locked with a lock file.
