//! Compact encodings of collection values, named as `OBJECT ENCODING` names them.

pub mod intset;
