//! The geo family beside real Redis: positions, hashes, distances in every unit and searches
//! must print the same digits, in RESP2 and RESP3, errors included.

/// One command per line, split on spaces. Deterministic: every search is sorted or has at most
/// one result, and no two members share a distance.
const CORPUS: &str = "
GEOADD cities 13.361389 38.115556 Palermo 15.087269 37.502669 Catania
GEOADD cities -0.127758 51.507351 London 2.352222 48.856613 Paris 13.404954 52.520008 Berlin
GEOADD cities -73.935242 40.730610 NewYork 139.691711 35.689487 Tokyo -43.172897 -22.906847 Rio
GEOADD cities 151.209290 -33.868820 Sydney -179.9 -0.5 Dateline 179.95 0.4 Fiji 0 85.05 North
GEOADD cities CH 2.35 48.85 Paris 1 1 Null
GEOADD cities NX CH 3 3 Paris 4 4 Nowhere
GEOADD cities XX 5 5 Elsewhere 4.5 4.5 Nowhere
GEOADD cities NX XX 1 1 x
GEOADD cities 181 0 x
GEOADD cities 0 85.06 x
GEOADD cities nope 0 x
GEOADD cities 1 2
ZCARD cities
ZSCORE cities Palermo
GEOPOS cities Palermo Catania London Paris Berlin NewYork Tokyo Rio Sydney missing
GEOPOS cities Dateline Fiji North Null Nowhere
GEOPOS nokey a b
GEOHASH cities Palermo Catania London Paris Berlin NewYork Tokyo Rio Sydney missing
GEOHASH cities Dateline Fiji North Null Nowhere
GEODIST cities Palermo Catania
GEODIST cities Palermo Catania m
GEODIST cities Palermo Catania km
GEODIST cities Palermo Catania ft
GEODIST cities Palermo Catania mi
GEODIST cities London NewYork KM
GEODIST cities Tokyo Rio mi
GEODIST cities Sydney London ft
GEODIST cities Dateline Fiji
GEODIST cities Palermo Palermo
GEODIST cities Palermo missing
GEODIST cities Palermo Catania parsec
GEODIST cities Palermo Catania km extra
GEODIST nokey a b
GEORADIUS cities 15 37 200 km
GEORADIUS cities 15 37 200 km WITHDIST WITHCOORD WITHHASH ASC
GEORADIUS cities 15 37 2000 km WITHDIST DESC
GEORADIUS cities 15 37 2000 km COUNT 2
GEORADIUS cities 15 37 2000 km COUNT 2 DESC WITHDIST
GEORADIUS cities 15 37 2000 km COUNT 1 ANY
GEORADIUS cities 15 37 1000 mi WITHDIST ASC
GEORADIUS cities 15 37 1000000 ft WITHDIST ASC
GEORADIUS cities 180 0 200 km WITHDIST ASC
GEORADIUS cities 0 0 1 km
GEORADIUS cities 200 0 1 km
GEORADIUS cities 0 0 -1 km
GEORADIUS cities 0 0 x km
GEORADIUS cities 0 0 1 parsec
GEORADIUS cities 0 0 1 km ANY
GEORADIUS cities 0 0 1 km COUNT 0
GEORADIUS cities 0 0 1 km COUNT x
GEORADIUS cities 0 0 1 km BADOPT
GEORADIUS cities 15 37 200 km STORE dst WITHDIST
GEORADIUS cities 15 37 2000 km STORE dst
ZRANGE dst 0 -1 WITHSCORES
GEORADIUS cities 15 37 2000 km STOREDIST dst COUNT 3
ZRANGE dst 0 -1 WITHSCORES
GEORADIUS cities 0 0 1 km STORE dst
EXISTS dst
GEORADIUS_RO cities 15 37 200 km WITHDIST ASC
GEORADIUS_RO cities 15 37 200 km STORE dst
GEORADIUSBYMEMBER cities Paris 1000 km WITHDIST ASC
GEORADIUSBYMEMBER cities Paris 1000 km STOREDIST dst
ZRANGE dst 0 -1 WITHSCORES
GEORADIUSBYMEMBER cities missing 1000 km
GEORADIUSBYMEMBER nokey missing -1 parsec
GEORADIUSBYMEMBER_RO cities Berlin 1000 km WITHCOORD ASC
GEOSEARCH cities FROMMEMBER London BYRADIUS 1000 km ASC WITHDIST
GEOSEARCH cities FROMLONLAT 10 45 BYBOX 2000 2000 km ASC WITHDIST WITHCOORD
GEOSEARCH cities FROMLONLAT 10 45 BYBOX 2000 500 km ASC
GEOSEARCH cities FROMLONLAT 10 45 BYBOX 1500 1500 mi DESC COUNT 3
GEOSEARCH cities FROMLONLAT 180 0 BYBOX 200 200 km ASC
GEOSEARCH cities FROMLONLAT 10 45 BYRADIUS 2000 km WITHHASH ASC
GEOSEARCH cities BYRADIUS 1 km FROMMEMBER Paris ASC
GEOSEARCH cities FROMMEMBER missing BYRADIUS 1 km
GEOSEARCH cities FROMMEMBER Paris FROMLONLAT 1 1 BYRADIUS 1 km
GEOSEARCH cities FROMMEMBER Paris BYRADIUS 1 km BYBOX 1 1 km
GEOSEARCH cities FROMMEMBER Paris BYBOX 1 -1 km
GEOSEARCH cities FROMMEMBER Paris BYBOX x 1 km
GEOSEARCH cities FROMMEMBER Paris BYBOX 1 x km
GEOSEARCH cities FROMMEMBER Paris BYRADIUS 1 km STORE dst
GEOSEARCH cities FROMMEMBER Paris BYRADIUS 1 km STOREDIST
GEOSEARCH cities BYRADIUS 1 km WITHDIST ASC
GEOSEARCH cities FROMLONLAT 1 1 WITHDIST ASC
GEOSEARCH nokey FROMMEMBER missing BYRADIUS 1 km
GEOSEARCHSTORE dst cities FROMLONLAT 10 45 BYBOX 2000 2000 km
ZRANGE dst 0 -1 WITHSCORES
OBJECT ENCODING dst
GEOSEARCHSTORE dst cities FROMLONLAT 10 45 BYRADIUS 2000 km STOREDIST DESC COUNT 2
ZRANGE dst 0 -1 WITHSCORES
GEOSEARCHSTORE dst cities FROMLONLAT 10 45 BYRADIUS 2000 km WITHDIST
GEOSEARCHSTORE dst nokey FROMLONLAT 10 45 BYRADIUS 2000 km
EXISTS dst
SET str x
GEOADD str 1 1 x
GEOPOS str x
GEODIST str a b
GEOSEARCH str FROMLONLAT 1 1 BYRADIUS 1 km
ZADD odd -1 neg 1e300 huge 1.5 frac
GEOPOS odd neg huge frac
GEOHASH odd neg huge frac
";

#[test]
fn geo_corpus_matches_real_redis_byte_for_byte_in_both_protocols() {
    super::assert_corpus_matches(CORPUS);
}
