//! herald: turns live football data into notifications delivered everywhere at once.
pub mod config;
pub mod detect;
pub mod model;
pub mod render;
pub mod routing;
pub mod sources;
pub mod store;
