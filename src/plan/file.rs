//! Saved plan files: the plan, the state it was made against, and a checksum.
