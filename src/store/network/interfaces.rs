//! Network interfaces.
