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
    let params = Params::new(MEMORY_KIB, PASSES, LANES, None)
        .map_err(|error| PasswordError::Hashing(error.to_string()))?;
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
    Argon2::default()
        .verify_password(password.as_bytes(), &stored)
        .is_ok()
}

/// Checks a new password against our rules, counting characters rather than bytes so that a
/// password in Cyrillic or with emoji is measured as the player sees it.
pub fn check_password_policy(password: &str) -> Result<(), &'static str> {
    let length = password.chars().count();
    if (MIN_PASSWORD_CHARS..=MAX_PASSWORD_CHARS).contains(&length) {
        Ok(())
    } else {
        Err("must be 8 to 128 characters")
    }
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
        assert!(
            phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "unexpected PHC string {phc}"
        );
        // $argon2id$v=19$params$salt$hash: 16 salt bytes are 22 unpadded base64 characters.
        let salt = phc.split('$').nth(4).expect("a salt segment");
        assert_eq!(salt.len(), 22);
    }

    #[test]
    fn unparsable_stored_hash_does_not_verify() {
        for garbage in [
            "",
            "not a hash",
            "$argon2id$v=19$m=19456,t=2,p=1$",
            "$2b$12$abcdefghijkl",
        ] {
            assert!(!verify_password("a password", garbage));
        }
    }

    #[test]
    fn policy_rejects_seven_characters() {
        assert_eq!(
            check_password_policy("1234567"),
            Err("must be 8 to 128 characters")
        );
    }

    #[test]
    fn policy_accepts_eight_characters() {
        assert_eq!(check_password_policy("12345678"), Ok(()));
    }

    #[test]
    fn policy_accepts_128_characters() {
        assert_eq!(check_password_policy(&"x".repeat(128)), Ok(()));
    }

    #[test]
    fn policy_rejects_129_characters() {
        assert!(check_password_policy(&"x".repeat(129)).is_err());
    }

    #[test]
    fn policy_counts_characters_not_bytes() {
        // Eight Cyrillic letters are sixteen bytes; seven emoji are twenty-eight.
        assert_eq!(check_password_policy("ёжикёжик"), Ok(()));
        assert!(check_password_policy("🦔🦔🦔🦔🦔🦔🦔").is_err());
        // 128 two-byte letters are 256 bytes but still 128 characters.
        assert_eq!(check_password_policy(&"ё".repeat(128)), Ok(()));
        assert!(check_password_policy(&"ё".repeat(129)).is_err());
    }
}
