//! Refresh and apply: the concurrent walk over a plan's graph, retries and cancellation.
