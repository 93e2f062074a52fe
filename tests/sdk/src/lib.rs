//! Helpers shared by the SDK tests.
