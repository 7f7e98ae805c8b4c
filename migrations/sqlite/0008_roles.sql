-- Roles: what an account may do beyond its own account. One row per role held; `admin` is the first
-- (the back-office, and the MFA policy `admins`). Roles are checked in code, so a new one needs no
-- migration. The rows go with the account (erasure deletes it).
CREATE TABLE account_roles (
    account_id  TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    role        TEXT NOT NULL,
    granted_at  INTEGER NOT NULL,
    PRIMARY KEY (account_id, role)
);
CREATE INDEX account_roles_role ON account_roles (role);
