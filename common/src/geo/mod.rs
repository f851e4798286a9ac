//! Geospatial indexing as Redis does it: a point is stored as a sorted-set member whose score
//! is a 52-bit interleaved geohash, and area searches query the few score ranges that cover the
//! area, then filter by exact distance.
//!
//! - [`geohash`]: cells, encoding and decoding, neighbours, the score form (Redis `geohash.c`);
//! - [`pqsort`]: Redis's partial quicksort, whose order among equal distances COUNT shows;
//! - [`shape`]: distances on the sphere, the searched shape (circle or box), and the cells that
//!   cover it (Redis `geohash_helper.c`).
//!
//! The arithmetic follows Redis's operation by operation, so the same inputs give the same
//! doubles, and so the same printed digits.

pub mod geohash;
pub mod pqsort;
pub mod shape;

pub use geohash::{HashBits, decode_score, encode_score, standard_geohash};
pub use shape::{Extent, Shape, distance};
