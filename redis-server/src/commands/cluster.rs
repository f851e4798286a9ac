//! Group `cluster`: READONLY and READWRITE. Without cluster mode (this server has none) they
//! answer as Redis does when `cluster-enabled` is off.

use super::{CommandContext, CommandError, Registry};

pub(super) fn register(r: &mut Registry) {
    r.add("readonly", cluster_disabled);
    r.add("readwrite", cluster_disabled);
}

/// `READONLY` / `READWRITE`: refused, the instance has no cluster support.
fn cluster_disabled(_ctx: &mut CommandContext<'_>) -> Result<(), CommandError> {
    Err(CommandError::err(
        "This instance has cluster support disabled",
    ))
}

#[cfg(test)]
mod tests {
    use crate::commands::testkit::TestClient;

    #[test]
    fn readonly_and_readwrite_refuse_without_cluster_mode() {
        let mut c = TestClient::new();
        for cmd in ["READONLY", "readwrite"] {
            assert_eq!(
                c.text(&[cmd]),
                "-ERR This instance has cluster support disabled\r\n"
            );
        }
        assert_eq!(
            c.text(&["READONLY", "x"]),
            "-ERR wrong number of arguments for 'readonly' command\r\n"
        );
    }

    #[test]
    fn acl_rules_name_them() {
        let mut c = TestClient::new();
        assert_eq!(
            c.text(&["ACL", "SETUSER", "scripter", "on", "nopass", "+readonly"]),
            "+OK\r\n"
        );
        assert_eq!(
            c.text(&["ACL", "DRYRUN", "scripter", "EVAL_RO", "", "0"]),
            "$57\r\nThis user has no permissions to run the 'eval_ro' command\r\n"
        );
        assert_eq!(
            c.text(&["COMMAND", "INFO", "readonly"]),
            "*1\r\n*10\r\n$8\r\nreadonly\r\n:1\r\n*3\r\n+loading\r\n+stale\r\n+fast\r\n:0\r\n:0\r\n:0\r\n*2\r\n+@fast\r\n+@connection\r\n*0\r\n*0\r\n*0\r\n"
        );
    }
}
