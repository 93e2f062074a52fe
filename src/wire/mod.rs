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

/// A request id in EC2's shape (a random UUID), from the thread's random generator:
/// `Uuid::new_v4` asks the kernel for every id, one system call per request.
pub fn request_id() -> String {
    uuid::Builder::from_random_bytes(rand::random()).into_uuid().to_string()
}
