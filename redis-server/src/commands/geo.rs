//! Group `geo`: positions stored as sorted-set members (`Value::ZSet`) whose score is the
//! 52-bit geohash of the position (`common::geo`). GEOADD writes through the sorted set's
//! ZADD rules; the searches query the score ranges of the cells covering an area, then keep
//! the members whose exact distance puts them inside.

use std::cmp::Ordering;
use std::ops::ControlFlow;

use common::geo::geohash::{self, HashBits};
use common::geo::pqsort::pqsort;
use common::geo::{Extent, Shape, decode_score, distance, encode_score, standard_geohash};
use common::keyspace::Entry;
use common::number::parse_f64;
use common::resp::ReplyBuffer;
use common::value::Value;
use common::value::sorted_set::{AddFlags, AddOutcome, ScoreRange, ZSetValue};

use super::args::is;
use super::sorted_set::{delete_if_empty, limits, read, store_value};
use super::{CommandContext, CommandError, Locking, Registry};
use crate::effects::Event;

pub(super) fn register(r: &mut Registry) {
    r.add("geoadd", geoadd);
    r.add("geodist", geodist);
    r.add("geohash", geohash);
    r.add("geopos", geopos);
    // A repeated STORE option stores into a key the key specs do not name (the last one wins),
    // so these two cannot lock by their specs.
    r.add_with("georadius", georadius, Locking::Exclusive);
    r.add_with("georadiusbymember", georadiusbymember, Locking::Exclusive);
    r.add("georadius_ro", georadius_ro);
    r.add("georadiusbymember_ro", georadiusbymember_ro);
    r.add("geosearch", geosearch);
    r.add("geosearchstore", geosearchstore);
}

/// A longitude,latitude argument pair, within the limits a geohash can hold.
fn parse_lonlat(lon: &[u8], lat: &[u8]) -> Result<(f64, f64), CommandError> {
    let lon = parse_f64(lon).ok_or(CommandError::NotFloat)?;
    let lat = parse_f64(lat).ok_or(CommandError::NotFloat)?;
    if !(geohash::LON_MIN..=geohash::LON_MAX).contains(&lon)
        || !(geohash::LAT_MIN..=geohash::LAT_MAX).contains(&lat)
    {
        return Err(invalid_pair(lon, lat));
    }
    Ok((lon, lat))
}

fn invalid_pair(lon: f64, lat: f64) -> CommandError {
    CommandError::err(format!("invalid longitude,latitude pair {lon:.6},{lat:.6}"))
}

/// Meters per unit of a unit argument.
fn parse_unit(unit: &[u8]) -> Result<f64, CommandError> {
    if is(unit, "m") {
        Ok(1.0)
    } else if is(unit, "km") {
        Ok(1000.0)
    } else if is(unit, "ft") {
        Ok(0.3048)
    } else if is(unit, "mi") {
        Ok(1609.34)
    } else {
        Err(CommandError::err(
            "unsupported unit provided. please use M, KM, FT, MI",
        ))
    }
}

/// A non-negative number (`what` names it in the error), or "need numeric <what>".
fn parse_extent(arg: &[u8], what: &str) -> Result<f64, CommandError> {
    parse_f64(arg).ok_or_else(|| CommandError::err(format!("need numeric {what}")))
}

/// `<radius> <unit>`: the extent and meters per unit.
fn parse_radius(radius: &[u8], unit: &[u8]) -> Result<(Extent, f64), CommandError> {
    let r = parse_extent(radius, "radius")?;
    if r < 0.0 {
        return Err(CommandError::err("radius cannot be negative"));
    }
    Ok((Extent::Radius(r), parse_unit(unit)?))
}

/// `<width> <height> <unit>`: the extent and meters per unit.
fn parse_box(width: &[u8], height: &[u8], unit: &[u8]) -> Result<(Extent, f64), CommandError> {
    let width = parse_extent(width, "width")?;
    let height = parse_extent(height, "height")?;
    if height < 0.0 || width < 0.0 {
        return Err(CommandError::err("height or width cannot be negative"));
    }
    Ok((Extent::Box { width, height }, parse_unit(unit)?))
}

/// The position of `member`, or the error Redis gives when it is missing.
fn member_position(z: &ZSetValue, member: &[u8]) -> Result<(f64, f64), CommandError> {
    z.score(member)
        .map(decode_score)
        .ok_or_else(|| CommandError::err("could not decode requested zset member"))
}

/// A distance as Redis prints it: a bulk string with exactly four decimals, the value rounded
/// to the nearest ten-thousandth (ties to even).
fn reply_distance(reply: &mut ReplyBuffer, d: f64) {
    const TWO_63: f64 = 9_223_372_036_854_775_808.0;
    if d == 0.0 {
        reply.bulk(b"0.0000");
        return;
    }
    let scaled = (d * 10_000.0).round_ties_even();
    // What x86-64's conversion gives for a value no i64 holds.
    let n = if scaled.is_nan() || !(-TWO_63..TWO_63).contains(&scaled) {
        i64::MIN
    } else {
        scaled as i64
    };
    let sign = if n < 0 { "-" } else { "" };
    let v = n.unsigned_abs();
    let text = format!("{sign}{}.{:04}", v / 10_000, v % 10_000);
    reply.bulk(text.as_bytes());
}

// ---------------------------------------------------------------------------------------------
// GEOADD, GEODIST, GEOHASH, GEOPOS
// ---------------------------------------------------------------------------------------------

/// GEOADD key [NX|XX] [CH] longitude latitude member [...]: ZADD with each position's score.
fn geoadd(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let key = ctx.args.next_key()?;
    let mut flags = AddFlags::default();
    let mut ch = false;
    while let Some(arg) = ctx.args.peek() {
        if is(arg, "nx") {
            flags.nx = true;
        } else if is(arg, "xx") {
            flags.xx = true;
        } else if is(arg, "ch") {
            ch = true;
        } else {
            break;
        }
        ctx.args.next_opt();
    }
    let rest: Vec<&[u8]> = ctx.args.rest().collect();
    if rest.is_empty() || rest.len() % 3 != 0 || (flags.nx && flags.xx) {
        return Err(CommandError::Syntax);
    }
    let mut items = Vec::with_capacity(rest.len() / 3);
    for triple in rest.chunks_exact(3) {
        let (lon, lat) = parse_lonlat(triple[0], triple[1])?;
        let score = encode_score(lon, lat).ok_or_else(|| invalid_pair(lon, lat))?;
        items.push((score as f64, triple[2]));
    }
    let limits = limits(ctx.server);
    let (now, lru) = (ctx.now_ms, ctx.lru());
    let shard = ctx.db.shard(key);
    let exists = match shard.get_mut(key, now) {
        Some(e) if !matches!(e.value(), Value::ZSet(_)) => return Err(CommandError::WrongType),
        Some(_) => true,
        None => false,
    };
    let (mut added, mut updated) = (0i64, 0i64);
    if exists || !flags.xx {
        if !exists {
            // As ZADD does, the new set's encoding is chosen by its first member alone.
            let z = ZSetValue::with_hint(0, items[0].1.len(), limits);
            shard.insert(Entry::collection(key, Value::ZSet(Box::new(z)), lru));
        }
        if let Some(Value::ZSet(z)) = shard.get_mut(key, now).map(Entry::value_mut) {
            for (score, member) in &items {
                match z.add(member, *score, flags, limits) {
                    AddOutcome::Added(_) => added += 1,
                    AddOutcome::Updated(_) => updated += 1,
                    _ => {}
                }
            }
        }
        delete_if_empty(&mut ctx.db, key, now);
    }
    let changed = added + updated;
    if changed > 0 {
        ctx.dirty(changed as u64);
        ctx.modified(key);
        ctx.notify(Event::ZSet, "zadd", key);
        ctx.signal_ready(key);
        // Replicas get the ZADD GEOADD amounts to, with the scores computed here.
        let first_lon = ctx.args.argc() - rest.len();
        let scores: Vec<String> = items.iter().map(|(s, _)| (*s as u64).to_string()).collect();
        let mut args: Vec<&[u8]> = Vec::with_capacity(first_lon + items.len() * 2);
        args.push(b"zadd");
        args.extend((1..first_lon).filter_map(|i| ctx.args.get(i)));
        for (score, (_, member)) in scores.iter().zip(&items) {
            args.push(score.as_bytes());
            args.push(member);
        }
        ctx.propagate_as(&args);
    }
    ctx.reply.integer(if ch { changed } else { added });
    Ok(())
}

/// GEODIST key member1 member2 [unit]
fn geodist(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let key = ctx.args.next_key()?;
    let a = ctx.args.next_bytes()?;
    let b = ctx.args.next_bytes()?;
    let to_meters = match ctx.args.remaining() {
        0 => 1.0,
        1 => parse_unit(ctx.args.next_bytes()?)?,
        _ => return Err(CommandError::Syntax),
    };
    let Some(z) = read(&mut ctx.db, key, ctx.now_ms)? else {
        ctx.reply.null();
        return Ok(());
    };
    match (z.score(a), z.score(b)) {
        (Some(a), Some(b)) => {
            let ((lon1, lat1), (lon2, lat2)) = (decode_score(a), decode_score(b));
            reply_distance(ctx.reply, distance(lon1, lat1, lon2, lat2) / to_meters);
        }
        _ => ctx.reply.null(),
    }
    Ok(())
}

/// GEOHASH key [member ...]: the 11-character standard geohash of each member.
fn geohash(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    reply_per_member(ctx, |reply, position| match position {
        Some((lon, lat)) => reply.bulk(&standard_geohash(lon, lat)),
        None => reply.null(),
    })
}

/// GEOPOS key [member ...]: each member's longitude and latitude.
fn geopos(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    reply_per_member(ctx, |reply, position| match position {
        Some((lon, lat)) => {
            reply.array(2);
            reply.human_double(lon);
            reply.human_double(lat);
        }
        None => reply.null_array(),
    })
}

/// `key [member ...]`: an array with `write`'s reply for each member's position (`None` for a
/// missing member or key).
fn reply_per_member(
    ctx: &mut CommandContext<'_>,
    mut write: impl FnMut(&mut common::resp::ReplyBuffer, Option<(f64, f64)>),
) -> Result<(), CommandError> {
    let key = ctx.args.next_key()?;
    let z = read(&mut ctx.db, key, ctx.now_ms)?;
    let members: Vec<&[u8]> = ctx.args.rest().collect();
    ctx.reply.array(members.len());
    for m in members {
        write(ctx.reply, z.and_then(|z| z.score(m)).map(decode_score));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// GEORADIUS, GEORADIUSBYMEMBER, GEOSEARCH and their variants
// ---------------------------------------------------------------------------------------------

/// Which search command runs: they share one parser and one search.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// GEORADIUS key longitude latitude radius unit [options]
    Radius,
    /// GEORADIUSBYMEMBER key member radius unit [options]
    RadiusByMember,
    /// GEOSEARCH key FROM... BY... [options]
    Search,
    /// GEOSEARCHSTORE destination source FROM... BY... [options]
    SearchStore,
}

/// Whether GEORADIUS's STORE and STOREDIST options are accepted (not by the `_RO` forms).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Stores {
    Allowed,
    Refused,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Sort {
    Unsorted,
    Asc,
    Desc,
}

/// What a stored result's scores are: the positions, or the distances (STOREDIST).
#[derive(Clone, Copy, PartialEq, Eq)]
enum StoreScore {
    Position,
    Distance,
}

fn georadius(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    search(ctx, Kind::Radius, Stores::Allowed)
}

fn georadius_ro(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    search(ctx, Kind::Radius, Stores::Refused)
}

fn georadiusbymember(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    search(ctx, Kind::RadiusByMember, Stores::Allowed)
}

fn georadiusbymember_ro(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    search(ctx, Kind::RadiusByMember, Stores::Refused)
}

fn geosearch(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    search(ctx, Kind::Search, Stores::Refused)
}

fn geosearchstore(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    search(ctx, Kind::SearchStore, Stores::Refused)
}

/// A member found by a search.
struct Point {
    member: Vec<u8>,
    score: f64,
    lon: f64,
    lat: f64,
    /// From the centre, in meters until the reply converts it to the request's unit.
    dist: f64,
}

/// A search's options, read front to back as Redis reads them.
struct Query<'a> {
    center: Option<(f64, f64)>,
    extent: Option<(Extent, f64)>,
    from_member: bool,
    from_lonlat: bool,
    by_radius: bool,
    by_box: bool,
    with_dist: bool,
    with_hash: bool,
    with_coord: bool,
    sort: Sort,
    any: bool,
    /// 0: no limit.
    count: u64,
    store: Option<&'a [u8]>,
    store_score: StoreScore,
}

impl<'a> Query<'a> {
    /// Reads the options from `argv[base..]`. `z` is the source set, needed for FROMMEMBER.
    fn parse(
        argv: &[&'a [u8]],
        base: usize,
        kind: Kind,
        stores: Stores,
        z: Option<&ZSetValue>,
        mut query: Query<'a>,
    ) -> Result<Query<'a>, CommandError> {
        let searching = matches!(kind, Kind::Search | Kind::SearchStore);
        let store_options = !searching && stores == Stores::Allowed;
        let argc = argv.len();
        let mut i = base;
        while i < argc {
            let arg = argv[i];
            let left = argc - i - 1;
            if is(arg, "withdist") {
                query.with_dist = true;
            } else if is(arg, "withhash") {
                query.with_hash = true;
            } else if is(arg, "withcoord") {
                query.with_coord = true;
            } else if is(arg, "any") {
                query.any = true;
            } else if is(arg, "asc") {
                query.sort = Sort::Asc;
            } else if is(arg, "desc") {
                query.sort = Sort::Desc;
            } else if is(arg, "count") && left >= 1 {
                let n = common::number::parse_i64(argv[i + 1]).ok_or(CommandError::NotInteger)?;
                if n <= 0 {
                    return Err(CommandError::err("COUNT must be > 0"));
                }
                query.count = n as u64;
                i += 1;
            } else if is(arg, "store") && left >= 1 && store_options {
                query.store = Some(argv[i + 1]);
                query.store_score = StoreScore::Position;
                i += 1;
            } else if is(arg, "storedist") && left >= 1 && store_options {
                query.store = Some(argv[i + 1]);
                query.store_score = StoreScore::Distance;
                i += 1;
            } else if is(arg, "storedist") && kind == Kind::SearchStore {
                query.store_score = StoreScore::Distance;
            } else if is(arg, "frommember") && left >= 1 && searching && !query.from_lonlat {
                // Without a source the search ends empty; the options are still checked.
                if let Some(z) = z {
                    query.center = Some(member_position(z, argv[i + 1])?);
                }
                query.from_member = true;
                i += 1;
            } else if is(arg, "fromlonlat") && left >= 2 && searching && !query.from_member {
                query.center = Some(parse_lonlat(argv[i + 1], argv[i + 2])?);
                query.from_lonlat = true;
                i += 2;
            } else if is(arg, "byradius") && left >= 2 && searching && !query.by_box {
                query.extent = Some(parse_radius(argv[i + 1], argv[i + 2])?);
                query.by_radius = true;
                i += 2;
            } else if is(arg, "bybox") && left >= 3 && searching && !query.by_radius {
                query.extent = Some(parse_box(argv[i + 1], argv[i + 2], argv[i + 3])?);
                query.by_box = true;
                i += 3;
            } else {
                return Err(CommandError::Syntax);
            }
            i += 1;
        }
        let name = || String::from_utf8_lossy(argv[0]).into_owned();
        if query.store.is_some() && (query.with_dist || query.with_hash || query.with_coord) {
            let what = if kind == Kind::SearchStore {
                "GEOSEARCHSTORE"
            } else {
                "STORE option in GEORADIUS"
            };
            return Err(CommandError::err(format!(
                "{what} is not compatible with WITHDIST, WITHHASH and WITHCOORD options"
            )));
        }
        if searching && !(query.from_member || query.from_lonlat) {
            return Err(CommandError::err(format!(
                "exactly one of FROMMEMBER or FROMLONLAT can be specified for {}",
                name()
            )));
        }
        if searching && !(query.by_radius || query.by_box) {
            return Err(CommandError::err(format!(
                "exactly one of BYRADIUS and BYBOX can be specified for {}",
                name()
            )));
        }
        if query.any && query.count == 0 {
            return Err(CommandError::err(
                "the ANY argument requires COUNT argument",
            ));
        }
        Ok(query)
    }
}

fn search(ctx: &mut CommandContext<'_>, kind: Kind, stores: Stores) -> Result<(), CommandError> {
    let list = ctx.args.list();
    let argv: Vec<&[u8]> = (0..list.len()).filter_map(|i| list.get(i)).collect();
    let mut query = Query {
        center: None,
        extent: None,
        from_member: false,
        from_lonlat: false,
        by_radius: false,
        by_box: false,
        with_dist: false,
        with_hash: false,
        with_coord: false,
        sort: Sort::Unsorted,
        any: false,
        count: 0,
        store: None,
        store_score: StoreScore::Position,
    };
    let source = if kind == Kind::SearchStore {
        query.store = argv.get(1).copied();
        argv.get(2)
    } else {
        argv.get(1)
    };
    let source = source.copied().ok_or(CommandError::Syntax)?;
    let now = ctx.now_ms;
    let z = read(&mut ctx.db, source, now)?;
    let arg = |i: usize| argv.get(i).copied().ok_or(CommandError::Syntax);
    let base = match kind {
        Kind::Radius => {
            query.center = Some(parse_lonlat(arg(2)?, arg(3)?)?);
            query.extent = Some(parse_radius(arg(4)?, arg(5)?)?);
            6
        }
        Kind::RadiusByMember => {
            // Without a source the radius is not even read: the reply is empty regardless.
            if let Some(z) = z {
                query.center = Some(member_position(z, arg(2)?)?);
                query.extent = Some(parse_radius(arg(3)?, arg(4)?)?);
            }
            5
        }
        Kind::Search => 2,
        Kind::SearchStore => 3,
    };
    let mut query = Query::parse(&argv, base, kind, stores, z, query)?;
    let (Some(z), Some((lon, lat)), Some((extent, conversion))) = (z, query.center, query.extent)
    else {
        match query.store {
            Some(dest) => {
                if ctx.db.shard(dest).remove(dest).is_some() {
                    ctx.wrote(Event::Generic, "del", dest);
                }
                ctx.reply.integer(0);
            }
            None => ctx.reply.empty_array(),
        }
        return Ok(());
    };
    // COUNT alone means the nearest ones.
    if query.count != 0 && query.sort == Sort::Unsorted && !query.any {
        query.sort = Sort::Asc;
    }
    let shape = Shape {
        lon,
        lat,
        conversion,
        extent,
    };
    let limit = if query.any { query.count } else { 0 };
    let mut points = find_points(z, &shape, limit);
    if points.is_empty() && query.store.is_none() {
        ctx.reply.empty_array();
        return Ok(());
    }
    let returned = match usize::try_from(query.count) {
        Ok(count) if count != 0 => count.min(points.len()),
        _ => points.len(),
    };
    sort_points(&mut points, query.sort, returned);
    points.truncate(returned);
    for p in &mut points {
        p.dist /= conversion;
    }
    match query.store {
        None => reply_points(ctx.reply, &points, &query),
        Some(dest) => store_points(ctx, dest, &points, kind, query.store_score),
    }
    Ok(())
}

/// Orders the first `returned` points as Redis does: a full sort is glibc's `qsort`, a merge
/// sort and so stable; a partial one is Redis's `pqsort`, whose order among equal distances
/// differs and is reproduced.
fn sort_points(points: &mut [Point], sort: Sort, returned: usize) {
    let asc = |a: &Point, b: &Point| {
        if a.dist > b.dist {
            Ordering::Greater
        } else if a.dist == b.dist {
            Ordering::Equal
        } else {
            Ordering::Less
        }
    };
    let desc = |a: &Point, b: &Point| asc(a, b).reverse();
    match sort {
        Sort::Unsorted => {}
        _ if returned == 0 => {}
        Sort::Asc if returned == points.len() => points.sort_by(|a, b| a.dist.total_cmp(&b.dist)),
        Sort::Desc if returned == points.len() => points.sort_by(|a, b| b.dist.total_cmp(&a.dist)),
        Sort::Asc => pqsort(points, 0, returned - 1, &asc),
        Sort::Desc => pqsort(points, 0, returned - 1, &desc),
    }
}

/// The members inside `shape`, cell by cell in Redis's order, stopping once `limit` (if not 0)
/// are found.
fn find_points(z: &ZSetValue, shape: &Shape, limit: u64) -> Vec<Point> {
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    let full = |points: &Vec<Point>| limit != 0 && points.len() >= limit;
    let mut points = Vec::new();
    // Very large areas make neighbouring cells repeat; a cell equal to the last neighbour
    // searched is skipped (the centre cell does not count as one, as in Redis).
    let mut last: Option<HashBits> = None;
    for (i, cell) in shape.search_areas().cells().into_iter().enumerate() {
        let Some(cell) = cell else { continue };
        if last == Some(cell) {
            continue;
        }
        if full(&points) {
            break;
        }
        let (min, max) = geohash::score_range(cell);
        let range = ScoreRange {
            min: min as f64,
            max: max as f64,
            min_exclusive: false,
            max_exclusive: true,
        };
        z.visit_score_range(&range, |member, score| {
            let (lon, lat) = decode_score(score);
            if let Some(dist) = shape.contains(lon, lat) {
                points.push(Point {
                    member: member.to_vec(),
                    score,
                    lon,
                    lat,
                    dist,
                });
            }
            if full(&points) {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        });
        if i > 0 {
            last = Some(cell);
        }
    }
    points
}

fn reply_points(reply: &mut ReplyBuffer, points: &[Point], query: &Query<'_>) {
    let extras =
        usize::from(query.with_dist) + usize::from(query.with_hash) + usize::from(query.with_coord);
    reply.array(points.len());
    for p in points {
        if extras > 0 {
            reply.array(extras + 1);
        }
        reply.bulk(&p.member);
        if query.with_dist {
            reply_distance(reply, p.dist);
        }
        if query.with_hash {
            reply.integer(p.score as i64);
        }
        if query.with_coord {
            reply.array(2);
            reply.human_double(p.lon);
            reply.human_double(p.lat);
        }
    }
}

/// Replaces `dest` with the found members (scored by position or distance); an empty result
/// deletes it.
fn store_points(
    ctx: &mut CommandContext<'_>,
    dest: &[u8],
    points: &[Point],
    kind: Kind,
    score: StoreScore,
) {
    if points.is_empty() {
        if ctx.db.shard(dest).remove(dest).is_some() {
            ctx.wrote(Event::Generic, "del", dest);
        }
        ctx.reply.integer(0);
        return;
    }
    let limits = limits(ctx.server);
    let mut z = ZSetValue::new_skiplist();
    let mut longest = 0;
    for p in points {
        longest = longest.max(p.member.len());
        let s = match score {
            StoreScore::Position => p.score,
            StoreScore::Distance => p.dist,
        };
        z.set(&p.member, s, limits);
    }
    z.shrink_if_fits(limits, longest);
    store_value(ctx, dest, z);
    let event = match kind {
        Kind::Search | Kind::SearchStore => "geosearchstore",
        Kind::Radius | Kind::RadiusByMember => "georadiusstore",
    };
    ctx.dirty(points.len() as u64);
    ctx.modified(dest);
    ctx.notify(Event::ZSet, event, dest);
    ctx.reply.integer(points.len() as i64);
}

#[cfg(test)]
mod tests {
    use crate::commands::testkit::TestClient;

    fn sicily() -> TestClient {
        let mut c = TestClient::new();
        assert_eq!(
            c.text(&[
                "GEOADD",
                "Sicily",
                "13.361389",
                "38.115556",
                "Palermo",
                "15.087269",
                "37.502669",
                "Catania"
            ]),
            ":2\r\n"
        );
        c
    }

    #[test]
    fn geoadd_stores_the_geohash_as_score() {
        let mut c = sicily();
        assert_eq!(
            c.text(&["ZSCORE", "Sicily", "Palermo"]),
            "$16\r\n3479099956230698\r\n"
        );
        assert_eq!(
            c.text(&[
                "GEOADD",
                "Sicily",
                "CH",
                "13.361389",
                "38.115556",
                "Palermo",
                "1",
                "1",
                "x"
            ]),
            ":1\r\n"
        );
        assert_eq!(
            c.text(&["GEOADD", "Sicily", "XX", "CH", "2", "2", "x", "3", "3", "y"]),
            ":1\r\n"
        );
        assert_eq!(
            c.text(&["GEOADD", "Sicily", "NX", "XX", "1", "1", "x"]),
            "-ERR syntax error\r\n"
        );
        assert_eq!(
            c.text(&["GEOADD", "Sicily", "1", "1"]),
            "-ERR wrong number of arguments for 'geoadd' command\r\n"
        );
        assert_eq!(
            c.text(&["GEOADD", "Sicily", "200", "100", "x"]),
            "-ERR invalid longitude,latitude pair 200.000000,100.000000\r\n"
        );
        assert_eq!(
            c.text(&["GEOADD", "Sicily", "a", "1", "x"]),
            "-ERR value is not a valid float\r\n"
        );
        c.text(&["SET", "s", "v"]);
        assert_eq!(
            c.text(&["GEOADD", "s", "1", "1", "x"]),
            "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
        );
    }

    #[test]
    fn geopos_geohash_and_geodist_print_as_redis() {
        let mut c = sicily();
        assert_eq!(
            c.text(&["GEOPOS", "Sicily", "Palermo", "nope"]),
            "*2\r\n*2\r\n$20\r\n13.36138933897018433\r\n$20\r\n38.11555639549629859\r\n*-1\r\n"
        );
        assert_eq!(
            c.text(&["GEOHASH", "Sicily", "Palermo", "Catania", "nope"]),
            "*3\r\n$11\r\nsqc8b49rny0\r\n$11\r\nsqdtr74hyu0\r\n$-1\r\n"
        );
        assert_eq!(
            c.text(&["GEODIST", "Sicily", "Palermo", "Catania"]),
            "$11\r\n166274.1516\r\n"
        );
        assert_eq!(
            c.text(&["GEODIST", "Sicily", "Palermo", "Catania", "km"]),
            "$8\r\n166.2742\r\n"
        );
        assert_eq!(
            c.text(&["GEODIST", "Sicily", "Palermo", "Catania", "mi"]),
            "$8\r\n103.3182\r\n"
        );
        assert_eq!(
            c.text(&["GEODIST", "Sicily", "Palermo", "Catania", "parsec"]),
            "-ERR unsupported unit provided. please use M, KM, FT, MI\r\n"
        );
        assert_eq!(c.text(&["GEODIST", "Sicily", "Palermo", "x"]), "$-1\r\n");
        assert_eq!(c.text(&["GEODIST", "nokey", "a", "b"]), "$-1\r\n");
    }

    #[test]
    fn searches_sort_count_and_decorate() {
        let mut c = sicily();
        assert_eq!(
            c.text(&[
                "GEORADIUS",
                "Sicily",
                "15",
                "37",
                "200",
                "km",
                "WITHDIST",
                "WITHCOORD",
                "ASC"
            ]),
            "*2\r\n*3\r\n$7\r\nCatania\r\n$7\r\n56.4413\r\n*2\r\n$20\r\n15.08726745843887329\r\n\
             $20\r\n37.50266842333162032\r\n*3\r\n$7\r\nPalermo\r\n$8\r\n190.4424\r\n*2\r\n\
             $20\r\n13.36138933897018433\r\n$20\r\n38.11555639549629859\r\n"
        );
        assert_eq!(
            c.text(&[
                "GEOSEARCH",
                "Sicily",
                "FROMMEMBER",
                "Palermo",
                "BYBOX",
                "400",
                "400",
                "km",
                "DESC",
                "COUNT",
                "1",
                "WITHHASH"
            ]),
            "*1\r\n*2\r\n$7\r\nCatania\r\n:3479447370796909\r\n"
        );
        assert_eq!(
            c.text(&[
                "GEOSEARCH",
                "Sicily",
                "FROMLONLAT",
                "0",
                "0",
                "BYRADIUS",
                "1",
                "km"
            ]),
            "*0\r\n"
        );
        assert_eq!(
            c.text(&["GEORADIUSBYMEMBER", "Sicily", "nope", "1", "km"]),
            "-ERR could not decode requested zset member\r\n"
        );
        assert_eq!(
            c.text(&["GEORADIUSBYMEMBER", "nokey", "nope", "-1", "zz"]),
            "*0\r\n"
        );
    }

    #[test]
    fn search_option_errors_match_redis() {
        let mut c = sicily();
        let cases: &[(&[&str], &str)] = &[
            (
                &[
                    "geosearch",
                    "Sicily",
                    "BYRADIUS",
                    "1",
                    "km",
                    "WITHDIST",
                    "ASC",
                ],
                "-ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for geosearch\r\n",
            ),
            (
                &[
                    "GEOSEARCH",
                    "Sicily",
                    "FROMLONLAT",
                    "1",
                    "1",
                    "FROMMEMBER",
                    "Palermo",
                ],
                "-ERR syntax error\r\n",
            ),
            (
                &["GEOSEARCH", "Sicily", "FROMLONLAT", "1", "1"],
                "-ERR wrong number of arguments for 'geosearch' command\r\n",
            ),
            (
                &[
                    "GEOSEARCH",
                    "Sicily",
                    "FROMLONLAT",
                    "1",
                    "1",
                    "WITHDIST",
                    "ASC",
                ],
                "-ERR exactly one of BYRADIUS and BYBOX can be specified for GEOSEARCH\r\n",
            ),
            (
                &["GEORADIUS", "Sicily", "1", "1", "1", "km", "ANY"],
                "-ERR the ANY argument requires COUNT argument\r\n",
            ),
            (
                &["GEORADIUS", "Sicily", "1", "1", "1", "km", "COUNT", "0"],
                "-ERR COUNT must be > 0\r\n",
            ),
            (
                &["GEORADIUS", "Sicily", "1", "1", "-1", "km"],
                "-ERR radius cannot be negative\r\n",
            ),
            (
                &["GEORADIUS", "Sicily", "1", "1", "x", "km"],
                "-ERR need numeric radius\r\n",
            ),
            (
                &[
                    "GEORADIUS",
                    "Sicily",
                    "1",
                    "1",
                    "1",
                    "km",
                    "STORE",
                    "d",
                    "WITHDIST",
                ],
                "-ERR STORE option in GEORADIUS is not compatible with WITHDIST, WITHHASH and WITHCOORD options\r\n",
            ),
            (
                &["GEORADIUS_RO", "Sicily", "1", "1", "1", "km", "STORE", "d"],
                "-ERR syntax error\r\n",
            ),
            (
                &[
                    "GEOSEARCHSTORE",
                    "d",
                    "Sicily",
                    "FROMLONLAT",
                    "1",
                    "1",
                    "BYBOX",
                    "1",
                    "-1",
                    "km",
                    "STOREDIST",
                ],
                "-ERR height or width cannot be negative\r\n",
            ),
            (
                &[
                    "GEOSEARCHSTORE",
                    "d",
                    "Sicily",
                    "FROMLONLAT",
                    "1",
                    "1",
                    "BYBOX",
                    "1",
                    "1",
                    "km",
                    "WITHCOORD",
                ],
                "-ERR GEOSEARCHSTORE is not compatible with WITHDIST, WITHHASH and WITHCOORD options\r\n",
            ),
        ];
        for (args, want) in cases {
            assert_eq!(c.text(args), *want, "{args:?}");
        }
    }

    #[test]
    fn store_forms_write_a_sorted_set() {
        let mut c = sicily();
        assert_eq!(
            c.text(&[
                "GEORADIUS",
                "Sicily",
                "15",
                "37",
                "200",
                "km",
                "STORE",
                "dst"
            ]),
            ":2\r\n"
        );
        assert_eq!(
            c.text(&["ZRANGE", "dst", "0", "-1", "WITHSCORES"]),
            "*4\r\n$7\r\nPalermo\r\n$16\r\n3479099956230698\r\n$7\r\nCatania\r\n$16\r\n3479447370796909\r\n"
        );
        assert_eq!(
            c.text(&[
                "GEOSEARCHSTORE",
                "dst",
                "Sicily",
                "FROMLONLAT",
                "15",
                "37",
                "BYRADIUS",
                "200",
                "km",
                "STOREDIST",
                "DESC",
                "COUNT",
                "1"
            ]),
            ":1\r\n"
        );
        assert_eq!(
            c.text(&["ZRANGE", "dst", "0", "-1", "WITHSCORES"]),
            "*2\r\n$7\r\nPalermo\r\n$18\r\n190.44242984775784\r\n"
        );
        assert_eq!(
            c.text(&["GEORADIUS", "Sicily", "0", "0", "1", "km", "STORE", "dst"]),
            ":0\r\n"
        );
        assert_eq!(c.text(&["EXISTS", "dst"]), ":0\r\n");
        c.text(&["SET", "dst", "x"]);
        assert_eq!(
            c.text(&["GEORADIUS", "nokey", "0", "0", "1", "km", "STORE", "dst"]),
            ":0\r\n"
        );
        assert_eq!(c.text(&["EXISTS", "dst"]), ":0\r\n");
    }
}
