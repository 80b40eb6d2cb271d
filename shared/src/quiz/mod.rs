//! The quiz itself (DOMAIN §2–§3): the catalogue, importing question banks, answering, statistics and the
//! leaderboard. Route handlers live next to the rules they expose; none of this knows it runs on Lambda.

pub mod admin;
pub mod answers;
pub mod catalogue;
pub mod import;
pub mod leaderboard;
pub mod stats;

use serde::{Deserialize, Serialize};

/// How hard a task is; it decides how much a solved task adds to the rating.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Difficulty {
    Easy,
    Medium,
    Hard,
}

impl Difficulty {
    pub const ALL: [Difficulty; 3] = [Difficulty::Easy, Difficulty::Medium, Difficulty::Hard];

    pub fn as_str(self) -> &'static str {
        match self {
            Difficulty::Easy => "easy",
            Difficulty::Medium => "medium",
            Difficulty::Hard => "hard",
        }
    }

    /// Rating points of a solved task: easy 10, medium 25, hard 50.
    pub fn weight(self) -> i32 {
        match self {
            Difficulty::Easy => 10,
            Difficulty::Medium => 25,
            Difficulty::Hard => 50,
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|d| d.as_str() == s)
    }
}

/// A content and interface language: two lowercase ASCII letters (ISO 639-1), e.g. `en`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Language(String);

impl Language {
    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim().to_ascii_lowercase();
        (s.len() == 2 && s.bytes().all(|b| b.is_ascii_lowercase())).then_some(Self(s))
    }

    pub fn english() -> Self {
        Self("en".into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Language {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        Self::parse(&s).ok_or_else(|| format!("'{s}' is not a two-letter language code"))
    }
}

impl From<Language> for String {
    fn from(l: Language) -> String {
        l.0
    }
}

impl std::fmt::Display for Language {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The localized "I don't know" option. It is never stored with a task's options and always counts as wrong.
pub fn dont_know_label(language: &Language) -> &'static str {
    match language.as_str() {
        "ru" => "Я не знаю",
        "es" => "No lo sé",
        "tr" => "Bilmiyorum",
        "ar" => "لا أعرف",
        "fr" => "Je ne sais pas",
        "de" => "Ich weiß es nicht",
        "uk" => "Я не знаю",
        "pt" => "Não sei",
        "it" => "Non lo so",
        _ => "I don't know",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_follow_the_rating_rule() {
        assert_eq!([Difficulty::Easy, Difficulty::Medium, Difficulty::Hard].map(Difficulty::weight), [10, 25, 50]);
    }

    #[test]
    fn languages_are_two_lowercase_letters() {
        assert_eq!(Language::parse("EN").unwrap().as_str(), "en");
        assert!(Language::parse("eng").is_none());
        assert!(Language::parse("e1").is_none());
        assert!(Language::parse("").is_none());
    }

    #[test]
    fn dont_know_is_localized_for_the_required_languages() {
        for code in ["en", "ru", "es", "tr", "ar", "fr", "de"] {
            let label = dont_know_label(&Language::parse(code).unwrap());
            assert!(!label.is_empty());
            if code != "en" {
                assert_ne!(label, "I don't know", "{code}");
            }
        }
    }
}
