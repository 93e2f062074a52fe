//! The domain: entities, ids, states and the rules EC2 applies to them. No I/O here.

pub mod accounts;
pub mod catalog;
pub mod clock;
pub mod filter;
pub mod ids;
pub mod image;
pub mod instance;
pub mod network;
pub mod regions;
pub mod snapshot;
pub mod tags;
pub mod volume;
