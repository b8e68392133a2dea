//! The dependency graph of resource instances, and cycle detection.
