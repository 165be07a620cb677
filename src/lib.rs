//! herald: turns live football data into notifications delivered everywhere at once.
pub mod detect;
pub mod model;
pub mod sources;
