//! The permissions authd checks, by name and bit. Roles (data, in MariaDB)
//! are sets of these names; the code knows only the names, so a role an
//! operator defines can hold any of them and nothing else. The bits carry
//! an account's permissions in a [`super::Profile`], for a caller that
//! only shows or hides (webd); authd decides every privileged operation
//! from MariaDB itself.

/// One permission.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Permission {
    /// Find accounts, see their sign-ins and sessions.
    UsersRead,
    /// Lock and unlock accounts.
    UsersLock,
    /// End other accounts' sessions.
    SessionsRevoke,
    /// Grant and revoke roles.
    RolesGrant,
    /// Read the audit log.
    AuditRead,
    /// Read the behaviour analysis.
    InsightRead,
}

impl Permission {
    pub const ALL: [Permission; 6] = [
        Permission::UsersRead,
        Permission::UsersLock,
        Permission::SessionsRevoke,
        Permission::RolesGrant,
        Permission::AuditRead,
        Permission::InsightRead,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Permission::UsersRead => "users.read",
            Permission::UsersLock => "users.lock",
            Permission::SessionsRevoke => "sessions.revoke",
            Permission::RolesGrant => "roles.grant",
            Permission::AuditRead => "audit.read",
            Permission::InsightRead => "insight.read",
        }
    }

    pub fn bit(self) -> u32 {
        1 << Permission::ALL
            .iter()
            .position(|p| *p == self)
            .unwrap_or(31)
    }

    pub fn from_name(name: &str) -> Option<Permission> {
        Permission::ALL.into_iter().find(|p| p.name() == name)
    }

    /// The bits of these names (unknown names add nothing).
    pub fn bits_of<'a>(names: impl IntoIterator<Item = &'a str>) -> u32 {
        names
            .into_iter()
            .filter_map(Permission::from_name)
            .fold(0, |bits, p| bits | p.bit())
    }

    /// Whether `bits` hold this permission.
    pub fn in_bits(self, bits: u32) -> bool {
        bits & self.bit() != 0
    }
}

/// Why a sign-in was unusual, as bits in `sign_in`'s answer and in the
/// login record: a device this account has not used, a region it has not
/// signed in from, or a distance from its last sign-in that no airliner
/// covers in the time between.
pub mod warnings {
    pub const NEW_DEVICE: u32 = 1;
    pub const NEW_REGION: u32 = 2;
    pub const IMPOSSIBLE_TRAVEL: u32 = 4;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_bits_are_one_to_one() {
        let mut seen = 0;
        for p in Permission::ALL {
            assert_eq!(Permission::from_name(p.name()), Some(p));
            assert_eq!(seen & p.bit(), 0);
            seen |= p.bit();
        }
        assert_eq!(Permission::bits_of(["users.read", "nonsense"]), 1);
    }
}
