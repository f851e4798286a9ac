//! Geohash cells: `step` bits of longitude and `step` bits of latitude, interleaved with the
//! latitude bits in the even positions and the longitude bits in the odd ones. Redis encodes
//! positions at 26 steps, so a score holds 52 bits, which a double represents exactly.
//!
//! Latitudes are limited to ±85.05112878 (the Web Mercator limits), so a cell's latitude grid
//! is not the standard geohash one; [`standard_geohash`] re-encodes over ±90 for GEOHASH.

/// Steps of a stored position: 26 bits per coordinate.
pub const STEP_MAX: u8 = 26;

pub const LAT_MIN: f64 = -85.05112878;
pub const LAT_MAX: f64 = 85.05112878;
pub const LON_MIN: f64 = -180.0;
pub const LON_MAX: f64 = 180.0;

/// An interval of one coordinate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Range {
    pub min: f64,
    pub max: f64,
}

/// The longitude range of stored positions.
pub const WGS84_LON: Range = Range {
    min: LON_MIN,
    max: LON_MAX,
};

/// The latitude range of stored positions.
pub const WGS84_LAT: Range = Range {
    min: LAT_MIN,
    max: LAT_MAX,
};

/// A cell: its interleaved bits and how many steps (bits per coordinate) they hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HashBits {
    pub bits: u64,
    pub step: u8,
}

/// A cell and the coordinates it spans.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Area {
    pub hash: HashBits,
    pub lon: Range,
    pub lat: Range,
}

/// Moves the low 32 bits of `v` to the even bit positions.
fn spread(v: u32) -> u64 {
    let mut x = u64::from(v);
    x = (x | (x << 16)) & 0x0000_FFFF_0000_FFFF;
    x = (x | (x << 8)) & 0x00FF_00FF_00FF_00FF;
    x = (x | (x << 4)) & 0x0F0F_0F0F_0F0F_0F0F;
    x = (x | (x << 2)) & 0x3333_3333_3333_3333;
    (x | (x << 1)) & 0x5555_5555_5555_5555
}

/// Gathers the even bits of `v` into the low 32 bits.
fn squash(v: u64) -> u32 {
    let mut x = v & 0x5555_5555_5555_5555;
    x = (x | (x >> 1)) & 0x3333_3333_3333_3333;
    x = (x | (x >> 2)) & 0x0F0F_0F0F_0F0F_0F0F;
    x = (x | (x >> 4)) & 0x00FF_00FF_00FF_00FF;
    x = (x | (x >> 8)) & 0x0000_FFFF_0000_FFFF;
    x = (x | (x >> 16)) & 0x0000_0000_FFFF_FFFF;
    x as u32
}

/// The cell of `step` steps holding (`lon`, `lat`) over the given ranges; `None` when a
/// coordinate lies outside its range (or outside the stored limits), or `step` is not 1..=32.
pub fn encode(
    lon_range: Range,
    lat_range: Range,
    lon: f64,
    lat: f64,
    step: u8,
) -> Option<HashBits> {
    if step == 0 || step > 32 {
        return None;
    }
    let outside = |v: f64, r: Range| v < r.min || v > r.max;
    if outside(lon, WGS84_LON) || outside(lat, WGS84_LAT) {
        return None;
    }
    if outside(lon, lon_range) || outside(lat, lat_range) {
        return None;
    }
    let cells = (1u64 << step) as f64;
    let lat_offset = (lat - lat_range.min) / (lat_range.max - lat_range.min) * cells;
    let lon_offset = (lon - lon_range.min) / (lon_range.max - lon_range.min) * cells;
    Some(HashBits {
        bits: spread(lat_offset as u32) | (spread(lon_offset as u32) << 1),
        step,
    })
}

/// The cell of `step` steps holding a stored position.
pub fn encode_wgs84(lon: f64, lat: f64, step: u8) -> Option<HashBits> {
    encode(WGS84_LON, WGS84_LAT, lon, lat, step)
}

/// The coordinates a cell spans over the given ranges; `None` for the empty cell (no bits, no
/// steps).
pub fn decode(lon_range: Range, lat_range: Range, hash: HashBits) -> Option<Area> {
    if hash.bits == 0 && hash.step == 0 {
        return None;
    }
    let lat_cell = squash(hash.bits);
    let lon_cell = squash(hash.bits >> 1);
    let cells = (1u64 << hash.step.min(63)) as f64;
    let lat_scale = lat_range.max - lat_range.min;
    let lon_scale = lon_range.max - lon_range.min;
    // A 32-bit cell index plus one wraps, as the C arithmetic does, for out-of-range scores.
    let edge = |min: f64, scale: f64, cell: u32| min + (f64::from(cell) / cells) * scale;
    Some(Area {
        hash,
        lat: Range {
            min: edge(lat_range.min, lat_scale, lat_cell),
            max: edge(lat_range.min, lat_scale, lat_cell.wrapping_add(1)),
        },
        lon: Range {
            min: edge(lon_range.min, lon_scale, lon_cell),
            max: edge(lon_range.min, lon_scale, lon_cell.wrapping_add(1)),
        },
    })
}

/// The stored-position area of a cell.
pub fn decode_wgs84(hash: HashBits) -> Option<Area> {
    decode(WGS84_LON, WGS84_LAT, hash)
}

impl Area {
    /// The centre (longitude, latitude), clamped to the stored limits.
    pub fn center(&self) -> (f64, f64) {
        let lon = ((self.lon.min + self.lon.max) / 2.0).clamp(LON_MIN, LON_MAX);
        let lat = ((self.lat.min + self.lat.max) / 2.0).clamp(LAT_MIN, LAT_MAX);
        (lon, lat)
    }
}

/// The bits of a cell moved to the top of 52 bits: the lowest score inside it.
pub fn align52(hash: HashBits) -> u64 {
    hash.bits << (52 - u32::from(hash.step.min(26)) * 2)
}

/// The scores `min..max` (max excluded) of every stored position inside a cell.
pub fn score_range(hash: HashBits) -> (u64, u64) {
    let next = HashBits {
        bits: hash.bits.wrapping_add(1),
        step: hash.step,
    };
    (align52(hash), align52(next))
}

/// The score Redis stores for a position; `None` outside the stored limits.
pub fn encode_score(lon: f64, lat: f64) -> Option<u64> {
    encode_wgs84(lon, lat, STEP_MAX).map(align52)
}

/// A score converted to 64 bits as x86-64 C code converts a double to `uint64_t`: truncation
/// below 2^63 through a signed conversion (so negative scores wrap), and an offset conversion
/// above it; values no conversion can hold give the "integer indefinite" pattern.
fn score_bits(score: f64) -> u64 {
    const TWO_63: f64 = 9_223_372_036_854_775_808.0;
    let signed = |v: f64| {
        if v.is_nan() || !(-TWO_63..TWO_63).contains(&v) {
            i64::MIN
        } else {
            v as i64
        }
    };
    if score >= TWO_63 {
        (signed(score - TWO_63) as u64) ^ (1 << 63)
    } else {
        signed(score) as u64
    }
}

/// The position (longitude, latitude) a sorted-set score stands for. Any score decodes: bits
/// beyond the 52 of a real position push the result to the clamped limits, as in Redis.
pub fn decode_score(score: f64) -> (f64, f64) {
    let hash = HashBits {
        bits: score_bits(score),
        step: STEP_MAX,
    };
    decode_wgs84(hash).map_or((0.0, 0.0), |area| area.center())
}

/// The 11-character standard geohash (latitude over ±90) of a stored position, as GEOHASH
/// prints it: 52 bits give ten characters, and the eleventh is always `0`.
pub fn standard_geohash(lon: f64, lat: f64) -> [u8; 11] {
    const ALPHABET: &[u8; 32] = b"0123456789bcdefghjkmnpqrstuvwxyz";
    let lon_range = Range {
        min: -180.0,
        max: 180.0,
    };
    let lat_range = Range {
        min: -90.0,
        max: 90.0,
    };
    let bits = encode(lon_range, lat_range, lon, lat, STEP_MAX).map_or(0, |h| h.bits);
    let mut out = [b'0'; 11];
    for (i, c) in out.iter_mut().take(10).enumerate() {
        let index = (bits >> (52 - (i + 1) * 5)) & 0x1f;
        *c = ALPHABET[index as usize];
    }
    out
}

/// The eight cells around a cell, each `None` once excluded from a search.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Neighbors {
    pub north: Option<HashBits>,
    pub south: Option<HashBits>,
    pub east: Option<HashBits>,
    pub west: Option<HashBits>,
    pub north_east: Option<HashBits>,
    pub north_west: Option<HashBits>,
    pub south_east: Option<HashBits>,
    pub south_west: Option<HashBits>,
}

/// Steps a cell one column east (`d` > 0) or west (`d` < 0), wrapping around the grid.
fn move_lon(hash: HashBits, d: i8) -> HashBits {
    move_axis(hash, d, 0xaaaa_aaaa_aaaa_aaaa)
}

/// Steps a cell one row north (`d` > 0) or south (`d` < 0), wrapping around the grid.
fn move_lat(hash: HashBits, d: i8) -> HashBits {
    move_axis(hash, d, 0x5555_5555_5555_5555)
}

/// Adds ±1 to the coordinate whose bits `mask` selects, keeping the other coordinate's bits.
fn move_axis(hash: HashBits, d: i8, mask: u64) -> HashBits {
    if d == 0 || hash.step == 0 {
        return hash;
    }
    let shift = 64 - u32::from(hash.step.min(32)) * 2;
    let moving = hash.bits & mask;
    let fixed = hash.bits & !mask;
    // Filling the other coordinate's positions with ones lets a carry or borrow ripple across.
    let others = !mask >> shift;
    let moved = if d > 0 {
        moving.wrapping_add(others.wrapping_add(1))
    } else {
        (moving | others).wrapping_sub(others.wrapping_add(1))
    };
    HashBits {
        bits: (moved & (mask >> shift)) | fixed,
        step: hash.step,
    }
}

/// The eight cells around `hash`.
pub fn neighbors(hash: HashBits) -> Neighbors {
    let at = |lon: i8, lat: i8| Some(move_lat(move_lon(hash, lon), lat));
    Neighbors {
        north: at(0, 1),
        south: at(0, -1),
        east: at(1, 0),
        west: at(-1, 0),
        north_east: at(1, 1),
        north_west: at(-1, 1),
        south_east: at(1, -1),
        south_west: at(-1, -1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interleaving_round_trips() {
        for v in [0u32, 1, 0x3ff_ffff, 0xdead_beef, u32::MAX] {
            assert_eq!(squash(spread(v)), v);
            assert_eq!(squash(spread(v) << 1 >> 1), v);
        }
        assert_eq!(spread(0b101), 0b10001);
    }

    #[test]
    fn scores_match_redis() {
        // GEOADD Sicily 13.361389 38.115556 Palermo 15.087269 37.502669 Catania; ZSCORE.
        assert_eq!(encode_score(13.361389, 38.115556), Some(3479099956230698));
        assert_eq!(encode_score(15.087269, 37.502669), Some(3479447370796909));
        assert_eq!(encode_score(181.0, 0.0), None);
        assert_eq!(encode_score(0.0, 85.06), None);
        // The far corner is one past the grid, as in Redis.
        assert_eq!(encode_score(180.0, 85.05112878), Some(13510798882111488));
    }

    #[test]
    fn decoding_gives_the_cell_centre() {
        let (lon, lat) = decode_score(3479099956230698.0);
        assert_eq!(format!("{lon:.17}"), "13.36138933897018433");
        assert_eq!(format!("{lat:.17}"), "38.11555639549629859");
        // Scores that are no geohash still decode, to clamped limits.
        assert_eq!(decode_score(-1.0), (LON_MAX, LAT_MAX));
        assert_eq!(decode_score(0.0), decode_score(0.5));
    }

    #[test]
    fn standard_geohash_strings() {
        let (lon, lat) = decode_score(3479099956230698.0);
        assert_eq!(&standard_geohash(lon, lat), b"sqc8b49rny0");
        let (lon, lat) = decode_score(3479447370796909.0);
        assert_eq!(&standard_geohash(lon, lat), b"sqdtr74hyu0");
    }

    #[test]
    fn neighbors_step_one_cell() {
        let hash = encode_wgs84(10.0, 20.0, 10).unwrap();
        let area = decode_wgs84(hash).unwrap();
        let n = neighbors(hash);
        let north = decode_wgs84(n.north.unwrap()).unwrap();
        assert_eq!(north.lat.min, area.lat.max);
        assert_eq!(north.lon, area.lon);
        let west = decode_wgs84(n.west.unwrap()).unwrap();
        assert_eq!(west.lon.max, area.lon.min);
        let se = decode_wgs84(n.south_east.unwrap()).unwrap();
        assert_eq!(se.lat.max, area.lat.min);
        assert_eq!(se.lon.min, area.lon.max);
        // The east edge wraps around to the west.
        let edge = encode_wgs84(179.99, 0.0, 4).unwrap();
        let wrapped = decode_wgs84(neighbors(edge).east.unwrap()).unwrap();
        assert_eq!(wrapped.lon.min, -180.0);
    }

    #[test]
    fn score_ranges_cover_the_cell() {
        let hash = HashBits {
            bits: 0b101010,
            step: 3,
        };
        let (min, max) = score_range(hash);
        assert_eq!(min, 0b101010 << 46);
        assert_eq!(max, 0b101011 << 46);
    }
}
