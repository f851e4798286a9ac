//! ACL and its subcommands; the users, checks and log live in `crate::acl`.

use common::command_table::{self, AclCategory};
use common::number::parse_i64;
use rand::Rng;

use crate::acl::{self, Denied};
use crate::commands::reply_help;
use crate::commands::{CommandContext, CommandError, Registry};
use crate::server::unix_ms;

pub(super) fn register(r: &mut Registry) {
    r.add_sub("acl", "cat", acl_cat);
    r.add_sub("acl", "deluser", acl_deluser);
    r.add_sub("acl", "dryrun", acl_dryrun);
    r.add_sub("acl", "genpass", acl_genpass);
    r.add_sub("acl", "getuser", acl_getuser);
    r.add_sub("acl", "help", acl_help);
    r.add_sub("acl", "list", acl_list);
    r.add_sub("acl", "load", acl_load);
    r.add_sub("acl", "log", acl_log);
    r.add_sub("acl", "save", acl_save);
    r.add_sub("acl", "setuser", acl_setuser);
    r.add_sub("acl", "users", acl_users);
    r.add_sub("acl", "whoami", acl_whoami);
}

/// `unknown subcommand or wrong number of arguments for '<sub as typed>'`.
fn subcommand_syntax(ctx: &CommandContext<'_>) -> CommandError {
    let sub = ctx.args.list().get(1).unwrap_or_default();
    CommandError::err(format!(
        "unknown subcommand or wrong number of arguments for '{}'. Try ACL HELP.",
        String::from_utf8_lossy(sub)
    ))
}

fn has_space(name: &[u8]) -> bool {
    name.iter()
        .any(|b| b.is_ascii_whitespace() || *b == 0 || *b == 0x0b)
}

fn acl_setuser(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let name = ctx.args.next_bytes()?;
    if has_space(name) {
        return Err(CommandError::err(
            "Usernames can't contain spaces or null characters",
        ));
    }
    let rules: Vec<&[u8]> = ctx.args.rest().collect();
    let all_channels = acl::pubsub_default_all(ctx.server);
    let (old, new) = ctx
        .server
        .acl
        .set_user(name, &rules, all_channels)
        .map_err(CommandError::err)?;
    if let Some(old) = old {
        acl::disconnect_revoked_subscribers(ctx.server, &old, &new);
    }
    ctx.reply.ok();
    Ok(())
}

fn acl_deluser(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let names: Vec<&[u8]> = ctx.args.rest().collect();
    if names.iter().any(|n| *n == b"default") {
        return Err(CommandError::err("The 'default' user cannot be removed"));
    }
    let mut deleted = 0;
    for name in names {
        if ctx.server.acl.delete_user(name) {
            acl::disconnect_user(ctx.server, ctx.client, name);
            deleted += 1;
        }
    }
    ctx.reply.integer(deleted);
    Ok(())
}

/// Writes one selector's `commands`, `keys` and `channels` fields.
fn reply_selector(ctx: &mut CommandContext<'_>, selector: &acl::Selector) {
    ctx.reply.bulk(b"commands");
    ctx.reply.bulk(&selector.describe_commands());
    ctx.reply.bulk(b"keys");
    ctx.reply.bulk(&selector.describe_keys());
    ctx.reply.bulk(b"channels");
    ctx.reply.bulk(&selector.describe_channels());
}

fn acl_getuser(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let name = ctx.args.next_bytes()?;
    let Some(user) = ctx.server.acl.user(name) else {
        ctx.reply.null();
        return Ok(());
    };
    ctx.reply.map(6);
    ctx.reply.bulk(b"flags");
    let flags = user.flag_names();
    ctx.reply.set(flags.len());
    for flag in flags {
        ctx.reply.bulk(flag.as_bytes());
    }
    ctx.reply.bulk(b"passwords");
    ctx.reply.array(user.passwords().len());
    for pass in user.passwords() {
        ctx.reply.bulk(pass.as_bytes());
    }
    let (root, others) = user
        .selectors()
        .split_first()
        .expect("every user has a root selector");
    reply_selector(ctx, root);
    ctx.reply.bulk(b"selectors");
    ctx.reply.array(others.len());
    for selector in others {
        ctx.reply.map(3);
        reply_selector(ctx, selector);
    }
    Ok(())
}

fn acl_list(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let users = ctx.server.acl.users();
    ctx.reply.array(users.len());
    for user in users {
        let mut line = b"user ".to_vec();
        line.extend_from_slice(&user.name);
        line.push(b' ');
        line.extend_from_slice(&user.describe());
        ctx.reply.bulk(&line);
    }
    Ok(())
}

fn acl_users(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let users = ctx.server.acl.users();
    ctx.reply.array(users.len());
    for user in users {
        ctx.reply.bulk(&user.name);
    }
    Ok(())
}

fn acl_whoami(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let name = acl::client_user(ctx.client);
    ctx.reply.bulk(&name);
    Ok(())
}

/// The configured `aclfile`, or Redis's error when there is none.
fn aclfile(ctx: &CommandContext<'_>) -> Result<String, CommandError> {
    let path = ctx
        .server
        .config()
        .get_str("aclfile")
        .unwrap_or_default()
        .to_owned();
    if path.is_empty() {
        return Err(CommandError::err(
            "This Redis instance is not configured to use an ACL file. You may want to specify users via the ACL SETUSER command and then issue a CONFIG REWRITE (assuming you have a Redis configuration file set) in order to store users in the Redis configuration.",
        ));
    }
    Ok(path)
}

fn acl_load(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let path = aclfile(ctx)?;
    let all_channels = acl::pubsub_default_all(ctx.server);
    let users = acl::load_file(&path, &path, all_channels).map_err(CommandError::err)?;
    let old = ctx.server.acl.users();
    ctx.server.acl.replace_all(users);
    // Every user but `default` was replaced: their connections are closed, as Redis frees
    // the old users.
    for user in old.iter().filter(|u| u.name != b"default") {
        acl::disconnect_user(ctx.server, ctx.client, &user.name);
    }
    ctx.reply.ok();
    Ok(())
}

fn acl_save(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let path = aclfile(ctx)?;
    if let Err(e) = acl::save_file(ctx.server, &path) {
        ctx.server
            .log
            .warning(&format!("Writing ACL file for ACL SAVE: {e}"));
        return Err(CommandError::err(
            "There was an error trying to save the ACLs. Please check the server logs for more information",
        ));
    }
    ctx.reply.ok();
    Ok(())
}

fn acl_cat(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    match ctx.args.remaining() {
        0 => {
            ctx.reply.array(AclCategory::ALL.len());
            for category in AclCategory::ALL {
                ctx.reply.bulk(category.name().as_bytes());
            }
        }
        1 => {
            let name = ctx.args.next_bytes()?;
            let Some(category) = acl::category_by_name(name) else {
                let shown = &name[..name.len().min(128)];
                return Err(CommandError::err(format!(
                    "Unknown category '{}'",
                    String::from_utf8_lossy(shown)
                )));
            };
            let names: Vec<_> = acl::commands_in(category)
                .map(command_table::full_name)
                .collect();
            ctx.reply.array(names.len());
            for name in names {
                ctx.reply.bulk(name.as_bytes());
            }
        }
        _ => return Err(subcommand_syntax(ctx)),
    }
    Ok(())
}

/// Longest password ACL GENPASS makes, in bits.
const GENPASS_MAX_BITS: i64 = 4096;

fn acl_genpass(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let bits = match ctx.args.remaining() {
        0 => 256,
        1 => ctx.args.next_i64()?,
        _ => return Err(subcommand_syntax(ctx)),
    };
    if bits <= 0 || bits > GENPASS_MAX_BITS {
        return Err(CommandError::err(format!(
            "ACL GENPASS argument must be the number of bits for the output password, a positive number up to {GENPASS_MAX_BITS}"
        )));
    }
    let chars = usize::try_from((bits + 3) / 4).unwrap_or(0);
    let mut rng = rand::rng();
    let pass: Vec<u8> = (0..chars)
        .map(|_| b"0123456789abcdef"[rng.random_range(0..16)])
        .collect();
    ctx.reply.bulk(&pass);
    Ok(())
}

/// Entries ACL LOG shows without a count.
const LOG_DEFAULT_COUNT: i64 = 10;

fn acl_log(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let count = match ctx.args.remaining() {
        0 => LOG_DEFAULT_COUNT,
        1 => {
            let arg = ctx.args.next_bytes()?;
            if arg.eq_ignore_ascii_case(b"reset") {
                ctx.server.acl.reset_log();
                ctx.reply.ok();
                return Ok(());
            }
            parse_i64(arg).ok_or(CommandError::NotInteger)?.max(0)
        }
        _ => return Err(subcommand_syntax(ctx)),
    };
    let entries = ctx
        .server
        .acl
        .log_entries(usize::try_from(count).unwrap_or(usize::MAX));
    let now = unix_ms();
    ctx.reply.array(entries.len());
    for entry in entries {
        ctx.reply.map(7);
        ctx.reply.bulk(b"count");
        ctx.reply.integer(entry.count as i64);
        ctx.reply.bulk(b"reason");
        ctx.reply.bulk(entry.reason_name().as_bytes());
        ctx.reply.bulk(b"context");
        ctx.reply.bulk(entry.context_name().as_bytes());
        ctx.reply.bulk(b"object");
        ctx.reply.bulk(&entry.object);
        ctx.reply.bulk(b"username");
        ctx.reply.bulk(&entry.username);
        ctx.reply.bulk(b"age-seconds");
        ctx.reply.double((now - entry.ctime_ms) as f64 / 1000.0);
        ctx.reply.bulk(b"client-info");
        ctx.reply.bulk(entry.client_info.as_bytes());
    }
    Ok(())
}

fn acl_dryrun(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    let name = ctx.args.next_bytes()?;
    let Some(user) = ctx.server.acl.user(name) else {
        return Err(CommandError::err(format!(
            "User '{}' not found",
            String::from_utf8_lossy(name)
        )));
    };
    let argv: Vec<&[u8]> = ctx.args.rest().collect();
    let command = argv.first().copied().unwrap_or_default();
    let not_found = || {
        CommandError::err(format!(
            "Command '{}' not found",
            String::from_utf8_lossy(command)
        ))
    };
    let mut spec = ctx.server.registry.lookup(command).ok_or_else(not_found)?;
    if command_table::has_subcommands(spec)
        && let Some(sub) = argv.get(1)
    {
        spec = command_table::lookup_subcommand(spec, sub).ok_or_else(not_found)?;
    }
    let argc = argv.len();
    let arity_ok = if spec.arity >= 0 {
        argc == spec.arity as usize
    } else {
        argc >= spec.arity.unsigned_abs() as usize
    };
    if !arity_ok {
        return Err(CommandError::WrongArity(
            command_table::full_name(spec).into_owned(),
        ));
    }
    match user.check(spec, &argv) {
        Ok(()) => ctx.reply.ok(),
        Err(denied) => {
            let text = match denied {
                Denied::Command => format!(
                    "This user has no permissions to run the '{}' command",
                    command_table::full_name(spec)
                ),
                Denied::Key(i) => format!(
                    "This user has no permissions to access the '{}' key",
                    String::from_utf8_lossy(argv.get(i).copied().unwrap_or_default())
                ),
                Denied::Channel(i) => format!(
                    "This user has no permissions to access the '{}' channel",
                    String::from_utf8_lossy(argv.get(i).copied().unwrap_or_default())
                ),
            };
            ctx.reply.bulk(text.as_bytes());
        }
    }
    Ok(())
}

fn acl_help(ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    reply_help(
        ctx,
        &[
            "CAT [<category>]",
            "    List all commands that belong to <category>, or all command categories",
            "    when no category is specified.",
            "DELUSER <username> [<username> ...]",
            "    Delete a list of users.",
            "DRYRUN <username> <command> [<arg> ...]",
            "    Returns whether the user can execute the given command without executing the command.",
            "GETUSER <username>",
            "    Get the user's details.",
            "GENPASS [<bits>]",
            "    Generate a secure 256-bit user password. The optional `bits` argument can",
            "    be used to specify a different size.",
            "LIST",
            "    Show users details in config file format.",
            "LOAD",
            "    Reload users from the ACL file.",
            "LOG [<count> | RESET]",
            "    Show the ACL log entries.",
            "SAVE",
            "    Save the current config to the ACL file.",
            "SETUSER <username> <attribute> [<attribute> ...]",
            "    Create or modify a user with the specified attributes.",
            "USERS",
            "    List all the registered usernames.",
            "WHOAMI",
            "    Return the current connection username.",
        ],
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::commands::testkit::TestClient;

    #[test]
    fn setuser_getuser_and_list() {
        let mut c = TestClient::new();
        assert_eq!(c.text(&["ACL", "WHOAMI"]), "$7\r\ndefault\r\n");
        assert_eq!(
            c.text(&["ACL", "SETUSER", "bob", "on", ">pw", "~k*", "+get"]),
            "+OK\r\n"
        );
        assert_eq!(
            c.text(&["ACL", "LIST"]),
            "*2\r\n$106\r\nuser bob on #30c952fab122c3f9759f02a6d95c3758b246b4fee239957b2d4fee46e26170c4 ~k* resetchannels -@all +get\r\n$34\r\nuser default on nopass ~* &* +@all\r\n"
        );
        assert_eq!(
            c.text(&["ACL", "USERS"]),
            "*2\r\n$3\r\nbob\r\n$7\r\ndefault\r\n"
        );
        assert_eq!(
            c.text(&["ACL", "GETUSER", "bob"]),
            "*12\r\n$5\r\nflags\r\n*1\r\n$2\r\non\r\n$9\r\npasswords\r\n*1\r\n$64\r\n30c952fab122c3f9759f02a6d95c3758b246b4fee239957b2d4fee46e26170c4\r\n$8\r\ncommands\r\n$10\r\n-@all +get\r\n$4\r\nkeys\r\n$3\r\n~k*\r\n$8\r\nchannels\r\n$0\r\n\r\n$9\r\nselectors\r\n*0\r\n"
        );
        assert_eq!(c.text(&["ACL", "GETUSER", "nobody"]), "$-1\r\n");
        assert_eq!(
            c.text(&["ACL", "SETUSER", "x", "+nosuch"]),
            "-ERR Error in ACL SETUSER modifier '+nosuch': Unknown command or category name in ACL\r\n"
        );
        assert_eq!(
            c.text(&["ACL", "SETUSER", "x", "("]),
            "-ERR Unmatched parenthesis in acl selector starting at '('.\r\n"
        );
        assert_eq!(c.text(&["ACL", "GETUSER", "x"]), "$-1\r\n");
    }

    #[test]
    fn permissions_are_checked_and_logged() {
        let mut c = TestClient::new();
        c.text(&["ACL", "SETUSER", "bob", "on", ">pw", "~k*", "+get", "+acl"]);
        assert_eq!(c.text(&["AUTH", "bob", "pw"]), "+OK\r\n");
        assert_eq!(
            c.text(&["SET", "k", "v"]),
            "-NOPERM this user has no permissions to run the 'set' command\r\n"
        );
        assert_eq!(
            c.text(&["GET", "other"]),
            "-NOPERM this user has no permissions to access one of the keys used as arguments\r\n"
        );
        assert_eq!(c.text(&["GET", "k1"]), "$-1\r\n");
        let log = c.text(&["ACL", "LOG", "1"]);
        assert!(
            log.contains(
                "$3\r\nkey\r\n$7\r\ncontext\r\n$8\r\ntoplevel\r\n$6\r\nobject\r\n$5\r\nother\r\n"
            ),
            "{log}"
        );
        assert_eq!(
            c.text(&["AUTH", "bob", "bad"]),
            "-WRONGPASS invalid username-password pair or user is disabled.\r\n"
        );
        assert_eq!(
            c.text(&["ACL", "DRYRUN", "bob", "set", "k", "v"]),
            "$53\r\nThis user has no permissions to run the 'set' command\r\n"
        );
    }

    #[test]
    fn transactions_are_checked_when_queued_and_at_exec() {
        let mut admin = TestClient::new();
        admin.text(&[
            "ACL", "SETUSER", "bob", "on", "nopass", "~*", "+multi", "+exec", "+incr",
        ]);
        let mut c = TestClient::connect(&admin.server);
        assert_eq!(c.text(&["AUTH", "bob", "x"]), "+OK\r\n");
        assert_eq!(c.text(&["MULTI"]), "+OK\r\n");
        assert_eq!(c.text(&["INCR", "a"]), "+QUEUED\r\n");
        admin.text(&["ACL", "SETUSER", "bob", "-incr"]);
        assert_eq!(
            c.text(&["EXEC"]),
            "*1\r\n-NOPERM ACLs rules changed between the moment the transaction was accumulated and the EXEC call. This command is no longer allowed for the following reason: no permission to execute the command or subcommand\r\n"
        );
        assert_eq!(c.text(&["MULTI"]), "+OK\r\n");
        assert_eq!(
            c.text(&["GET", "a"]),
            "-NOPERM this user has no permissions to run the 'get' command\r\n"
        );
        assert!(c.text(&["EXEC"]).starts_with("-EXECABORT"));
        assert!(admin.text(&["ACL", "LOG", "1"]).contains("$5\r\nmulti\r\n"));
    }

    #[test]
    fn cat_and_errors() {
        let mut c = TestClient::new();
        assert_eq!(
            c.text(&["ACL", "CAT", "nope"]),
            "-ERR Unknown category 'nope'\r\n"
        );
        assert_eq!(
            c.text(&["ACL", "CAT", "a", "b"]),
            "-ERR unknown subcommand or wrong number of arguments for 'CAT'. Try ACL HELP.\r\n"
        );
        assert_eq!(
            c.text(&["ACL", "DELUSER", "default"]),
            "-ERR The 'default' user cannot be removed\r\n"
        );
        assert!(
            c.text(&["ACL", "LOAD"])
                .starts_with("-ERR This Redis instance is not configured")
        );
        assert_eq!(c.text(&["ACL", "GENPASS", "5"]).len(), "$2\r\nab\r\n".len());
    }
}
