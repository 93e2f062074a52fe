//! The domain: entities, ids, states and the rules EC2 applies to them. No I/O here.

pub mod accounts;
pub mod block;
pub mod catalog;
pub mod clock;
pub mod disk_image;
pub mod filter;
pub mod ids;
pub mod image;
pub mod import_task;
pub mod instance;
pub mod instance_types;
pub mod key_pair;
pub mod launch_template;
pub mod lifecycle;
pub mod network;
pub mod regions;
pub mod snapshot;
pub mod ssm;
pub mod tags;
pub mod text;
pub mod volume;
