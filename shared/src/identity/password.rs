//! Passwords: how a player's password is stored and checked, and which passwords we accept.
//!
//! Only an Argon2id hash is ever stored, as a PHC string (`$argon2id$v=19$m=…,t=…,p=…$salt$hash`)
//! that carries its own parameters and salt, so the cost can be raised later without breaking the
//! hashes already stored. The cost is OWASP's recommended minimum for Argon2id (19 MiB of memory,
//! 2 passes, 1 lane), which keeps a sign-in affordable on a small Lambda.
//!
//! Hashing and checking take tens of milliseconds of CPU on purpose; async handlers should call
//! them through `tokio::task::spawn_blocking` rather than on the runtime's worker threads.

use argon2::password_hash::Error as HashingError;
use argon2::{Algorithm, Argon2, Params, PasswordHash, PasswordHasher, PasswordVerifier, Version};

/// Memory per hash in KiB (19 MiB), OWASP's first recommended Argon2id configuration.
const MEMORY_KIB: u32 = 19_456;
/// Passes over that memory.
const PASSES: u32 = 2;
/// Lanes: one, since a Lambda hashing one password gains nothing from more.
const LANES: u32 = 1;

/// Shortest password accepted, in characters.
pub const MIN_PASSWORD_CHARS: usize = 8;
/// Longest password accepted, in characters: generous for passphrases, and a bound on the work a
/// sign-up request can ask for.
pub const MAX_PASSWORD_CHARS: usize = 128;

#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    /// The operating system could not supply random bytes for a salt.
    #[error("no randomness available for a password salt")]
    NoRandomness,
    /// Argon2 refused our parameters or failed while hashing.
    #[error("password hashing failed: {0}")]
    Hashing(String),
}

/// Hashes `password` with Argon2id and a fresh random 16-byte salt from the operating system, and
/// returns the PHC string to store.
pub fn hash_password(password: &str) -> Result<String, PasswordError> {
    let params =
        Params::new(MEMORY_KIB, PASSES, LANES, None).map_err(|error| PasswordError::Hashing(error.to_string()))?;
    let hasher = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
    // The crate draws the salt itself (16 bytes, the PHC format's recommendation) from getrandom.
    match hasher.hash_password(password.as_bytes()) {
        Ok(hash) => Ok(hash.to_string()),
        Err(HashingError::RngFailure) => Err(PasswordError::NoRandomness),
        Err(error) => Err(PasswordError::Hashing(error.to_string())),
    }
}

/// Whether `password` matches the stored PHC string. A wrong password and a stored value that is
/// not a PHC hash both answer `false`: the caller refuses the sign-in either way. The parameters
/// come from the stored hash, so hashes made with older costs keep working; the crate compares the
/// outputs in constant time.
#[must_use]
pub fn verify_password(password: &str, phc: &str) -> bool {
    let Ok(stored) = PasswordHash::new(phc) else {
        return false;
    };
    Argon2::default().verify_password(password.as_bytes(), &stored).is_ok()
}

/// The common passwords refused whatever their case (see the file's own header).
const COMMON_PASSWORDS: &str = include_str!("common-passwords.txt");

/// Checks a new password against our rules: 8 to 128 characters (counted as the player sees them, so a password
/// in Cyrillic or with emoji is measured fairly), not one of the most common passwords, not one character
/// repeated, and not the account's own e-mail address or the part before its `@`.
pub fn check_password_policy(password: &str, email: Option<&str>) -> Result<(), &'static str> {
    let length = password.chars().count();
    if !(MIN_PASSWORD_CHARS..=MAX_PASSWORD_CHARS).contains(&length) {
        return Err("must be 8 to 128 characters");
    }
    let lower = password.to_lowercase();
    if COMMON_PASSWORDS.lines().filter(|l| !l.starts_with('#')).any(|common| common == lower) {
        return Err("is one of the most common passwords; choose another");
    }
    let mut chars = lower.chars();
    let first = chars.next();
    if chars.all(|c| Some(c) == first) {
        return Err("is one character repeated; choose another");
    }
    if let Some(email) = email.map(str::to_lowercase) {
        let local = email.split('@').next().unwrap_or_default();
        if lower == email || lower == local {
            return Err("must not be your e-mail address; choose another");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashed_password_verifies() {
        let phc = hash_password("correct horse battery staple").expect("hashing works");
        assert!(verify_password("correct horse battery staple", &phc));
    }

    #[test]
    fn wrong_password_does_not_verify() {
        let phc = hash_password("correct horse battery staple").expect("hashing works");
        assert!(!verify_password("correct horse battery stapler", &phc));
        assert!(!verify_password("", &phc));
    }

    #[test]
    fn each_hash_gets_its_own_salt() {
        let first = hash_password("same password").expect("hashing works");
        let second = hash_password("same password").expect("hashing works");
        assert_ne!(first, second);
        assert!(verify_password("same password", &first));
        assert!(verify_password("same password", &second));
    }

    #[test]
    fn hash_is_argon2id_with_owasp_parameters_and_16_byte_salt() {
        let phc = hash_password("a password").expect("hashing works");
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "unexpected PHC string {phc}");
        // $argon2id$v=19$params$salt$hash: 16 salt bytes are 22 unpadded base64 characters.
        let salt = phc.split('$').nth(4).expect("a salt segment");
        assert_eq!(salt.len(), 22);
    }

    #[test]
    fn unparsable_stored_hash_does_not_verify() {
        for garbage in ["", "not a hash", "$argon2id$v=19$m=19456,t=2,p=1$", "$2b$12$abcdefghijkl"] {
            assert!(!verify_password("a password", garbage));
        }
    }

    #[test]
    fn policy_rejects_seven_characters() {
        assert_eq!(check_password_policy("1234567", None), Err("must be 8 to 128 characters"));
    }

    #[test]
    fn policy_accepts_eight_characters_that_are_not_common() {
        assert_eq!(check_password_policy("tr4m-lid", None), Ok(()));
    }

    #[test]
    fn policy_refuses_common_passwords_whatever_their_case() {
        for common in ["12345678", "password", "PassWord1", "qwertyuiop", "1q2w3e4r", "iloveyou"] {
            assert_eq!(
                check_password_policy(common, None),
                Err("is one of the most common passwords; choose another"),
                "{common}"
            );
        }
    }

    #[test]
    fn the_common_list_is_lower_case_and_every_entry_is_long_enough_to_matter() {
        for line in COMMON_PASSWORDS.lines().filter(|l| !l.starts_with('#')) {
            assert_eq!(line, line.to_lowercase(), "{line}");
            assert!(line.chars().count() >= MIN_PASSWORD_CHARS, "{line} is refused by length already");
        }
    }

    #[test]
    fn policy_refuses_one_repeated_character_and_the_accounts_own_address() {
        assert_eq!(check_password_policy("zzzzzzzzzz", None), Err("is one character repeated; choose another"));
        assert_eq!(
            check_password_policy("ada.lovelace", Some("Ada.Lovelace@example.com")),
            Err("must not be your e-mail address; choose another")
        );
        assert_eq!(
            check_password_policy("ada.lovelace@example.com", Some("ada.lovelace@example.com")),
            Err("must not be your e-mail address; choose another")
        );
        assert_eq!(check_password_policy("ada.lovelace", None), Ok(()));
    }

    #[test]
    fn policy_accepts_128_characters() {
        assert_eq!(check_password_policy(&"xy".repeat(64), None), Ok(()));
    }

    #[test]
    fn policy_rejects_129_characters() {
        assert_eq!(check_password_policy(&"xy".repeat(65)[..129], None), Err("must be 8 to 128 characters"));
    }

    #[test]
    fn policy_counts_characters_not_bytes() {
        // Eight Cyrillic letters are sixteen bytes; seven emoji are twenty-eight.
        assert_eq!(check_password_policy("ёжикёжик", None), Ok(()));
        assert_eq!(check_password_policy("🦔🦀🦔🦀🦔🦀🦔", None), Err("must be 8 to 128 characters"));
        // 128 two-byte letters are 256 bytes but still 128 characters.
        assert_eq!(check_password_policy(&"ёж".repeat(64), None), Ok(()));
        assert_eq!(check_password_policy(&"ёж".repeat(65), None), Err("must be 8 to 128 characters"));
    }
}
