//! Authentication: AUTH and the password check HELLO … AUTH shares, against
//! the ACL users (`default` has the `requirepass` password; passwords are
//! kept as SHA-256).

use super::{cmd, syntax_error, Command, Exec::*};
use crate::protocol::Reply;
use crate::server::client::Client;

/// The authentication family.
pub static COMMANDS: &[Command] = &[cmd(
    "auth",
    -2,
    "noscript loading stale fast no_auth allow_busy",
    (0, 0, 0),
    "connection",
    Conn(auth),
)];

/// Redis's reply to a command from a client that has not authenticated.
pub fn noauth() -> Reply {
    Reply::err("NOAUTH Authentication required.")
}

fn wrongpass() -> Reply {
    Reply::err("WRONGPASS invalid username-password pair or user is disabled.")
}

/// Checks `user` / `password` and marks the client authenticated.
pub fn login(c: &mut Client, user: &[u8], password: &[u8]) -> Result<(), Reply> {
    let name = String::from_utf8_lossy(user);
    let found = c.server.config.runtime.users.get(&name);
    let Some(u) = found.filter(|u| u.enabled && u.password_ok(password)) else {
        log::debug!(
            "client {}: authentication failed for user '{}'",
            c.handle.addr,
            String::from_utf8_lossy(user)
        );
        super::acl::record_auth_failure(c, user);
        return Err(wrongpass());
    };
    c.set_user(u);
    c.authenticated = true;
    Ok(())
}

fn auth(c: &mut Client, a: &[Vec<u8>]) -> Reply {
    let result = match a.len() {
        2 if c.server.config.runtime.users.default_user().nopass => {
            return Reply::err("ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?");
        }
        2 => login(c, b"default", &a[1]),
        3 => login(c, &a[1], &a[2]),
        _ => return syntax_error(),
    };
    match result {
        Ok(()) => Reply::ok(),
        Err(e) => e,
    }
}
