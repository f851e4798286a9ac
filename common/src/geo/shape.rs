//! Distances on the sphere and the shapes GEOSEARCH looks in: a circle (BYRADIUS) or a box
//! (BYBOX) around a centre, and the nine geohash cells (a centre cell and its neighbours) whose
//! score ranges cover it.

use std::f64::consts::PI;

use super::geohash::{self, Area, HashBits, Neighbors, WGS84_LAT, WGS84_LON};

/// Earth's quadratic mean radius for WGS-84, as Redis uses it.
pub const EARTH_RADIUS_IN_METERS: f64 = 6372797.560856;

/// Half the Web Mercator world width, in meters.
const MERCATOR_MAX: f64 = 20037726.37;

const DEG_TO_RAD: f64 = PI / 180.0;

fn deg_rad(deg: f64) -> f64 {
    deg * DEG_TO_RAD
}

fn rad_deg(rad: f64) -> f64 {
    rad / DEG_TO_RAD
}

/// The distance in meters between two latitudes on one meridian.
pub fn lat_distance(lat1: f64, lat2: f64) -> f64 {
    EARTH_RADIUS_IN_METERS * (deg_rad(lat2) - deg_rad(lat1)).abs()
}

/// The great-circle (haversine) distance in meters between two positions.
pub fn distance(lon1: f64, lat1: f64, lon2: f64, lat2: f64) -> f64 {
    let v = ((deg_rad(lon2) - deg_rad(lon1)) / 2.0).sin();
    // On one meridian the haversine reduces to the latitude difference.
    if v == 0.0 {
        return lat_distance(lat1, lat2);
    }
    let (lat1r, lat2r) = (deg_rad(lat1), deg_rad(lat2));
    let u = ((lat2r - lat1r) / 2.0).sin();
    let a = u * u + lat1r.cos() * lat2r.cos() * v * v;
    2.0 * EARTH_RADIUS_IN_METERS * a.sqrt().asin()
}

/// How many steps the cells of a search of `range_meters` around latitude `lat` get, so that
/// the centre cell and its neighbours cover it (cells are wider than the range).
pub fn estimate_steps_by_radius(range_meters: f64, lat: f64) -> u8 {
    if range_meters == 0.0 {
        return geohash::STEP_MAX;
    }
    let mut range = range_meters;
    let mut step: i32 = 1;
    while range < MERCATOR_MAX {
        range *= 2.0;
        step += 1;
    }
    step -= 2;
    // Meridians converge towards the poles, so cells there need to be wider.
    if !(-66.0..=66.0).contains(&lat) {
        step -= 1;
        if !(-80.0..=80.0).contains(&lat) {
            step -= 1;
        }
    }
    step.clamp(1, i32::from(geohash::STEP_MAX)) as u8
}

/// The extent of a search around its centre, in the request's unit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Extent {
    Radius(f64),
    Box { width: f64, height: f64 },
}

/// A search area: a centre, an extent, and the unit's size in meters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Shape {
    pub lon: f64,
    pub lat: f64,
    /// Meters per unit of the extent (1 for m, 1000 for km...).
    pub conversion: f64,
    pub extent: Extent,
}

/// The cells to query for a search: a centre cell and the neighbours the area reaches.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SearchAreas {
    pub hash: HashBits,
    pub area: Area,
    pub neighbors: Neighbors,
}

impl SearchAreas {
    /// The cells in the order Redis queries them: centre, N, S, E, W, NE, NW, SE, SW.
    pub fn cells(&self) -> [Option<HashBits>; 9] {
        let n = &self.neighbors;
        [
            Some(self.hash),
            n.north,
            n.south,
            n.east,
            n.west,
            n.north_east,
            n.north_west,
            n.south_east,
            n.south_west,
        ]
    }
}

impl Shape {
    /// Half the height and half the width, in meters.
    fn half_extent_meters(&self) -> (f64, f64) {
        match self.extent {
            Extent::Radius(r) => (self.conversion * r, self.conversion * r),
            Extent::Box { width, height } => (
                self.conversion * (height / 2.0),
                self.conversion * (width / 2.0),
            ),
        }
    }

    /// The bounding box `[min_lon, min_lat, max_lon, max_lat]` in degrees. A box's east and
    /// west edges are bent; the bounds take the wider of its top and bottom, by hemisphere.
    pub fn bounding_box(&self) -> [f64; 4] {
        let (height, width) = self.half_extent_meters();
        let lat_delta = rad_deg(height / EARTH_RADIUS_IN_METERS);
        let lon_delta_top =
            rad_deg(width / EARTH_RADIUS_IN_METERS / deg_rad(self.lat + lat_delta).cos());
        let lon_delta_bottom =
            rad_deg(width / EARTH_RADIUS_IN_METERS / deg_rad(self.lat - lat_delta).cos());
        let lon_delta = if self.lat < 0.0 {
            lon_delta_bottom
        } else {
            lon_delta_top
        };
        [
            self.lon - lon_delta,
            self.lat - lat_delta,
            self.lon + lon_delta,
            self.lat + lat_delta,
        ]
    }

    /// The cells covering the shape (Redis `geohashCalculateAreasByShapeWGS84`).
    pub fn search_areas(&self) -> SearchAreas {
        let [min_lon, min_lat, max_lon, max_lat] = self.bounding_box();
        let radius = match self.extent {
            Extent::Radius(r) => r,
            Extent::Box { width, height } => {
                ((width / 2.0) * (width / 2.0) + (height / 2.0) * (height / 2.0)).sqrt()
            }
        } * self.conversion;
        let mut steps = estimate_steps_by_radius(radius, self.lat);
        let cell = |steps: u8| {
            let hash = geohash::encode_wgs84(self.lon, self.lat, steps).unwrap_or(HashBits {
                bits: 0,
                step: steps,
            });
            let area = decode_or_empty(hash);
            (hash, area, geohash::neighbors(hash))
        };
        let (mut hash, mut area, mut neighbors) = cell(steps);
        // Near a cell edge the estimate can be too fine: a neighbour may not reach the box.
        let reach = |h: Option<HashBits>| h.map(decode_or_empty);
        let too_small = reach(neighbors.north).is_some_and(|a| a.lat.max < max_lat)
            || reach(neighbors.south).is_some_and(|a| a.lat.min > min_lat)
            || reach(neighbors.east).is_some_and(|a| a.lon.max < max_lon)
            || reach(neighbors.west).is_some_and(|a| a.lon.min > min_lon);
        if steps > 1 && too_small {
            steps -= 1;
            (hash, area, neighbors) = cell(steps);
        }
        // Neighbours beyond an edge the box does not cross are not searched.
        if steps >= 2 {
            if area.lat.min < min_lat {
                neighbors.south = None;
                neighbors.south_west = None;
                neighbors.south_east = None;
            }
            if area.lat.max > max_lat {
                neighbors.north = None;
                neighbors.north_east = None;
                neighbors.north_west = None;
            }
            if area.lon.min < min_lon {
                neighbors.west = None;
                neighbors.south_west = None;
                neighbors.north_west = None;
            }
            if area.lon.max > max_lon {
                neighbors.east = None;
                neighbors.south_east = None;
                neighbors.north_east = None;
            }
        }
        SearchAreas {
            hash,
            area,
            neighbors,
        }
    }

    /// The distance in meters from the centre to (`lon`, `lat`) when that point is inside the
    /// shape, `None` otherwise. A box is judged by the latitude and longitude distances.
    pub fn contains(&self, lon: f64, lat: f64) -> Option<f64> {
        match self.extent {
            Extent::Radius(r) => {
                let d = distance(self.lon, self.lat, lon, lat);
                (d <= r * self.conversion).then_some(d)
            }
            Extent::Box { width, height } => {
                let (width_m, height_m) = (width * self.conversion, height * self.conversion);
                if lat_distance(lat, self.lat) > height_m / 2.0 {
                    return None;
                }
                if distance(lon, lat, self.lon, lat) > width_m / 2.0 {
                    return None;
                }
                Some(distance(self.lon, self.lat, lon, lat))
            }
        }
    }
}

/// The area of a cell; the empty cell (which a search never holds) spans nothing.
fn decode_or_empty(hash: HashBits) -> Area {
    geohash::decode(WGS84_LON, WGS84_LAT, hash).unwrap_or(Area {
        hash,
        lon: geohash::Range { min: 0.0, max: 0.0 },
        lat: geohash::Range { min: 0.0, max: 0.0 },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances_match_redis() {
        // GEODIST Sicily Palermo Catania, from the decoded positions: 166274.1516 m.
        let (lon1, lat1) = geohash::decode_score(3479099956230698.0);
        let (lon2, lat2) = geohash::decode_score(3479447370796909.0);
        let d = distance(lon1, lat1, lon2, lat2);
        assert_eq!(format!("{:.4}", d), "166274.1516");
        assert_eq!(distance(10.0, 20.0, 10.0, 20.0), 0.0);
        assert_eq!(distance(10.0, 0.0, 10.0, 1.0), lat_distance(0.0, 1.0));
    }

    #[test]
    fn steps_grow_as_the_radius_shrinks() {
        assert_eq!(estimate_steps_by_radius(0.0, 0.0), 26);
        assert_eq!(estimate_steps_by_radius(1.0, 0.0), 24);
        assert_eq!(estimate_steps_by_radius(100_000.0, 0.0), 7);
        assert_eq!(estimate_steps_by_radius(100_000.0, 70.0), 6);
        assert_eq!(estimate_steps_by_radius(100_000.0, -85.0), 5);
        assert_eq!(estimate_steps_by_radius(f64::INFINITY, 0.0), 1);
        assert_eq!(estimate_steps_by_radius(5e-324, 0.0), 26);
    }

    #[test]
    fn shapes_contain_what_their_extent_reaches() {
        let circle = Shape {
            lon: 15.0,
            lat: 37.0,
            conversion: 1000.0,
            extent: Extent::Radius(200.0),
        };
        assert!(circle.contains(15.0, 38.0).is_some());
        assert!(circle.contains(15.0, 39.0).is_none());
        let b = Shape {
            lon: 15.0,
            lat: 37.0,
            conversion: 1000.0,
            extent: Extent::Box {
                width: 400.0,
                height: 100.0,
            },
        };
        assert!(b.contains(16.5, 37.0).is_some());
        assert!(b.contains(15.0, 38.0).is_none());
        let areas = circle.search_areas();
        let [min_lon, min_lat, max_lon, max_lat] = circle.bounding_box();
        // The queried cells together cover the bounding box.
        let covered: Vec<Area> = areas
            .cells()
            .iter()
            .flatten()
            .map(|h| decode_or_empty(*h))
            .collect();
        let lo_lon = covered.iter().map(|a| a.lon.min).fold(f64::MAX, f64::min);
        let hi_lat = covered.iter().map(|a| a.lat.max).fold(f64::MIN, f64::max);
        assert!(lo_lon <= min_lon && hi_lat >= max_lat);
        let hi_lon = covered.iter().map(|a| a.lon.max).fold(f64::MIN, f64::max);
        let lo_lat = covered.iter().map(|a| a.lat.min).fold(f64::MAX, f64::min);
        assert!(hi_lon >= max_lon && lo_lat <= min_lat);
    }
}
