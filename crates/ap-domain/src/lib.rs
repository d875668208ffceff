#![doc = include_str!("../README.md")]

pub mod clock;
pub mod code;
pub mod content;
pub mod listing;
pub mod page;
pub mod platform;
pub mod publishing;
pub mod search;
pub mod slug;
pub mod validation;
pub mod version;
pub mod wire;

pub use code::Code;
pub use validation::{FieldError, FieldErrors};
