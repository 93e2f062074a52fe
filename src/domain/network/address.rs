//! Elastic IP addresses (AllocateAddress and friends).
