#![doc = include_str!("../README.md")]

pub mod config;
pub mod memory;
pub mod run;

pub use config::Config;
