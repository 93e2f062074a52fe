//! The wire layer: EC2 Query parameters in, XML out, the EBS direct APIs' REST-JSON,
//! and who is calling.

pub mod admin;
pub mod auth;
pub mod connections;
pub mod dashboard;
pub mod ebs;
pub mod intake;
pub mod params;
pub mod query;
pub mod refusals;
pub mod shapes;
pub mod signature;
pub mod ssm;
pub mod xml;
