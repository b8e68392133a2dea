//! The in-process `fake` provider, for engine tests and benchmarks.

use super::Catalog;

pub fn register(catalog: &mut Catalog) {
    let _ = catalog;
}
