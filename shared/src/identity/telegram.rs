//! Telegram sign-in: proving that a player's Telegram id and name really came from Telegram.
//!
//! Players sign in through Telegram two ways: inside the Mini App, whose client hands us
//! `Telegram.WebApp.initData`, and on the website through the Login Widget, which hands the page a
//! set of fields. Telegram signs both with a key derived from our bot token. The checks here follow
//! Telegram's documented algorithms to the letter (core.telegram.org/bots/webapps, "Validating data
//! received via the Mini App", and core.telegram.org/widgets/login, "Checking authorization"), and
//! nothing a request claims is believed until its signature has matched.

use std::collections::BTreeMap;
use std::collections::btree_map::Entry;
use std::time::Duration;

use chrono::{DateTime, Utc};
use hmac::digest::Key;
use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

type HmacSha256 = Hmac<Sha256>;

/// The constant Telegram uses as the HMAC key when deriving a Mini App secret from the bot token.
const MINI_APP_KEY_LABEL: &[u8; 10] = b"WebAppData";

/// How far ahead of our clock a sign-in may claim to be: phones and servers drift, but data signed
/// minutes in the future was not signed by a Telegram server with a sane clock.
const ALLOWED_CLOCK_SKEW_SECS: i64 = 60;

/// A Telegram account as Telegram vouches for it. Optional fields are left out of the JSON when
/// absent, as Telegram does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TelegramUser {
    pub id: i64,
    pub first_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub photo_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language_code: Option<String>,
}

/// Why a Telegram sign-in was refused. `Expired` and `FromTheFuture` are only ever returned for data
/// Telegram really signed; the other variants may come from anyone.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TelegramAuthError {
    #[error("Telegram sign-in data has no `{0}` field")]
    Missing(&'static str),
    #[error("Telegram sign-in data is malformed: {0}")]
    Malformed(String),
    #[error("Telegram sign-in data is not signed by our bot")]
    BadSignature,
    #[error("Telegram sign-in data is too old; sign in again")]
    Expired,
    #[error("Telegram sign-in data is dated in the future")]
    FromTheFuture,
}

/// Checks a Mini App's `Telegram.WebApp.initData` (a URL-encoded query string) and returns the
/// player it names.
///
/// The hash is checked first, then `auth_date` against `max_age`, then the `user` field is read.
/// An empty bot token never verifies anything: with it, anyone could compute the key.
pub fn verify_init_data(
    init_data: &str,
    bot_token: &str,
    max_age: Duration,
    now: DateTime<Utc>,
) -> Result<TelegramUser, TelegramAuthError> {
    let mut fields = BTreeMap::new();
    for (key, value) in form_urlencoded::parse(init_data.as_bytes()) {
        // Two values for one key would leave it to chance which one we trust and which one
        // Telegram signed, so such data is refused outright.
        match fields.entry(key.into_owned()) {
            Entry::Occupied(taken) => {
                return Err(TelegramAuthError::Malformed(format!("field `{}` appears more than once", taken.key())));
            }
            Entry::Vacant(free) => {
                free.insert(value.into_owned());
            }
        }
    }

    // Every field but `hash` is signed, `signature` (Telegram's newer Ed25519 field) included.
    let claimed_hash = fields.remove("hash").ok_or(TelegramAuthError::Missing("hash"))?;
    check_signature(bot_token, &mini_app_secret_key(bot_token), &fields, &claimed_hash)?;

    check_auth_date(fields.get("auth_date").map(String::as_str), max_age, now)?;

    let user = fields.get("user").ok_or(TelegramAuthError::Missing("user"))?;
    serde_json::from_str(user)
        .map_err(|error| TelegramAuthError::Malformed(format!("`user` is not a Telegram user: {error}")))
}

/// Checks the fields the Login Widget hands the page (id, first_name, last_name, username,
/// photo_url, auth_date, hash), as the JSON object the client posts, and returns the player.
///
/// Numbers and strings are both accepted and signed as their text, so an id posted as `42` or
/// `"42"` checks the same. A `null` field is skipped: it is how a client writes an optional field
/// the widget did not send, and Telegram signed only what it sent. Any field the client adds beyond
/// what the widget handed it breaks the signature, as Telegram's rule covers every field.
pub fn verify_login_widget(
    fields: &Map<String, Value>,
    bot_token: &str,
    max_age: Duration,
    now: DateTime<Utc>,
) -> Result<TelegramUser, TelegramAuthError> {
    let mut signed = BTreeMap::new();
    for (key, value) in fields {
        if let Some(text) = widget_field_text(key, value)? {
            signed.insert(key.clone(), text);
        }
    }

    let claimed_hash = signed.remove("hash").ok_or(TelegramAuthError::Missing("hash"))?;
    check_signature(bot_token, &login_widget_secret_key(bot_token), &signed, &claimed_hash)?;

    check_auth_date(signed.get("auth_date").map(String::as_str), max_age, now)?;

    let id = signed.get("id").ok_or(TelegramAuthError::Missing("id"))?;
    let id = id
        .parse::<i64>()
        .map_err(|_| TelegramAuthError::Malformed(format!("`id` is not a Telegram user id: {id:?}")))?;
    let first_name = signed.get("first_name").ok_or(TelegramAuthError::Missing("first_name"))?;
    Ok(TelegramUser {
        id,
        first_name: first_name.clone(),
        last_name: signed.get("last_name").cloned(),
        username: signed.get("username").cloned(),
        photo_url: signed.get("photo_url").cloned(),
        // The widget never sends a language, but if Telegram ever signs one we may as well keep it.
        language_code: signed.get("language_code").cloned(),
    })
}

/// For developers and tests: a valid initData string for `user`, signed with `bot_token` as of
/// `auth_date`, with the `query_id`, `user`, `auth_date` and `hash` fields a real Mini App gets.
pub fn sign_init_data(user: &TelegramUser, auth_date: DateTime<Utc>, bot_token: &str) -> String {
    // Telegram's query ids are opaque; a deterministic one keeps signed test data reproducible.
    let query_id = format!("dev-{}-{}", user.id, auth_date.timestamp());
    let user_json = Value::Object(user_fields(user)).to_string();
    let auth_date = auth_date.timestamp().to_string();
    signed_init_data(&[("query_id", &query_id), ("user", &user_json), ("auth_date", &auth_date)], bot_token)
}

/// For developers and tests: the fields the Login Widget would hand the page for `user`, signed
/// with `bot_token` as of `auth_date`. `language_code` is left out, as the widget never sends it.
pub fn sign_login_widget(user: &TelegramUser, auth_date: DateTime<Utc>, bot_token: &str) -> Map<String, Value> {
    let mut fields = user_fields(user);
    fields.remove("language_code");
    fields.insert("auth_date".into(), Value::from(auth_date.timestamp()));

    // Signed through the same text conversion the check uses, so the two cannot disagree.
    let signed: BTreeMap<String, String> = fields
        .iter()
        .filter_map(|(key, value)| widget_field_text(key, value).ok().flatten().map(|text| (key.clone(), text)))
        .collect();
    let hash = hex::encode(expected_hash(&login_widget_secret_key(bot_token), &signed));
    fields.insert("hash".into(), Value::from(hash));
    fields
}

/// Signs `pairs` as a Mini App's initData and writes them URL-encoded in the given order, `hash`
/// last, as Telegram does.
fn signed_init_data(pairs: &[(&str, &str)], bot_token: &str) -> String {
    let fields: BTreeMap<String, String> =
        pairs.iter().map(|(key, value)| ((*key).to_owned(), (*value).to_owned())).collect();
    let hash = hex::encode(expected_hash(&mini_app_secret_key(bot_token), &fields));
    pairs
        .iter()
        .copied()
        .chain(std::iter::once(("hash", hash.as_str())))
        .map(|(key, value)| format!("{key}={}", url_encode(value)))
        .collect::<Vec<_>>()
        .join("&")
}

/// Mini App: secret key = HMAC-SHA256(key = "WebAppData", message = bot token).
fn mini_app_secret_key(bot_token: &str) -> [u8; 32] {
    hmac_sha256(MINI_APP_KEY_LABEL, bot_token.as_bytes())
}

/// Login Widget: secret key = SHA-256(bot token).
fn login_widget_secret_key(bot_token: &str) -> [u8; 32] {
    Sha256::digest(bot_token.as_bytes()).into()
}

/// The bytes behind Telegram's hex `hash`: HMAC-SHA256(key = secret key, message = data-check
/// string), where the data-check string is every signed field as `key=value`, sorted by key (the
/// map's own order), joined by "\n".
fn expected_hash(secret_key: &[u8; 32], fields: &BTreeMap<String, String>) -> [u8; 32] {
    let data_check_string = fields.iter().map(|(key, value)| format!("{key}={value}")).collect::<Vec<_>>().join("\n");
    hmac_sha256(secret_key, data_check_string.as_bytes())
}

/// The one place a claimed hash is accepted or refused.
fn check_signature(
    bot_token: &str,
    secret_key: &[u8; 32],
    fields: &BTreeMap<String, String>,
    claimed_hash: &str,
) -> Result<(), TelegramAuthError> {
    let mut claimed = [0u8; 32];
    if hex::decode_to_slice(claimed_hash, &mut claimed).is_err() {
        return Err(TelegramAuthError::Malformed("`hash` is not 64 hexadecimal characters".into()));
    }
    // A missing bot token in configuration must not turn into a key that anyone can compute.
    if bot_token.trim().is_empty() {
        return Err(TelegramAuthError::BadSignature);
    }
    // Constant time, so the time a refusal takes does not tell a forger how many bytes were right.
    if bool::from(expected_hash(secret_key, fields).ct_eq(&claimed)) {
        Ok(())
    } else {
        Err(TelegramAuthError::BadSignature)
    }
}

/// Refuses sign-ins older than `max_age` or dated more than the allowed clock skew ahead of `now`.
/// Called only after the signature matched, so `auth_date` is Telegram's own.
fn check_auth_date(auth_date: Option<&str>, max_age: Duration, now: DateTime<Utc>) -> Result<(), TelegramAuthError> {
    let auth_date = auth_date.ok_or(TelegramAuthError::Missing("auth_date"))?;
    let auth_date = auth_date
        .parse::<i64>()
        .map_err(|_| TelegramAuthError::Malformed(format!("`auth_date` is not a Unix time: {auth_date:?}")))?;
    let age_secs = now.timestamp().saturating_sub(auth_date);
    if age_secs < -ALLOWED_CLOCK_SKEW_SECS {
        return Err(TelegramAuthError::FromTheFuture);
    }
    // A max_age beyond i64 seconds is as good as "never expires".
    let max_age_secs = i64::try_from(max_age.as_secs()).unwrap_or(i64::MAX);
    if age_secs > max_age_secs {
        return Err(TelegramAuthError::Expired);
    }
    Ok(())
}

/// The text Telegram signed for one widget field, or `None` for a `null` field, which is skipped.
fn widget_field_text(key: &str, value: &Value) -> Result<Option<String>, TelegramAuthError> {
    match value {
        Value::Null => Ok(None),
        Value::String(text) => Ok(Some(text.clone())),
        // serde_json writes an integer exactly as Telegram sent it: 42 → "42".
        Value::Number(number) => Ok(Some(number.to_string())),
        Value::Bool(_) | Value::Array(_) | Value::Object(_) => {
            Err(TelegramAuthError::Malformed(format!("`{key}` must be a string or a number")))
        }
    }
}

/// A user as Telegram writes one: absent optional fields are left out rather than written as null.
fn user_fields(user: &TelegramUser) -> Map<String, Value> {
    let mut fields = Map::new();
    fields.insert("id".into(), Value::from(user.id));
    fields.insert("first_name".into(), Value::from(user.first_name.as_str()));
    let optional = [
        ("last_name", &user.last_name),
        ("username", &user.username),
        ("photo_url", &user.photo_url),
        ("language_code", &user.language_code),
    ];
    for (key, value) in optional {
        if let Some(value) = value {
            fields.insert(key.into(), Value::from(value.as_str()));
        }
    }
    fields
}

/// Percent-encodes a query-string value the way Telegram does. `form_urlencoded` writes a space as
/// `+`, which validators built on `decodeURIComponent` would read as a literal plus; Telegram writes
/// `%20`. A literal `+` comes out as `%2B`, so every `+` left in the output is a space.
fn url_encode(value: &str) -> String {
    form_urlencoded::byte_serialize(value.as_bytes()).collect::<String>().replace('+', "%20")
}

/// HMAC-SHA256 for keys of at most one SHA-256 block (64 bytes), which both of Telegram's keys are
/// (the 10-byte "WebAppData" and 32-byte secrets). RFC 2104 pads a shorter key with zeros, so laying
/// it into a zeroed block is the same HMAC, through a constructor that cannot fail; the slice
/// constructor's "invalid length" error can never happen for HMAC but would still need handling.
fn hmac_sha256<const KEY_LEN: usize>(key: &[u8; KEY_LEN], message: &[u8]) -> [u8; 32] {
    // A longer key would be silently cut short below, so it is refused when compiling instead.
    const { assert!(KEY_LEN <= 64) };
    let mut block = Key::<HmacSha256>::default();
    for (slot, byte) in block.iter_mut().zip(key) {
        *slot = *byte;
    }
    let mut mac = <HmacSha256 as KeyInit>::new(&block);
    mac.update(message);
    mac.finalize().into_bytes().into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    const BOT_TOKEN: &str = "123456789:AAFakeTokenUsedOnlyByTheseTests";
    const DAY: Duration = Duration::from_secs(24 * 60 * 60);

    fn at(unix_secs: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(unix_secs, 0).single().expect("a valid test time")
    }

    fn signed_at() -> DateTime<Utc> {
        at(1_700_000_000)
    }

    fn player() -> TelegramUser {
        TelegramUser {
            id: 279_058_397,
            first_name: "Vladislav".into(),
            last_name: Some("Kibenko".into()),
            username: Some("vdkfrost".into()),
            photo_url: Some("https://t.me/i/userpic/320/vdkfrost.jpg".into()),
            language_code: Some("ru".into()),
        }
    }

    fn widget_player() -> TelegramUser {
        TelegramUser { language_code: None, ..player() }
    }

    /// Replaces one field's raw (still URL-encoded) value in an initData string.
    fn replace_init_data_field(init_data: &str, key: &str, raw_value: &str) -> String {
        init_data
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((name, _)) if name == key => format!("{name}={raw_value}"),
                _ => pair.to_owned(),
            })
            .collect::<Vec<_>>()
            .join("&")
    }

    fn independent_hmac(key: &[u8], message: &[u8]) -> Vec<u8> {
        let mut mac = HmacSha256::new_from_slice(key).expect("HMAC takes any key length");
        mac.update(message);
        mac.finalize().into_bytes().to_vec()
    }

    #[test]
    fn mini_app_sign_in_round_trips() {
        let init_data = sign_init_data(&player(), signed_at(), BOT_TOKEN);
        assert_eq!(verify_init_data(&init_data, BOT_TOKEN, DAY, signed_at()), Ok(player()));
    }

    #[test]
    fn login_widget_sign_in_round_trips() {
        let fields = sign_login_widget(&widget_player(), signed_at(), BOT_TOKEN);
        assert_eq!(verify_login_widget(&fields, BOT_TOKEN, DAY, signed_at()), Ok(widget_player()));
    }

    #[test]
    fn mini_app_hash_follows_telegrams_documented_algorithm() {
        // Built by hand from Telegram's documentation, not with this module's helpers.
        let user_json = r#"{"id":279058397,"first_name":"Vladislav","last_name":"Kibenko","username":"vdkfrost","language_code":"ru","is_premium":true}"#;
        let data_check_string = format!("auth_date=1700000000\nquery_id=AAHdF6IQAAAAAN0XohDhrOrc\nuser={user_json}");
        let secret_key = independent_hmac(b"WebAppData", BOT_TOKEN.as_bytes());
        let hash = hex::encode(independent_hmac(&secret_key, data_check_string.as_bytes()));
        // The same computation done with Python's standard hmac and hashlib modules.
        assert_eq!(hash, "5d9c1f5368dfd8448e5581563821049f29ae031acb0ec31603e199eeaabe3c16");

        let init_data = format!(
            "query_id=AAHdF6IQAAAAAN0XohDhrOrc&user=%7B%22id%22%3A279058397%2C%22first_name%22%3A%22Vladislav%22%2C%22last_name%22%3A%22Kibenko%22%2C%22username%22%3A%22vdkfrost%22%2C%22language_code%22%3A%22ru%22%2C%22is_premium%22%3Atrue%7D&auth_date=1700000000&hash={hash}"
        );
        let expected = TelegramUser { photo_url: None, ..player() };
        assert_eq!(verify_init_data(&init_data, BOT_TOKEN, DAY, signed_at()), Ok(expected));
    }

    #[test]
    fn login_widget_hash_follows_telegrams_documented_algorithm() {
        let data_check_string = "auth_date=1700000000\nfirst_name=Vladislav\nid=279058397\nphoto_url=https://t.me/i/userpic/320/vdkfrost.jpg\nusername=vdkfrost";
        let secret_key = Sha256::digest(BOT_TOKEN.as_bytes());
        let hash = hex::encode(independent_hmac(&secret_key, data_check_string.as_bytes()));
        // The same computation done with Python's standard hmac and hashlib modules.
        assert_eq!(hash, "b231128cd77efb975465aa36dc4c5bd964628b4240c0378b5c403825af0e32ef");

        let fields = serde_json::json!({
            "id": 279058397,
            "first_name": "Vladislav",
            "username": "vdkfrost",
            "photo_url": "https://t.me/i/userpic/320/vdkfrost.jpg",
            "auth_date": 1700000000,
            "hash": hash,
        });
        let Value::Object(fields) = fields else {
            panic!("json! of an object is an object");
        };
        let expected = TelegramUser { last_name: None, ..widget_player() };
        assert_eq!(verify_login_widget(&fields, BOT_TOKEN, DAY, signed_at()), Ok(expected));
    }

    #[test]
    fn altered_mini_app_field_is_refused() {
        let init_data = sign_init_data(&player(), signed_at(), BOT_TOKEN);
        let forged = replace_init_data_field(&init_data, "auth_date", "1700000001");
        assert_eq!(verify_init_data(&forged, BOT_TOKEN, DAY, signed_at()), Err(TelegramAuthError::BadSignature));
    }

    #[test]
    fn altered_login_widget_field_is_refused() {
        let mut fields = sign_login_widget(&widget_player(), signed_at(), BOT_TOKEN);
        fields.insert("id".into(), Value::from(1));
        assert_eq!(verify_login_widget(&fields, BOT_TOKEN, DAY, signed_at()), Err(TelegramAuthError::BadSignature));
    }

    #[test]
    fn field_added_to_login_widget_is_refused() {
        let mut fields = sign_login_widget(&widget_player(), signed_at(), BOT_TOKEN);
        fields.insert("language_code".into(), Value::from("en"));
        assert_eq!(verify_login_widget(&fields, BOT_TOKEN, DAY, signed_at()), Err(TelegramAuthError::BadSignature));
    }

    #[test]
    fn altered_mini_app_hash_is_refused() {
        let init_data = sign_init_data(&player(), signed_at(), BOT_TOKEN);
        let forged = replace_init_data_field(&init_data, "hash", &"0".repeat(64));
        assert_eq!(verify_init_data(&forged, BOT_TOKEN, DAY, signed_at()), Err(TelegramAuthError::BadSignature));
    }

    #[test]
    fn altered_login_widget_hash_is_refused() {
        let mut fields = sign_login_widget(&widget_player(), signed_at(), BOT_TOKEN);
        fields.insert("hash".into(), Value::from("f".repeat(64)));
        assert_eq!(verify_login_widget(&fields, BOT_TOKEN, DAY, signed_at()), Err(TelegramAuthError::BadSignature));
    }

    #[test]
    fn data_signed_by_another_bot_is_refused() {
        let other_bot = "987654321:AAAnotherBotsTokenEntirely";
        let init_data = sign_init_data(&player(), signed_at(), other_bot);
        assert_eq!(verify_init_data(&init_data, BOT_TOKEN, DAY, signed_at()), Err(TelegramAuthError::BadSignature));
        let fields = sign_login_widget(&widget_player(), signed_at(), other_bot);
        assert_eq!(verify_login_widget(&fields, BOT_TOKEN, DAY, signed_at()), Err(TelegramAuthError::BadSignature));
    }

    #[test]
    fn empty_bot_token_verifies_nothing() {
        for token in ["", "  "] {
            let init_data = sign_init_data(&player(), signed_at(), token);
            assert_eq!(verify_init_data(&init_data, token, DAY, signed_at()), Err(TelegramAuthError::BadSignature));
            let fields = sign_login_widget(&widget_player(), signed_at(), token);
            assert_eq!(verify_login_widget(&fields, token, DAY, signed_at()), Err(TelegramAuthError::BadSignature));
        }
    }

    #[test]
    fn stale_sign_in_is_expired() {
        let init_data = sign_init_data(&player(), signed_at(), BOT_TOKEN);
        let fields = sign_login_widget(&widget_player(), signed_at(), BOT_TOKEN);
        let just_too_late = signed_at() + chrono::Duration::seconds(24 * 60 * 60 + 1);
        assert_eq!(verify_init_data(&init_data, BOT_TOKEN, DAY, just_too_late), Err(TelegramAuthError::Expired));
        assert_eq!(verify_login_widget(&fields, BOT_TOKEN, DAY, just_too_late), Err(TelegramAuthError::Expired));
    }

    #[test]
    fn sign_in_exactly_max_age_old_is_accepted() {
        let init_data = sign_init_data(&player(), signed_at(), BOT_TOKEN);
        let last_moment = signed_at() + chrono::Duration::seconds(24 * 60 * 60);
        assert_eq!(verify_init_data(&init_data, BOT_TOKEN, DAY, last_moment), Ok(player()));
    }

    #[test]
    fn sign_in_dated_beyond_clock_skew_is_from_the_future() {
        let init_data = sign_init_data(&player(), signed_at(), BOT_TOKEN);
        let fields = sign_login_widget(&widget_player(), signed_at(), BOT_TOKEN);
        let our_clock = signed_at() - chrono::Duration::seconds(61);
        assert_eq!(verify_init_data(&init_data, BOT_TOKEN, DAY, our_clock), Err(TelegramAuthError::FromTheFuture));
        assert_eq!(verify_login_widget(&fields, BOT_TOKEN, DAY, our_clock), Err(TelegramAuthError::FromTheFuture));
    }

    #[test]
    fn sign_in_within_clock_skew_is_accepted() {
        let init_data = sign_init_data(&player(), signed_at(), BOT_TOKEN);
        let our_clock = signed_at() - chrono::Duration::seconds(60);
        assert_eq!(verify_init_data(&init_data, BOT_TOKEN, DAY, our_clock), Ok(player()));
    }

    #[test]
    fn forged_stale_data_learns_only_bad_signature() {
        let init_data = sign_init_data(&player(), signed_at(), "987654321:AAAnotherBot");
        let years_later = signed_at() + chrono::Duration::days(3 * 365);
        assert_eq!(verify_init_data(&init_data, BOT_TOKEN, DAY, years_later), Err(TelegramAuthError::BadSignature));
    }

    #[test]
    fn missing_hash_is_missing() {
        let init_data = sign_init_data(&player(), signed_at(), BOT_TOKEN);
        let without_hash = init_data.split('&').filter(|pair| !pair.starts_with("hash=")).collect::<Vec<_>>().join("&");
        assert_eq!(
            verify_init_data(&without_hash, BOT_TOKEN, DAY, signed_at()),
            Err(TelegramAuthError::Missing("hash"))
        );
        assert_eq!(verify_init_data("", BOT_TOKEN, DAY, signed_at()), Err(TelegramAuthError::Missing("hash")));

        let mut fields = sign_login_widget(&widget_player(), signed_at(), BOT_TOKEN);
        fields.remove("hash");
        assert_eq!(verify_login_widget(&fields, BOT_TOKEN, DAY, signed_at()), Err(TelegramAuthError::Missing("hash")));
    }

    #[test]
    fn signed_init_data_without_user_is_missing_user() {
        let init_data =
            signed_init_data(&[("query_id", "AAHdF6IQAAAAAN0XohDhrOrc"), ("auth_date", "1700000000")], BOT_TOKEN);
        assert_eq!(verify_init_data(&init_data, BOT_TOKEN, DAY, signed_at()), Err(TelegramAuthError::Missing("user")));
    }

    #[test]
    fn signed_init_data_without_auth_date_is_missing_auth_date() {
        let init_data = signed_init_data(&[("user", r#"{"id":1,"first_name":"A"}"#)], BOT_TOKEN);
        assert_eq!(
            verify_init_data(&init_data, BOT_TOKEN, DAY, signed_at()),
            Err(TelegramAuthError::Missing("auth_date"))
        );
    }

    #[test]
    fn signed_login_widget_without_id_is_missing_id() {
        let mut unsigned = sign_login_widget(&widget_player(), signed_at(), BOT_TOKEN);
        unsigned.remove("id");
        unsigned.remove("hash");
        let signed: BTreeMap<String, String> = unsigned
            .iter()
            .filter_map(|(key, value)| value.as_str().map(|text| (key.clone(), text.to_owned())))
            .chain(std::iter::once(("auth_date".to_owned(), "1700000000".to_owned())))
            .collect();
        let hash = hex::encode(expected_hash(&login_widget_secret_key(BOT_TOKEN), &signed));
        unsigned.insert("hash".into(), Value::from(hash));
        assert_eq!(verify_login_widget(&unsigned, BOT_TOKEN, DAY, signed_at()), Err(TelegramAuthError::Missing("id")));
    }

    #[test]
    fn duplicate_init_data_field_is_malformed() {
        let init_data = sign_init_data(&player(), signed_at(), BOT_TOKEN);
        let doubled = format!("{init_data}&auth_date=1700000000");
        assert!(matches!(
            verify_init_data(&doubled, BOT_TOKEN, DAY, signed_at()),
            Err(TelegramAuthError::Malformed(message)) if message.contains("auth_date")
        ));
    }

    #[test]
    fn hash_that_is_not_64_hex_characters_is_malformed() {
        let init_data = sign_init_data(&player(), signed_at(), BOT_TOKEN);
        for bad_hash in ["abc".to_owned(), "g".repeat(64), "a".repeat(66)] {
            let forged = replace_init_data_field(&init_data, "hash", &bad_hash);
            assert!(matches!(
                verify_init_data(&forged, BOT_TOKEN, DAY, signed_at()),
                Err(TelegramAuthError::Malformed(_))
            ));
        }
    }

    #[test]
    fn signed_user_that_is_not_json_is_malformed() {
        let init_data = signed_init_data(&[("auth_date", "1700000000"), ("user", "not json")], BOT_TOKEN);
        assert!(matches!(
            verify_init_data(&init_data, BOT_TOKEN, DAY, signed_at()),
            Err(TelegramAuthError::Malformed(message)) if message.contains("user")
        ));
    }

    #[test]
    fn signed_auth_date_that_is_not_a_number_is_malformed() {
        let init_data =
            signed_init_data(&[("auth_date", "yesterday"), ("user", r#"{"id":1,"first_name":"A"}"#)], BOT_TOKEN);
        assert!(matches!(
            verify_init_data(&init_data, BOT_TOKEN, DAY, signed_at()),
            Err(TelegramAuthError::Malformed(message)) if message.contains("auth_date")
        ));
    }

    #[test]
    fn signature_field_is_part_of_the_signed_data() {
        let pairs = [
            ("query_id", "AAHdF6IQAAAAAN0XohDhrOrc"),
            ("user", r#"{"id":7,"first_name":"Ann","allows_write_to_pm":true}"#),
            ("auth_date", "1700000000"),
            ("signature", "SignedByTelegramWithEd25519"),
        ];
        let init_data = signed_init_data(&pairs, BOT_TOKEN);
        let ann = TelegramUser {
            id: 7,
            first_name: "Ann".into(),
            last_name: None,
            username: None,
            photo_url: None,
            language_code: None,
        };
        assert_eq!(verify_init_data(&init_data, BOT_TOKEN, DAY, signed_at()), Ok(ann));

        let without_signature =
            init_data.split('&').filter(|pair| !pair.starts_with("signature=")).collect::<Vec<_>>().join("&");
        assert_eq!(
            verify_init_data(&without_signature, BOT_TOKEN, DAY, signed_at()),
            Err(TelegramAuthError::BadSignature)
        );
    }

    #[test]
    fn awkward_characters_survive_the_round_trip() {
        let awkward = TelegramUser {
            id: 42,
            first_name: "Tom & Jerry = \"best\"\nfriends".into(),
            last_name: Some("Ёжик 🦔 50% + more".into()),
            username: Some("a+b=c&d".into()),
            photo_url: Some("https://t.me/i/userpic/320/x.jpg?size=big&v=2".into()),
            language_code: Some("zh-hans".into()),
        };
        let init_data = sign_init_data(&awkward, signed_at(), BOT_TOKEN);
        assert!(!init_data.contains(' ') && !init_data.contains('+') && !init_data.contains('\n'));
        assert_eq!(verify_init_data(&init_data, BOT_TOKEN, DAY, signed_at()), Ok(awkward.clone()));

        let widget_awkward = TelegramUser { language_code: None, ..awkward };
        let fields = sign_login_widget(&widget_awkward, signed_at(), BOT_TOKEN);
        assert_eq!(verify_login_widget(&fields, BOT_TOKEN, DAY, signed_at()), Ok(widget_awkward));
    }

    #[test]
    fn login_widget_numbers_may_arrive_as_strings() {
        let mut fields = sign_login_widget(&widget_player(), signed_at(), BOT_TOKEN);
        fields.insert("id".into(), Value::from("279058397"));
        fields.insert("auth_date".into(), Value::from("1700000000"));
        assert_eq!(verify_login_widget(&fields, BOT_TOKEN, DAY, signed_at()), Ok(widget_player()));
    }

    #[test]
    fn login_widget_null_fields_are_skipped() {
        let without_last_name = TelegramUser { last_name: None, ..widget_player() };
        let mut fields = sign_login_widget(&without_last_name, signed_at(), BOT_TOKEN);
        fields.insert("last_name".into(), Value::Null);
        assert_eq!(verify_login_widget(&fields, BOT_TOKEN, DAY, signed_at()), Ok(without_last_name));
    }

    #[test]
    fn login_widget_field_of_another_json_shape_is_malformed() {
        let mut fields = sign_login_widget(&widget_player(), signed_at(), BOT_TOKEN);
        fields.insert("username".into(), serde_json::json!(["vdkfrost"]));
        assert!(matches!(
            verify_login_widget(&fields, BOT_TOKEN, DAY, signed_at()),
            Err(TelegramAuthError::Malformed(message)) if message.contains("username")
        ));
    }

    #[test]
    fn mini_app_user_without_optional_fields_serialises_without_them() {
        let bare = TelegramUser {
            id: 1,
            first_name: "A".into(),
            last_name: None,
            username: None,
            photo_url: None,
            language_code: None,
        };
        assert_eq!(serde_json::to_string(&bare).expect("a user serialises"), r#"{"id":1,"first_name":"A"}"#);
    }
}
