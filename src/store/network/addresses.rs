//! Elastic IP addresses.
