//! The wire layer: EC2 Query parameters in, XML out, and who is calling.

pub mod auth;
pub mod params;
pub mod signature;
pub mod xml;
