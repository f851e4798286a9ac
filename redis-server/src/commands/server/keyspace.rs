//! (being written)
use crate::commands::Registry;

pub(super) fn register(_r: &mut Registry) {}
