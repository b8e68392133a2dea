//! The providers cairn ships. The trait and its types live in the `cairn-provider` crate (the
//! boundary adapters compile against); this module re-exports them and assembles the catalog.

pub mod fake;
pub mod random;

pub use cairn_provider::provider::*;

/// The catalog of every built-in provider: one line per provider registers its types.
pub fn builtin_catalog() -> Catalog {
    let mut catalog = Catalog::default();
    fake::register(&mut catalog);
    random::register(&mut catalog);
    cairn_aws::register(&mut catalog);
    cairn_azure::register(&mut catalog);
    catalog
}
