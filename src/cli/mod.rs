//! Command-line interface: one file per command, each a thin wrapper over the library.
