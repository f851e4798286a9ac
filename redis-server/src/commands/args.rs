//! A cursor over a command's arguments that turns them into typed values.

use common::number::parse_i64;
use common::resp::ArgList;

use super::error::CommandError;

/// The arguments of one command, read front to back. Argument 0 is the command name; the
/// cursor starts after it (after the subcommand name too, for a subcommand).
#[derive(Clone, Copy)]
pub(crate) struct Args<'a> {
    list: ArgList<'a>,
    pos: usize,
}

impl<'a> Args<'a> {
    pub(crate) fn new(list: ArgList<'a>, first: usize) -> Args<'a> {
        Args { list, pos: first }
    }

    /// Every argument, the command name included.
    pub(crate) fn list(&self) -> ArgList<'a> {
        self.list
    }

    /// Argument `i` of the whole command line.
    pub(crate) fn get(&self, i: usize) -> Option<&'a [u8]> {
        self.list.get(i)
    }

    /// Total arguments, the command name included.
    pub(crate) fn argc(&self) -> usize {
        self.list.len()
    }

    /// Arguments not read yet.
    pub(crate) fn remaining(&self) -> usize {
        self.list.len().saturating_sub(self.pos)
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.remaining() == 0
    }

    pub(crate) fn peek(&self) -> Option<&'a [u8]> {
        self.list.get(self.pos)
    }

    /// The next argument, or a syntax error when there is none.
    pub(crate) fn next_bytes(&mut self) -> Result<&'a [u8], CommandError> {
        let arg = self.list.get(self.pos).ok_or(CommandError::Syntax)?;
        self.pos += 1;
        Ok(arg)
    }

    /// The next argument, if any.
    pub(crate) fn next_opt(&mut self) -> Option<&'a [u8]> {
        let arg = self.list.get(self.pos)?;
        self.pos += 1;
        Some(arg)
    }

    /// The next argument as a key (the same bytes; named for readability at call sites).
    pub(crate) fn next_key(&mut self) -> Result<&'a [u8], CommandError> {
        self.next_bytes()
    }

    /// The next argument as an integer ("value is not an integer or out of range" otherwise).
    pub(crate) fn next_i64(&mut self) -> Result<i64, CommandError> {
        parse_i64(self.next_bytes()?).ok_or(CommandError::NotInteger)
    }

    /// Consumes the next argument if it equals `word`, ignoring ASCII case.
    pub(crate) fn eat(&mut self, word: &str) -> bool {
        match self.peek() {
            Some(arg) if arg.eq_ignore_ascii_case(word.as_bytes()) => {
                self.pos += 1;
                true
            }
            _ => false,
        }
    }

    /// Every argument not read yet; the cursor moves to the end.
    pub(crate) fn rest(&mut self) -> impl Iterator<Item = &'a [u8]> + 'a {
        let list = self.list;
        let start = self.pos;
        self.pos = list.len();
        (start..list.len()).filter_map(move |i| list.get(i))
    }
}

/// True when `arg` equals `word`, ignoring ASCII case.
pub(crate) fn is(arg: &[u8], word: &str) -> bool {
    arg.eq_ignore_ascii_case(word.as_bytes())
}
