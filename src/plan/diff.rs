//! Spec instances + refreshed state → Plan.
