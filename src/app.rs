//! What every request handler shares: the store and the settings.

use crate::config::Timings;
use crate::store::Store;

pub struct App {
    pub store: Store,
    pub timings: Timings,
    pub default_region: &'static str,
}
