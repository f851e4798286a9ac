//! Which arguments of a command line are keys, read from the key specs the way Redis 7.0's
//! `getKeysFromCommandWithSpecs` reads them, and the legacy (first, last, step) triple of
//! `COMMAND INFO` (`populateCommandLegacyRangeSpec`).

use std::fmt;

use super::spec::{BeginSearch, CommandSpec, FindKeys, KeyFlag, KeySpec};

/// One key argument: its index in the command line and how the command uses it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyRef {
    /// Index in the arguments; 0 is the command name.
    pub pos: usize,
    pub flags: &'static [KeyFlag],
}

const INLINE: usize = 8;

/// The key arguments of one command line, in key-spec order. Holds up to eight without
/// touching the heap.
#[derive(Debug, Clone)]
pub struct KeyPositions {
    inline: [KeyRef; INLINE],
    inline_len: usize,
    /// Used once there are more than [`INLINE`] keys; then it holds all of them.
    heap: Vec<KeyRef>,
}

impl KeyPositions {
    fn new() -> Self {
        KeyPositions {
            inline: [KeyRef { pos: 0, flags: &[] }; INLINE],
            inline_len: 0,
            heap: Vec::new(),
        }
    }

    fn push(&mut self, key: KeyRef) {
        if self.heap.is_empty() && self.inline_len < INLINE {
            self.inline[self.inline_len] = key;
            self.inline_len += 1;
        } else {
            if self.heap.is_empty() {
                // Room for twice the inline keys in one allocation: growing from the inline
                // count reallocated once more for every MSET of nine to sixteen keys.
                self.heap.reserve(2 * INLINE);
                self.heap.extend_from_slice(&self.inline[..self.inline_len]);
            }
            self.heap.push(key);
        }
    }

    fn clear(&mut self) {
        self.inline_len = 0;
        self.heap.clear();
    }

    /// The keys with their flags.
    pub fn as_slice(&self) -> &[KeyRef] {
        if self.heap.is_empty() {
            &self.inline[..self.inline_len]
        } else {
            &self.heap
        }
    }

    pub fn len(&self) -> usize {
        self.as_slice().len()
    }

    pub fn is_empty(&self) -> bool {
        self.as_slice().is_empty()
    }

    /// The argument indexes of the keys.
    pub fn iter(&self) -> impl Iterator<Item = usize> + '_ {
        self.as_slice().iter().map(|key| key.pos)
    }
}

impl<'a> IntoIterator for &'a KeyPositions {
    type Item = usize;
    type IntoIter = std::iter::Map<std::slice::Iter<'a, KeyRef>, fn(&KeyRef) -> usize>;

    fn into_iter(self) -> Self::IntoIter {
        self.as_slice().iter().map(|key| key.pos)
    }
}

/// Why the keys of a command line cannot be found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyError {
    /// The arguments do not fit the key specs: a key count that is not a non-negative integer,
    /// keys past the end of the line, or a spec that cannot be evaluated.
    InvalidArguments,
}

impl fmt::Display for KeyError {
    /// The text `COMMAND GETKEYS` answers with, after `ERR `.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyError::InvalidArguments => f.write_str("Invalid arguments specified for command"),
        }
    }
}

impl std::error::Error for KeyError {}

/// The key arguments of `args` (the whole command line: `args[0]` is the command name and, for
/// a subcommand, `args[1]` the subcommand name). The caller checks arity first.
///
/// `Ok` with no keys is possible (KEYS, or a keyword that is absent); `COMMAND GETKEYS` answers
/// both that and `Err` with "Invalid arguments specified for command" unless the command has the
/// `no_mandatory_keys` flag.
pub fn key_positions(spec: &CommandSpec, args: &[&[u8]]) -> Result<KeyPositions, KeyError> {
    key_positions_by(spec, args.len(), |i| args[i])
}

/// [`key_positions`]; each [`KeyRef`] carries the flags `COMMAND GETKEYSANDFLAGS` prints.
pub fn key_positions_with_flags(
    spec: &CommandSpec,
    args: &[&[u8]],
) -> Result<KeyPositions, KeyError> {
    key_positions(spec, args)
}

/// [`key_positions`] over any argument store: `arg(i)` is argument `i`, for `i < argc`.
pub fn key_positions_by<'a>(
    spec: &CommandSpec,
    argc: usize,
    arg: impl Fn(usize) -> &'a [u8],
) -> Result<KeyPositions, KeyError> {
    let has_key_spec = spec
        .key_specs
        .iter()
        .any(|ks| !ks.flags.contains(&KeyFlag::NotKey));
    let has_variable_flags = spec
        .key_specs
        .iter()
        .any(|ks| ks.flags.contains(&KeyFlag::VariableFlags));
    let mut keys = KeyPositions::new();
    let mut specs_failed = false;
    if has_key_spec && !has_variable_flags {
        match keys_from_specs(spec, argc, &arg, &mut keys) {
            Ok(()) => return Ok(keys),
            Err(KeyError::InvalidArguments) => specs_failed = true,
        }
    }
    // As in Redis, a command's own key finder is the fallback when its specs cannot answer.
    if let Some(find) = native_key_finder(spec) {
        keys.clear();
        find(argc, &arg, &mut keys);
        return Ok(keys);
    }
    if specs_failed {
        Err(KeyError::InvalidArguments)
    } else {
        Ok(keys)
    }
}

/// The argument index of the command's only key when its specs fix it at one position (GET,
/// SET, INCR, LPUSH...): what [`key_positions_by`] would answer, without building a
/// [`KeyPositions`] (most commands take this path, once to warm the cache and once to lock).
/// `None` when the specs are of any other shape; ask [`key_positions_by`] then.
pub fn sole_key_position(spec: &CommandSpec, argc: usize) -> Option<usize> {
    let [key_spec] = spec.key_specs else {
        return None;
    };
    let BeginSearch::Index(index) = key_spec.begin_search else {
        return None;
    };
    let FindKeys::Range { last_key: 0, .. } = key_spec.find_keys else {
        return None;
    };
    let plain = !key_spec.flags.iter().any(|flag| {
        matches!(
            flag,
            KeyFlag::NotKey | KeyFlag::VariableFlags | KeyFlag::Incomplete
        )
    });
    let index = usize::try_from(index).ok()?;
    (plain && index < argc).then_some(index)
}

/// The keys of the specs that can be evaluated, skipping those the arguments defeat (Redis's
/// `GET_KEYSPEC_RETURN_PARTIAL`): what a command may touch even when [`key_positions_by`]
/// rejects its line, as `PFMERGE dest` (an empty source range) still runs.
pub fn partial_key_positions_by<'a>(
    spec: &CommandSpec,
    argc: usize,
    arg: impl Fn(usize) -> &'a [u8],
) -> KeyPositions {
    let mut keys = KeyPositions::new();
    if let Ok(argc) = i64::try_from(argc) {
        for key_spec in spec.key_specs {
            if !key_spec.flags.contains(&KeyFlag::NotKey) {
                // A spec that fails keeps what it found before failing, as in Redis.
                let _ = keys_from_spec(key_spec, argc, &arg, &mut keys);
            }
        }
    }
    keys
}

/// True when some invocation of the command has key arguments (Redis `doesCommandHaveKeys`);
/// `COMMAND GETKEYS` answers "The command has no key arguments" otherwise.
pub fn has_key_arguments(spec: &CommandSpec) -> bool {
    native_key_finder(spec).is_some()
        || spec
            .key_specs
            .iter()
            .any(|ks| !ks.flags.contains(&KeyFlag::NotKey))
}

type KeyFinder = for<'a> fn(usize, &dyn Fn(usize) -> &'a [u8], &mut KeyPositions);

/// The commands whose Redis JSON names a `get_keys_function`, by full name.
fn native_key_finder(spec: &CommandSpec) -> Option<KeyFinder> {
    match (spec.container, spec.name) {
        (None, "set") => Some(set_keys),
        (None, "bitfield") => Some(bitfield_keys),
        (None, "sort") => Some(sort_keys),
        (None, "sort_ro") => Some(sort_ro_keys),
        _ => None,
    }
}

/// SET's key is always argument 1; only its flags depend on the GET option (`setGetKeys`).
fn set_keys<'a>(argc: usize, arg: &dyn Fn(usize) -> &'a [u8], keys: &mut KeyPositions) {
    const READ_AND_WRITE: &[KeyFlag] = &[KeyFlag::Rw, KeyFlag::Access, KeyFlag::Update];
    const OVERWRITE: &[KeyFlag] = &[KeyFlag::Ow, KeyFlag::Update];
    if argc < 2 {
        return;
    }
    let get = (3..argc).any(|i| arg(i).eq_ignore_ascii_case(b"get"));
    keys.push(KeyRef {
        pos: 1,
        flags: if get { READ_AND_WRITE } else { OVERWRITE },
    });
}

/// BITFIELD's key is always argument 1; it is only read when every subcommand is a GET
/// (`bitfieldGetKeys`: a SET, an INCRBY or a syntax error makes it a write).
fn bitfield_keys<'a>(argc: usize, arg: &dyn Fn(usize) -> &'a [u8], keys: &mut KeyPositions) {
    const READ: &[KeyFlag] = &[KeyFlag::Ro, KeyFlag::Access];
    const READ_AND_WRITE: &[KeyFlag] = &[KeyFlag::Rw, KeyFlag::Access, KeyFlag::Update];
    if argc < 2 {
        return;
    }
    let mut readonly = true;
    let mut i = 2;
    while i < argc {
        let remaining = argc - i - 1;
        let word = arg(i);
        if word.eq_ignore_ascii_case(b"get") && remaining >= 2 {
            i += 3;
        } else if word.eq_ignore_ascii_case(b"overflow") && remaining >= 1 {
            i += 2;
        } else {
            readonly = false;
            break;
        }
    }
    keys.push(KeyRef {
        pos: 1,
        flags: if readonly { READ } else { READ_AND_WRITE },
    });
}

const SORT_SOURCE: &[KeyFlag] = &[KeyFlag::Ro, KeyFlag::Access];

/// SORT_RO names only the key it sorts (`sortROGetKeys`): the keys its patterns reach depend
/// on the data.
fn sort_ro_keys<'a>(argc: usize, _arg: &dyn Fn(usize) -> &'a [u8], keys: &mut KeyPositions) {
    if argc >= 2 {
        keys.push(KeyRef {
            pos: 1,
            flags: SORT_SOURCE,
        });
    }
}

/// SORT names the key it sorts and the last STORE destination (`sortGetKeys`). The scan skips
/// the arguments of LIMIT, GET and BY, and treats any other word as an option without one.
fn sort_keys<'a>(argc: usize, arg: &dyn Fn(usize) -> &'a [u8], keys: &mut KeyPositions) {
    const STORE: &[KeyFlag] = &[KeyFlag::Ow, KeyFlag::Update];
    if argc < 2 {
        return;
    }
    keys.push(KeyRef {
        pos: 1,
        flags: SORT_SOURCE,
    });
    let mut store = None;
    let mut i = 2;
    while i < argc {
        let word = arg(i);
        if word.eq_ignore_ascii_case(b"limit") {
            i += 2;
        } else if word.eq_ignore_ascii_case(b"get") || word.eq_ignore_ascii_case(b"by") {
            i += 1;
        } else if word.eq_ignore_ascii_case(b"store") && i + 1 < argc {
            store = Some(i + 1);
        }
        i += 1;
    }
    if let Some(pos) = store {
        keys.push(KeyRef { pos, flags: STORE });
    }
}

/// Redis `getKeysUsingKeySpecs` with the default search flags: `not_key` specs are skipped, and
/// any spec that cannot be evaluated fails the whole search.
fn keys_from_specs<'a>(
    spec: &CommandSpec,
    argc: usize,
    arg: &impl Fn(usize) -> &'a [u8],
    keys: &mut KeyPositions,
) -> Result<(), KeyError> {
    let argc = i64::try_from(argc).map_err(|_| KeyError::InvalidArguments)?;
    for key_spec in spec.key_specs {
        if !key_spec.flags.contains(&KeyFlag::NotKey) {
            keys_from_spec(key_spec, argc, arg, keys)?;
        }
    }
    Ok(())
}

/// The keys one spec finds, pushed onto `keys`.
fn keys_from_spec<'a>(
    key_spec: &KeySpec,
    argc: i64,
    arg: &impl Fn(usize) -> &'a [u8],
    keys: &mut KeyPositions,
) -> Result<(), KeyError> {
    let Some(first) = begin_search(key_spec, argc, arg)? else {
        return Ok(());
    };
    let (first, last, step) = match key_spec.find_keys {
        FindKeys::Range {
            last_key,
            key_step,
            limit,
        } => {
            let last = if last_key >= 0 {
                first + i64::from(last_key)
            } else if limit == 0 {
                argc + i64::from(last_key)
            } else {
                first + ((argc - first) / i64::from(limit) + i64::from(last_key))
            };
            (first, last, key_step)
        }
        FindKeys::Keynum {
            keynum_index,
            first_key,
            key_step,
        } => {
            let at = first + i64::from(keynum_index);
            if at >= argc {
                return Err(KeyError::InvalidArguments);
            }
            let numkeys = argument(arg, at)
                .and_then(parse_count)
                .ok_or(KeyError::InvalidArguments)?;
            let first = first + i64::from(first_key);
            // Redis narrows the count to a C int here.
            (first, first + i64::from(numkeys as i32) - 1, key_step)
        }
        FindKeys::Unknown => return Err(KeyError::InvalidArguments),
    };
    if last >= argc || last < first || first >= argc {
        return Err(KeyError::InvalidArguments);
    }
    let step = usize::try_from(step.max(1)).map_err(|_| KeyError::InvalidArguments)?;
    let (first, last) = (to_index(first)?, to_index(last)?);
    for pos in (first..=last).step_by(step) {
        keys.push(KeyRef {
            pos,
            flags: key_spec.flags,
        });
    }
    if key_spec.flags.contains(&KeyFlag::Incomplete) {
        return Err(KeyError::InvalidArguments);
    }
    Ok(())
}

/// Where a spec's keys start; `None` when its keyword is absent (the spec then finds no keys).
fn begin_search<'a>(
    key_spec: &KeySpec,
    argc: i64,
    arg: &impl Fn(usize) -> &'a [u8],
) -> Result<Option<i64>, KeyError> {
    match key_spec.begin_search {
        BeginSearch::Index(index) => Ok(Some(i64::from(index))),
        BeginSearch::Keyword {
            keyword,
            start_from,
        } => {
            // Redis never looks at the end index itself: the last argument when searching
            // forwards, argument 1 when searching backwards.
            let start_from = i64::from(start_from);
            let (start, end) = if start_from > 0 {
                (start_from, argc - 1)
            } else {
                (argc + start_from, 1)
            };
            let mut i = start;
            while i != end {
                if i >= argc || i < 1 {
                    break;
                }
                if argument(arg, i).is_some_and(|a| a.eq_ignore_ascii_case(keyword.as_bytes())) {
                    return Ok(Some(i + 1));
                }
                i = if start <= end { i + 1 } else { i - 1 };
            }
            Ok(None)
        }
        BeginSearch::Unknown => Err(KeyError::InvalidArguments),
    }
}

fn to_index(i: i64) -> Result<usize, KeyError> {
    usize::try_from(i).map_err(|_| KeyError::InvalidArguments)
}

fn argument<'a>(arg: &impl Fn(usize) -> &'a [u8], i: i64) -> Option<&'a [u8]> {
    usize::try_from(i).ok().map(arg)
}

/// A key count as Redis's `string2ll` reads it, which must not be negative.
fn parse_count(s: &[u8]) -> Option<i64> {
    let (negative, digits) = match s {
        [b'-', rest @ ..] => (true, rest),
        _ => (false, s),
    };
    let valid = match digits {
        [b'0'] => !negative,
        [b'1'..=b'9', rest @ ..] => rest.iter().all(u8::is_ascii_digit),
        _ => false,
    };
    if !valid || negative {
        return None;
    }
    digits.iter().try_fold(0i64, |n, d| {
        n.checked_mul(10)?.checked_add(i64::from(d - b'0'))
    })
}

/// What Redis's `populateCommandLegacyRangeSpec` derives from the key specs: the triple in
/// `COMMAND INFO`'s terms (last key absolute, or negative from the end) and whether the command
/// gets the `movablekeys` flag.
fn legacy(spec: &CommandSpec) -> ((i32, i32, i32), bool) {
    let specs = spec.key_specs;
    if specs.is_empty() {
        return ((0, 0, 0), false);
    }
    let plain_range = |ks: &KeySpec| match (ks.begin_search, ks.find_keys) {
        (
            BeginSearch::Index(index),
            FindKeys::Range {
                last_key, key_step, ..
            },
        ) => Some((index, last_key, key_step)),
        _ => None,
    };
    if let [only] = specs {
        if let Some((index, last_key, key_step)) = plain_range(only) {
            let last = if last_key >= 0 {
                index + last_key
            } else {
                last_key
            };
            let movable = only.flags.contains(&KeyFlag::Incomplete);
            return ((index, last, key_step), movable);
        }
    }
    let mut movable = false;
    let mut first_key = i32::MAX;
    // Redis compares last keys as unsigned, so a negative (from the end) one wins.
    let mut last_key: u32 = 0;
    let mut prev_last_key: i32 = 0;
    for ks in specs {
        let Some((index, last, step)) = plain_range(ks) else {
            movable = true;
            continue;
        };
        if step != 1 || (prev_last_key != 0 && prev_last_key != index - 1) {
            movable = true;
            continue;
        }
        if ks.flags.contains(&KeyFlag::Incomplete) {
            movable = true;
        }
        first_key = first_key.min(index);
        let absolute = if last >= 0 { last + index } else { last };
        last_key = last_key.max(absolute as u32);
        prev_last_key = last_key as i32;
    }
    if first_key == i32::MAX {
        return ((0, 0, 0), true);
    }
    ((first_key, last_key as i32, 1), movable)
}

/// The (first key, last key, step) triple `COMMAND INFO` prints, derived from the key specs as
/// Redis derives it; (0, 0, 0) when they do not reduce to one plain range.
pub fn legacy_key_range(spec: &CommandSpec) -> (i32, i32, i32) {
    legacy(spec).0
}

/// Whether `COMMAND INFO` adds the `movablekeys` flag: the key specs alone do not say where all
/// keys are without looking at the arguments.
pub fn has_movable_keys(spec: &CommandSpec) -> bool {
    legacy(spec).1
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::command_table::spec::{Group, KeyFlag as K};
    use crate::command_table::{base, key_range, lookup, lookup_subcommand};

    fn spec(name: &str) -> &'static CommandSpec {
        lookup(name.as_bytes()).unwrap()
    }

    fn keys(spec: &CommandSpec, line: &str) -> Result<Vec<usize>, KeyError> {
        let args: Vec<&[u8]> = line.split(' ').map(str::as_bytes).collect();
        key_positions(spec, &args).map(|k| k.iter().collect())
    }

    #[test]
    fn the_sole_key_shortcut_agrees_with_the_specs() {
        let mut shortcuts = 0;
        for spec in crate::command_table::commands()
            .chain(crate::command_table::commands().flat_map(crate::command_table::subcommands))
        {
            for argc in 0..8 {
                let args: Vec<&[u8]> = (0..argc).map(|_| &b"1"[..]).collect();
                if let Some(index) = sole_key_position(spec, argc) {
                    shortcuts += 1;
                    let general = key_positions(spec, &args).map(|k| k.iter().collect());
                    assert_eq!(general, Ok(vec![index]), "{} with {argc}", spec.name);
                }
            }
        }
        assert!(shortcuts > 500, "{shortcuts}");
        assert_eq!(sole_key_position(spec("get"), 2), Some(1));
        assert_eq!(sole_key_position(spec("get"), 1), None);
        assert_eq!(sole_key_position(spec("mset"), 3), None);
        assert_eq!(sole_key_position(spec("eval"), 3), None);
    }

    #[test]
    fn partial_search_keeps_the_specs_that_can_be_read() {
        let pfmerge = spec("pfmerge");
        assert_eq!(keys(pfmerge, "pfmerge d"), Err(KeyError::InvalidArguments));
        let args: [&[u8]; 2] = [b"pfmerge", b"d"];
        let partial = partial_key_positions_by(pfmerge, 2, |i| args[i]);
        assert_eq!(partial.iter().collect::<Vec<_>>(), [1]);
        let args: [&[u8]; 3] = [b"pfmerge", b"d", b"s"];
        let whole = partial_key_positions_by(pfmerge, 3, |i| args[i]);
        assert_eq!(whole.iter().collect::<Vec<_>>(), [1, 2]);
    }

    fn flags_of(spec: &CommandSpec, line: &str) -> Vec<&'static [KeyFlag]> {
        let args: Vec<&[u8]> = line.split(' ').map(str::as_bytes).collect();
        let found = key_positions_with_flags(spec, &args).unwrap();
        found.as_slice().iter().map(|k| k.flags).collect()
    }

    /// Shaped like ZUNIONSTORE: a destination, then a count of source keys.
    const STORE_LIKE: CommandSpec = CommandSpec {
        name: "storelike",
        arity: -4,
        key_specs: &[
            key_range(&[K::Ow, K::Update], 1, 0, 1, 0),
            KeySpec {
                notes: None,
                flags: &[K::Ro, K::Access],
                begin_search: BeginSearch::Index(2),
                find_keys: FindKeys::Keynum {
                    keynum_index: 0,
                    first_key: 1,
                    key_step: 1,
                },
            },
        ],
        ..base(Group::SortedSet)
    };

    /// Shaped like XREAD: keys after the STREAMS keyword, half of what follows it.
    const STREAMS_LIKE: CommandSpec = CommandSpec {
        name: "streamslike",
        arity: -4,
        key_specs: &[KeySpec {
            notes: None,
            flags: &[K::Ro, K::Access],
            begin_search: BeginSearch::Keyword {
                keyword: "STREAMS",
                start_from: 1,
            },
            find_keys: FindKeys::Range {
                last_key: -1,
                key_step: 1,
                limit: 2,
            },
        }],
        ..base(Group::Stream)
    };

    /// Shaped like MIGRATE: one key that may be empty (incomplete), or keys after KEYS.
    const MIGRATE_LIKE: CommandSpec = CommandSpec {
        name: "migratelike",
        arity: -6,
        key_specs: &[
            key_range(&[K::Rw, K::Access, K::Delete, K::Incomplete], 3, 0, 1, 0),
            MIGRATE_KEYS,
        ],
        ..base(Group::Generic)
    };

    const MIGRATE_KEYS: KeySpec = KeySpec {
        notes: None,
        flags: &[K::Rw, K::Access, K::Delete],
        begin_search: BeginSearch::Keyword {
            keyword: "KEYS",
            start_from: -2,
        },
        find_keys: FindKeys::Range {
            last_key: -1,
            key_step: 1,
            limit: 0,
        },
    };

    #[test]
    fn set_key_flags_depend_on_the_get_option() {
        let set = spec("set");
        assert_eq!(keys(set, "SET k v").unwrap(), [1]);
        assert_eq!(flags_of(set, "SET k v"), [&[K::Ow, K::Update][..]]);
        let read_write = &[K::Rw, K::Access, K::Update][..];
        assert_eq!(flags_of(set, "SET k v EX 10 gEt"), [read_write]);
        assert_eq!(flags_of(set, "SET k v GET"), [read_write]);
        // The value "get" is not the option, and neither is a longer word.
        assert_eq!(flags_of(set, "SET k get"), [&[K::Ow, K::Update][..]]);
        assert_eq!(flags_of(set, "SET k v getx"), [&[K::Ow, K::Update][..]]);
        assert!(has_key_arguments(set));
    }

    #[test]
    fn sort_names_its_key_and_the_last_store_destination() {
        let sort = spec("sort");
        assert_eq!(keys(sort, "SORT k").unwrap(), [1]);
        assert_eq!(keys(sort, "SORT k STORE d").unwrap(), [1, 3]);
        assert_eq!(
            keys(sort, "SORT k store d1 LIMIT 0 1 STORE d2").unwrap(),
            [1, 8]
        );
        // The arguments of BY, GET and LIMIT are never taken for the keyword.
        assert_eq!(keys(sort, "SORT k BY store GET store").unwrap(), [1]);
        assert_eq!(keys(sort, "SORT k LIMIT store x").unwrap(), [1]);
        assert_eq!(keys(sort, "SORT k STORE").unwrap(), [1]);
        assert_eq!(
            flags_of(sort, "SORT k STORE d"),
            [&[K::Ro, K::Access][..], &[K::Ow, K::Update][..]]
        );
        assert_eq!(keys(spec("sort_ro"), "SORT_RO k STORE d").unwrap(), [1]);
        assert_eq!(legacy_key_range(sort), (1, 1, 1));
        assert!(has_movable_keys(sort));
    }

    #[test]
    fn mset_takes_every_other_argument() {
        let mset = spec("mset");
        assert_eq!(keys(mset, "MSET a 1 b 2").unwrap(), [1, 3]);
        // Real Redis also names "b" here; MSET itself then fails on the odd count.
        assert_eq!(keys(mset, "MSET a 1 b").unwrap(), [1, 3]);
        assert_eq!(flags_of(mset, "MSET a 1"), [&[K::Ow, K::Update][..]]);
    }

    #[test]
    fn single_and_paired_keys() {
        assert_eq!(keys(spec("getex"), "GETEX k PERSIST").unwrap(), [1]);
        assert_eq!(keys(spec("getex"), "GETEX k").unwrap(), [1]);
        assert_eq!(keys(spec("lcs"), "LCS a b").unwrap(), [1, 2]);
        assert_eq!(keys(spec("lcs"), "LCS a b LEN").unwrap(), [1, 2]);
        assert_eq!(keys(spec("copy"), "COPY a b DB 1 REPLACE").unwrap(), [1, 2]);
        assert_eq!(
            flags_of(spec("rename"), "RENAME a b"),
            [&[K::Rw, K::Access, K::Delete][..], &[K::Ow, K::Update][..]]
        );
    }

    #[test]
    fn subcommand_keys_count_the_subcommand_name() {
        let object = spec("object");
        let encoding = lookup_subcommand(object, b"ENCODING").unwrap();
        assert_eq!(keys(encoding, "OBJECT ENCODING k").unwrap(), [2]);
        let help = lookup_subcommand(object, b"help").unwrap();
        assert!(!has_key_arguments(help));
        assert!(!has_key_arguments(object));
    }

    #[test]
    fn commands_without_key_specs_have_no_keys() {
        let keys_cmd = spec("keys");
        assert!(!has_key_arguments(keys_cmd));
        assert_eq!(keys(keys_cmd, "KEYS *").unwrap(), Vec::<usize>::new());
        assert!(!has_key_arguments(spec("ping")));
    }

    #[test]
    fn many_keys_spill_to_the_heap_only_past_eight() {
        let del = spec("del");
        let args: Vec<&[u8]> = std::iter::once(&b"DEL"[..])
            .chain(std::iter::repeat_n(&b"k"[..], 8))
            .collect();
        let found = key_positions(del, &args).unwrap();
        assert_eq!(found.len(), 8);
        assert_eq!(found.heap.capacity(), 0);
        let args: Vec<&[u8]> = std::iter::once(&b"DEL"[..])
            .chain(std::iter::repeat_n(&b"k"[..], 20))
            .collect();
        let found = key_positions(del, &args).unwrap();
        assert_eq!(
            (&found).into_iter().collect::<Vec<_>>(),
            (1..=20).collect::<Vec<_>>()
        );
    }

    #[test]
    fn keys_from_any_argument_store() {
        let owned: Vec<Vec<u8>> = vec![b"MGET".to_vec(), b"a".to_vec(), b"b".to_vec()];
        let found = key_positions_by(spec("mget"), owned.len(), |i| &owned[i]).unwrap();
        assert_eq!(found.iter().collect::<Vec<_>>(), [1, 2]);
    }

    #[test]
    fn key_counts_must_be_plain_non_negative_integers() {
        assert_eq!(keys(&STORE_LIKE, "Z d 2 a b").unwrap(), [1, 3, 4]);
        assert_eq!(
            flags_of(&STORE_LIKE, "Z d 1 a"),
            [&[K::Ow, K::Update][..], &[K::Ro, K::Access][..]]
        );
        // Each of these is "ERR Invalid arguments specified for command" in COMMAND GETKEYS.
        for bad in [
            "Z d 5 a b",
            "Z d x a",
            "Z d -1 a",
            "Z d 01 a",
            "Z d +1 a",
            "Z d 0 a",
            "Z d 99999999999999999999 a",
        ] {
            assert_eq!(
                keys(&STORE_LIKE, bad),
                Err(KeyError::InvalidArguments),
                "{bad}"
            );
        }
        assert_eq!(
            KeyError::InvalidArguments.to_string(),
            "Invalid arguments specified for command"
        );
    }

    #[test]
    fn keyword_searches_forwards_and_splits_by_limit() {
        assert_eq!(
            keys(&STREAMS_LIKE, "XREAD COUNT 2 STREAMS a b 0 0").unwrap(),
            [4, 5]
        );
        assert_eq!(
            keys(&STREAMS_LIKE, "XREAD COUNT 2 streams a b 0").unwrap(),
            [4]
        );
        // The last argument is never taken for the keyword, so no keys are found.
        assert!(
            keys(&STREAMS_LIKE, "XREAD COUNT 2 STREAMS")
                .unwrap()
                .is_empty()
        );
        assert!(keys(&STREAMS_LIKE, "XREAD COUNT 2 X a").unwrap().is_empty());
    }

    #[test]
    fn keyword_searches_backwards_from_the_end() {
        let keys_only = CommandSpec {
            key_specs: &[MIGRATE_KEYS],
            ..MIGRATE_LIKE
        };
        assert_eq!(
            keys(&keys_only, "MIGRATE h p x 0 5 KEYS a b").unwrap(),
            [7, 8]
        );
        assert!(keys(&keys_only, "MIGRATE h p k 0 5").unwrap().is_empty());
    }

    #[test]
    fn incomplete_spec_fails_without_a_key_finder() {
        assert_eq!(
            keys(&MIGRATE_LIKE, "MIGRATE h p k 0 5"),
            Err(KeyError::InvalidArguments)
        );
        assert_eq!(legacy_key_range(&MIGRATE_LIKE), (3, 3, 1));
        assert!(has_movable_keys(&MIGRATE_LIKE));
    }

    #[test]
    fn legacy_range_matches_command_info() {
        let range = |name: &str| legacy_key_range(spec(name));
        assert_eq!(range("set"), (1, 1, 1));
        assert_eq!(range("mset"), (1, -1, 2));
        assert_eq!(range("del"), (1, -1, 1));
        assert_eq!(range("copy"), (1, 2, 1));
        assert_eq!(range("lcs"), (1, 2, 1));
        assert_eq!(range("keys"), (0, 0, 0));
        let encoding = lookup_subcommand(spec("object"), b"encoding").unwrap();
        assert_eq!(legacy_key_range(encoding), (2, 2, 1));
        assert_eq!(legacy_key_range(&STORE_LIKE), (1, 1, 1));
        assert!(has_movable_keys(&STORE_LIKE));
        assert_eq!(legacy_key_range(&STREAMS_LIKE), (0, 0, 0));
        assert!(has_movable_keys(&STREAMS_LIKE));
        // SET has its own key finder, but Redis 7.0 derives movablekeys from the specs alone.
        assert!(!has_movable_keys(spec("set")));
    }
}
