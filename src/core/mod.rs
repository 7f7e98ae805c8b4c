//! The rules of Vestibule, free of HTTP and UI: accounts, passwords, passkeys, MFA, recovery, sessions,
//! consent, OAuth. Time and randomness are parameters. Flows arrive here with their issues; the skeleton
//! has none yet.
