//! Every XML shape of EC2's answers that more than one field of one action writes: one
//! writer per shape, each with a golden test of its exact XML.

pub mod account;
pub mod address;
pub mod image;
pub mod import_task;
pub mod instance;
pub mod instance_type;
pub mod key_pair;
pub mod launch_template;
pub mod network_interface;
pub mod region;
pub mod routing;
pub mod security_group;
pub mod snapshot;
pub mod tag;
pub mod volume;
pub mod vpc;
