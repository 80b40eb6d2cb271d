//! Importing a question bank, the pure half: the earlier system's JSON format in, validated task drafts out.
//!
//! Existing banks must load unchanged, so the reader is lenient where the old files vary (extra fields, `null` for
//! absent, `answers` as a JSON-encoded string, with or without the correct answer) and strict about what would
//! spoil the catalogue. Each task is judged on its own and every problem of it is reported under a field path, so
//! one bad task never spoils the others and an author can fix a file in one pass. Where the earlier importer
//! filled in a value (a missing difficulty is `medium`), so does this one, and the task's report says so under the
//! field's path. No database here: the writer takes the drafts, and [`TaskDraft::group_key`] and
//! [`TranslationDraft::question_digest`] are what make importing the same file twice create nothing.

use std::collections::btree_map::Entry;
use std::collections::{BTreeMap, HashSet};
use std::fmt::Write as _;

use md5::{Digest, Md5};
use serde::Serialize;
use serde_json::{Map, Value};

use super::{Difficulty, Language};

/// The most tasks one import may hold; a bigger bank is split into several files.
pub const MAX_TASKS_PER_IMPORT: usize = 1000;
/// The most translations (languages) one task may have.
pub const MAX_TRANSLATIONS_PER_TASK: usize = 20;

// The limits below match the CHECK constraints of `tasks` and `task_translations` (migration V3), so a draft that
// passes here never fails at the database. Lengths count characters, as PostgreSQL's `length` does, not bytes.
const MAX_NAME_CHARS: usize = 100;
const MAX_GROUP_ID_CHARS: usize = 64;
const MAX_URL_CHARS: usize = 2000;
const MAX_TEXT_CHARS: usize = 10_000;
const MIN_OPTIONS: usize = 2;
const MAX_OPTIONS: usize = 10;
const MAX_OPTION_CHARS: usize = 500;
/// How much of an offending value a reason quotes: enough to find it in the file, never a whole question.
const QUOTE_CHARS: usize = 40;

/// One task of the bank, checked and ready to be written.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskDraft {
    pub topic: String,
    pub subtopic: Option<String>,
    pub difficulty: Difficulty,
    pub translation_group_id: Option<String>,
    pub image_url: Option<String>,
    /// The first non-empty `external_link` among the translations: the format keeps it per translation, the
    /// catalogue per task.
    pub external_link: Option<String>,
    /// At least one, each in a different language, in file order.
    pub translations: Vec<TranslationDraft>,
    /// What was filled in or read leniently, by field path as in [`TaskRejection::reasons`], e.g. `"difficulty"` →
    /// `"missing; imported as medium"`. The task imports all the same; the report passes these on.
    pub warnings: BTreeMap<String, String>,
}

/// One language of a task.
#[derive(Debug, Clone, PartialEq)]
pub struct TranslationDraft {
    pub language: Language,
    /// Markdown, trimmed at its ends only.
    pub question: String,
    /// 2 to 10 distinct options in the order every client will see them.
    pub options: Vec<String>,
    pub correct_index: usize,
    pub explanation: Option<String>,
}

/// The value a missing difficulty takes, as in the earlier importer.
pub const DEFAULT_DIFFICULTY: Difficulty = Difficulty::Medium;

impl TaskDraft {
    /// What identifies a task the bank groups: `tasks.identity_key`, `group:<translation_group_id>`. `None`
    /// without a group id; such a task is identified by its topic and any one of its translations (language and
    /// [`TranslationDraft::question_digest`]), so the order of the translations, or a new one put first, does not
    /// make it another task.
    pub fn group_key(&self) -> Option<String> {
        self.translation_group_id.as_ref().map(|id| format!("group:{id}"))
    }
}

impl TranslationDraft {
    /// Lowercase hex MD5 of the question as stored: with the topic and the language, the key of
    /// `task_question_keys` (migration V11), whose backfill computes the same with PostgreSQL's `md5(question)`.
    /// A digest rather than the text because a question may be longer than an index entry can be.
    pub fn question_digest(&self) -> String {
        md5_hex(&self.question)
    }
}

/// Why one task was not imported: each problem under the path of the field it concerns, e.g.
/// `"translations[0].answers"` → `"must hold 2 to 10 distinct options (got 1, counting the correct answer)"`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TaskRejection {
    /// Position of the task in the file's `tasks` array, from 0.
    pub index: usize,
    pub reasons: BTreeMap<String, String>,
}

/// A problem with the file as a whole; no task of it is imported.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BankError {
    #[error("the file is not valid JSON: {0}")]
    NotJson(String),
    #[error("the file is not a question bank: {0}")]
    NotABank(String),
    #[error("the bank holds no tasks")]
    Empty,
    #[error("the bank holds {count} tasks; at most {max} can be imported at once")]
    TooManyTasks { count: usize, max: usize },
}

/// The whole file: either a top-level problem, or one outcome per task, in file order.
pub fn parse_bank(body: &[u8]) -> Result<Vec<Result<TaskDraft, TaskRejection>>, BankError> {
    // Files saved by some Windows editors start with a UTF-8 byte order mark, which serde_json refuses. It carries
    // no content, so a bank is not turned away for it.
    let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    let root: Value = serde_json::from_slice(body).map_err(|e| BankError::NotJson(e.to_string()))?;
    let tasks = match &root {
        Value::Object(fields) => match fields.get("tasks") {
            Some(Value::Array(tasks)) => tasks,
            Some(other) => {
                return Err(BankError::NotABank(format!("\"tasks\" must be an array, not {}", kind_of(other))));
            }
            None => return Err(BankError::NotABank("the object has no \"tasks\" array".into())),
        },
        other => {
            return Err(BankError::NotABank(format!(
                "expected an object with a \"tasks\" array, not {}",
                kind_of(other)
            )));
        }
    };
    if tasks.is_empty() {
        return Err(BankError::Empty);
    }
    if tasks.len() > MAX_TASKS_PER_IMPORT {
        return Err(BankError::TooManyTasks { count: tasks.len(), max: MAX_TASKS_PER_IMPORT });
    }
    Ok(tasks
        .iter()
        .enumerate()
        .map(|(index, task)| parse_task(task).map_err(|reasons| TaskRejection { index, reasons }))
        .collect())
}

/// Every problem found in one task, keyed by field path. A second problem at the same path is appended, so none
/// is lost.
#[derive(Default)]
struct Problems(BTreeMap<String, String>);

impl Problems {
    fn add(&mut self, path: impl Into<String>, reason: impl Into<String>) {
        let reason = reason.into();
        match self.0.entry(path.into()) {
            Entry::Occupied(mut existing) => {
                let existing = existing.get_mut();
                existing.push_str("; ");
                existing.push_str(&reason);
            }
            Entry::Vacant(slot) => {
                slot.insert(reason);
            }
        }
    }

    /// Records `result`'s problem, if any, and passes its value on.
    fn check<T>(&mut self, path: impl Into<String>, result: Result<T, String>) -> Option<T> {
        result.map_err(|reason| self.add(path, reason)).ok()
    }
}

fn parse_task(task: &Value) -> Result<TaskDraft, BTreeMap<String, String>> {
    let mut problems = Problems::default();
    let Value::Object(fields) = task else {
        problems.add("task", format!("must be a JSON object, not {}", kind_of(task)));
        return Err(problems.0);
    };

    let topic = required_str(fields, "topic", "", &mut problems)
        .and_then(|topic| problems.check("topic", name(topic.trim(), MAX_NAME_CHARS)));
    let subtopic = optional_str(fields, "subtopic", "", &mut problems)
        .and_then(|subtopic| problems.check("subtopic", name(subtopic, MAX_NAME_CHARS)));
    let mut warnings = BTreeMap::new();
    let difficulty = match fields.get("difficulty") {
        // The earlier system's own banks leave it out (or write null or ""), and its importer took them as medium:
        // so does this one, saying so in the task's report rather than silently.
        None | Some(Value::Null) => Some(missing_difficulty(&mut warnings)),
        Some(Value::String(raw)) if raw.trim().is_empty() => Some(missing_difficulty(&mut warnings)),
        Some(Value::String(raw)) => {
            let parsed = Difficulty::parse(&raw.trim().to_ascii_lowercase())
                .ok_or_else(|| format!("must be easy, medium or hard, not {}", quote(raw)));
            problems.check("difficulty", parsed)
        }
        Some(other) => {
            problems.add("difficulty", format!("must be a string, not {}", kind_of(other)));
            None
        }
    };
    let translation_group_id = optional_str(fields, "translation_group_id", "", &mut problems)
        .and_then(|id| problems.check("translation_group_id", name(id, MAX_GROUP_ID_CHARS)));
    let image_url =
        optional_str(fields, "image_url", "", &mut problems).and_then(|url| problems.check("image_url", http_url(url)));
    let translations = parse_translations(fields, &mut problems);

    // Every field was read whatever the others held, so the rejection lists all problems at once. A field that
    // came back empty always recorded why, so `problems` is never empty here when something is missing.
    let (Some(topic), Some(difficulty), Some(translations)) = (topic, difficulty, translations) else {
        return Err(problems.0);
    };
    if !problems.0.is_empty() {
        return Err(problems.0);
    }
    let external_link = translations.iter().find_map(|t| t.external_link.clone());
    let translations: Vec<TranslationDraft> = translations.into_iter().map(|t| t.draft).collect();
    // Unreachable: an empty translation list is a recorded problem. Kept as a rejection, not a panic, because a
    // draft without translations could not be identified.
    if translations.is_empty() {
        problems.add("translations", "must hold at least one translation");
        return Err(problems.0);
    }
    Ok(TaskDraft {
        topic,
        subtopic,
        difficulty,
        translation_group_id,
        image_url,
        external_link,
        translations,
        warnings,
    })
}

fn missing_difficulty(warnings: &mut BTreeMap<String, String>) -> Difficulty {
    warnings.insert("difficulty".into(), format!("missing; imported as {}", DEFAULT_DIFFICULTY.as_str()));
    DEFAULT_DIFFICULTY
}

/// A translation that passed, with the link the format keeps per translation and the catalogue per task.
struct ParsedTranslation {
    draft: TranslationDraft,
    external_link: Option<String>,
}

/// All translations, or `None` when any of them (or the list itself) has a problem.
fn parse_translations(fields: &Map<String, Value>, problems: &mut Problems) -> Option<Vec<ParsedTranslation>> {
    let items = match fields.get("translations") {
        None | Some(Value::Null) => {
            problems.add("translations", "is required");
            return None;
        }
        Some(Value::Array(items)) => items,
        Some(other) => {
            problems.add("translations", format!("must be an array, not {}", kind_of(other)));
            return None;
        }
    };
    if items.is_empty() {
        problems.add("translations", "must hold at least one translation");
    } else if items.len() > MAX_TRANSLATIONS_PER_TASK {
        problems.add(
            "translations",
            format!("must hold at most {MAX_TRANSLATIONS_PER_TASK} translations (got {})", items.len()),
        );
    }

    // Each translation is still checked when the count is wrong, so the author sees everything in one pass.
    let mut seen_languages = HashSet::new();
    let mut parsed = Vec::with_capacity(items.len());
    let mut all_good = !items.is_empty() && items.len() <= MAX_TRANSLATIONS_PER_TASK;
    for (i, item) in items.iter().enumerate() {
        let prefix = format!("translations[{i}]");
        let translation = match item {
            Value::Object(fields) => parse_translation(fields, &prefix, problems),
            other => {
                problems.add(prefix.clone(), format!("must be a JSON object, not {}", kind_of(other)));
                None
            }
        };
        match translation {
            Some(translation) => {
                if !seen_languages.insert(translation.draft.language.clone()) {
                    problems.add(
                        format!("{prefix}.language"),
                        format!("repeats '{}' of an earlier translation", translation.draft.language),
                    );
                    all_good = false;
                }
                parsed.push(translation);
            }
            None => all_good = false,
        }
    }
    all_good.then_some(parsed)
}

fn parse_translation(fields: &Map<String, Value>, prefix: &str, problems: &mut Problems) -> Option<ParsedTranslation> {
    let path = |field: &str| format!("{prefix}.{field}");

    let language = required_str(fields, "language", prefix, problems).and_then(|raw| {
        let parsed =
            Language::parse(raw).ok_or_else(|| format!("must be a two-letter language code, not {}", quote(raw)));
        problems.check(path("language"), parsed)
    });
    let question = required_str(fields, "question", prefix, problems)
        .and_then(|raw| problems.check(path("question"), text(trim_markdown(raw), 1)));
    let explanation = optional_str(fields, "explanation", prefix, problems)
        .and_then(|raw| problems.check(path("explanation"), text(trim_markdown(raw), 0)));
    let external_link = optional_str(fields, "external_link", prefix, problems)
        .and_then(|url| problems.check(path("external_link"), http_url(url)));
    let correct_answer = required_str(fields, "correct_answer", prefix, problems).and_then(|raw| {
        let correct = raw.trim();
        let checked = if correct.is_empty() { Err("must not be empty".to_string()) } else { option(correct) };
        problems.check(path("correct_answer"), checked)
    });
    let options = parse_options(fields, prefix, correct_answer.as_deref(), problems);

    let (language, question, correct_answer, options) = (language?, question?, correct_answer?, options?);
    let (options, correct_index) = shuffle_options(options, &correct_answer, &question);
    Some(ParsedTranslation {
        draft: TranslationDraft { language, question, options, correct_index, explanation },
        external_link,
    })
}

/// The options as given, trimmed, with the correct answer added when missing. `correct` is `None` when the
/// correct answer itself is unusable; the options are still checked so their problems are reported too.
fn parse_options(
    fields: &Map<String, Value>,
    prefix: &str,
    correct: Option<&str>,
    problems: &mut Problems,
) -> Option<Vec<String>> {
    let path = format!("{prefix}.answers");
    let raw = match fields.get("answers") {
        None | Some(Value::Null) => {
            problems.add(path, "is required");
            return None;
        }
        Some(value) => problems.check(path.clone(), answer_list(value))?,
    };

    let mut options: Vec<String> = Vec::with_capacity(raw.len() + 1);
    let mut repeated: Vec<String> = Vec::new();
    let mut each_usable = true;
    for (k, answer) in raw.iter().enumerate() {
        let answer = answer.trim();
        if answer.is_empty() {
            problems.add(format!("{path}[{k}]"), "must not be empty");
            each_usable = false;
        } else if let Err(reason) = option(answer) {
            problems.add(format!("{path}[{k}]"), reason);
            each_usable = false;
        } else if options.iter().any(|o| o == answer) {
            repeated.push(quote(answer));
        } else {
            options.push(answer.to_string());
        }
    }
    if !repeated.is_empty() {
        problems.add(path.clone(), format!("must hold distinct options; repeated: {}", repeated.join(", ")));
        return None;
    }
    // The correct answer is compared exactly, after trimming, like the options among themselves: near matches
    // ("42" and "42.0") are different options.
    // (No let-chain here: the workspace still promises Rust 1.85.)
    if let Some(correct) = correct {
        if !options.iter().any(|o| o == correct) {
            options.push(correct.to_string());
        }
    }
    if each_usable && correct.is_some() && !(MIN_OPTIONS..=MAX_OPTIONS).contains(&options.len()) {
        problems.add(
            path,
            format!(
                "must hold {MIN_OPTIONS} to {MAX_OPTIONS} distinct options (got {}, counting the correct answer)",
                options.len()
            ),
        );
        return None;
    }
    (each_usable && correct.is_some()).then_some(options)
}

/// `answers` as the old files hold it: an array of strings, or a string holding a JSON-encoded one (some exports
/// wrote the database column's text instead of the array).
fn answer_list(value: &Value) -> Result<Vec<String>, String> {
    const EXPECTED: &str = "must be an array of strings or a JSON-encoded array of strings";
    let decoded;
    let items = match value {
        Value::Array(items) => items,
        Value::String(encoded) => {
            decoded = serde_json::from_str::<Value>(encoded)
                .map_err(|_| format!("{EXPECTED}; the string {} is not JSON", quote(encoded)))?;
            match &decoded {
                Value::Array(items) => items,
                other => return Err(format!("{EXPECTED}; the string holds {}", kind_of(other))),
            }
        }
        other => return Err(format!("{EXPECTED}, not {}", kind_of(other))),
    };
    items
        .iter()
        .enumerate()
        .map(|(k, item)| match item {
            Value::String(s) => Ok(s.clone()),
            other => Err(format!("{EXPECTED}; element {k} is {}", kind_of(other))),
        })
        .collect()
}

/// Puts the options in their stored order and says where the correct answer landed.
///
/// Appending a missing correct answer would leave it last in every such task, which players learn quickly. The
/// order is a Fisher–Yates shuffle seeded from the question, so it is random-looking across tasks yet the same on
/// every run and machine: a re-import or a second writer reaches the same order, and answer statistics keep
/// pointing at the same options. Applied to every task, not only those whose answer was appended, because an
/// author's habit ("the right one first") is just as guessable.
fn shuffle_options(mut options: Vec<String>, correct: &str, question: &str) -> (Vec<String>, usize) {
    // `correct` is among the options by construction; were it not, index 0 would be wrong but never a panic.
    let mut correct_index = options.iter().position(|o| o == correct).unwrap_or(0);
    let seed = Md5::digest(question.as_bytes()).iter().take(8).fold(0u64, |acc, b| acc << 8 | u64::from(*b));
    let mut rng = SplitMix64(seed);
    for i in (1..options.len()).rev() {
        let j = rng.below(i + 1);
        options.swap(i, j);
        // Follow the correct answer through the swap rather than searching for it afterwards.
        if correct_index == i {
            correct_index = j;
        } else if correct_index == j {
            correct_index = i;
        }
    }
    (options, correct_index)
}

/// SplitMix64 (Steele, Lea, Flood 2014): a few lines, fully specified, so the order never depends on a library's
/// version or on std's per-process `RandomState`.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A value in `0..bound` by multiply-and-shift (Lemire), which avoids the skew of `%`.
    fn below(&mut self, bound: usize) -> usize {
        ((u128::from(self.next()) * bound as u128) >> 64) as usize
    }
}

fn md5_hex(text: &str) -> String {
    Md5::digest(text.as_bytes()).iter().fold(String::with_capacity(32), |mut hex, byte| {
        // Writing to a String cannot fail.
        let _ = write!(hex, "{byte:02x}");
        hex
    })
}

/// A required string field, untrimmed; records why when it is absent, null or not a string.
fn required_str<'a>(
    fields: &'a Map<String, Value>,
    key: &str,
    prefix: &str,
    problems: &mut Problems,
) -> Option<&'a str> {
    match fields.get(key) {
        Some(Value::String(s)) => Some(s),
        None | Some(Value::Null) => {
            problems.add(field_path(prefix, key), "is required");
            None
        }
        Some(other) => {
            problems.add(field_path(prefix, key), format!("must be a string, not {}", kind_of(other)));
            None
        }
    }
}

/// An optional string field, untrimmed (each caller trims in its own way). Absent, null and blank all mean "not
/// given": the old exports wrote `""` as readily as `null` for a missing subtopic, link or image.
fn optional_str<'a>(
    fields: &'a Map<String, Value>,
    key: &str,
    prefix: &str,
    problems: &mut Problems,
) -> Option<&'a str> {
    match fields.get(key) {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.as_str()).filter(|s| !s.trim().is_empty()),
        Some(other) => {
            problems.add(field_path(prefix, key), format!("must be a string, not {}", kind_of(other)));
            None
        }
    }
}

fn field_path(prefix: &str, key: &str) -> String {
    if prefix.is_empty() { key.to_string() } else { format!("{prefix}.{key}") }
}

/// A short trimmed name (topic, subtopic, group id).
fn name(value: &str, max: usize) -> Result<String, String> {
    let value = value.trim();
    if value.is_empty() {
        return Err("must not be empty".into());
    }
    at_most(value, max)?;
    Ok(value.to_string())
}

/// A Markdown text (question, explanation) already trimmed at its ends.
fn text(value: &str, min: usize) -> Result<String, String> {
    if value.chars().count() < min {
        return Err("must not be empty".into());
    }
    at_most(value, MAX_TEXT_CHARS)?;
    Ok(value.to_string())
}

/// One trimmed answer option, known to be non-empty.
fn option(value: &str) -> Result<String, String> {
    at_most(value, MAX_OPTION_CHARS)?;
    Ok(value.to_string())
}

fn at_most(value: &str, max: usize) -> Result<(), String> {
    // PostgreSQL text cannot hold NUL; refusing it here keeps one such task from failing the whole import.
    if value.contains('\0') {
        return Err("must not contain NUL characters".into());
    }
    let count = value.chars().count();
    if count > max { Err(format!("must be at most {max} characters (got {count})")) } else { Ok(()) }
}

/// An absolute http(s) URL, trimmed. Deliberately shallow: it keeps out relative paths, other schemes
/// (`javascript:`, `file:`) and pasted text; whether the address exists is not this module's to know.
fn http_url(url: &str) -> Result<String, String> {
    let url = url.trim();
    at_most(url, MAX_URL_CHARS)?;
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("must be a URL without spaces".into());
    }
    let rest = strip_prefix_ignoring_case(url, "https://")
        .or_else(|| strip_prefix_ignoring_case(url, "http://"))
        .ok_or_else(|| format!("must be an absolute http(s) URL, not {}", quote(url)))?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host_and_port = authority.rsplit('@').next().unwrap_or_default();
    if host_and_port.is_empty() || host_and_port.starts_with(':') {
        return Err(format!("must name a host, which {} does not", quote(url)));
    }
    Ok(url.to_string())
}

fn strip_prefix_ignoring_case<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    if head.eq_ignore_ascii_case(prefix) { s.get(prefix.len()..) } else { None }
}

/// Trims a Markdown text at its ends without changing what it renders: trailing whitespace and leading blank lines
/// go, but the first line keeps its indentation when that indentation makes it an indented code block (four
/// spaces or a tab). Inner formatting, fenced code included, is never touched.
fn trim_markdown(raw: &str) -> &str {
    let text = raw.trim_end();
    let content = text.trim_start();
    let leading = text.get(..text.len() - content.len()).unwrap_or_default();
    let indent = match leading.rfind('\n') {
        Some(newline) => leading.get(newline + 1..).unwrap_or_default(),
        None => leading,
    };
    let is_code_indent = indent.contains('\t') || indent.chars().filter(|c| *c == ' ').count() >= 4;
    if is_code_indent { text.get(text.len() - content.len() - indent.len()..).unwrap_or(content) } else { content }
}

/// A value quoted for a reason, cut short so a rejection never echoes a whole question, and with any NUL shown as
/// U+FFFD, so the report itself can go wherever text goes (a chat message, a log, a database).
fn quote(value: &str) -> String {
    let mut chars = value.chars();
    let head: String = chars.by_ref().take(QUOTE_CHARS).map(|c| if c == '\0' { '\u{FFFD}' } else { c }).collect();
    if chars.next().is_some() { format!("'{head}…'") } else { format!("'{head}'") }
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A bank exactly as the earlier system exported it: mixed-case difficulty, an unknown extra field, `null`
    /// for absent values, one `answers` as a JSON-encoded string without the correct answer, and a task with no
    /// difficulty at all (as in its `uploads/swift.json`).
    const EARLIER_FORMAT: &str = r##"{
  "exported_at": "2024-11-02T10:15:00Z",
  "tasks": [
    {
      "topic": "Python",
      "subtopic": "Recursive Functions",
      "difficulty": "Medium",
      "translation_group_id": "3f0b7c1e-2f7a-4b8e-9a51-0c2d4e6f8a10",
      "image_url": "https://cdn.example.com/tasks/factorial.png",
      "created_by": 7,
      "translations": [
        {
          "language": "en",
          "question": "What does this code print?\n\n```python\ndef f(n):\n    # factorial\n    return 1 if n <= 1 else n * f(n - 1)\n\nprint(f(5))\n```\n",
          "answers": ["60", "120", "24", "RecursionError"],
          "correct_answer": "120",
          "explanation": "f(5) = 5 * 4 * 3 * 2 * 1 = 120.",
          "external_link": "https://docs.python.org/3/tutorial/controlflow.html#defining-functions"
        },
        {
          "language": "ru",
          "question": "Что выведет этот код?\n\n```python\ndef f(n):\n    # factorial\n    return 1 if n <= 1 else n * f(n - 1)\n\nprint(f(5))\n```",
          "answers": "[\"60\", \"24\", \"RecursionError\"]",
          "correct_answer": "120",
          "explanation": null,
          "external_link": null
        }
      ]
    },
    {
      "topic": "Go",
      "subtopic": null,
      "difficulty": "easy",
      "image_url": "",
      "translations": [
        {
          "language": "en",
          "question": "What is the zero value of an `int` in Go?",
          "answers": ["0", "nil", "undefined"],
          "correct_answer": "0",
          "explanation": ""
        }
      ]
    },
    {
      "topic": "Swift",
      "subtopic": "Optionals",
      "translations": [
        {
          "language": "en",
          "question": "What does `nil ?? 3` evaluate to?",
          "answers": ["nil", "3", "a compile error"],
          "correct_answer": "3"
        }
      ]
    }
  ]
}"##;

    fn parse_ok(body: &str) -> Vec<Result<TaskDraft, TaskRejection>> {
        parse_bank(body.as_bytes()).expect("a bank")
    }

    fn only_task(body: serde_json::Value) -> Result<TaskDraft, TaskRejection> {
        let mut outcomes = parse_ok(&json!({ "tasks": [body] }).to_string());
        assert_eq!(outcomes.len(), 1);
        outcomes.remove(0)
    }

    fn rejection(body: serde_json::Value) -> BTreeMap<String, String> {
        only_task(body).expect_err("a rejection").reasons
    }

    fn task_with(translation: serde_json::Value) -> serde_json::Value {
        json!({ "topic": "SQL", "difficulty": "hard", "translations": [translation] })
    }

    fn correct_option(t: &TranslationDraft) -> &str {
        &t.options[t.correct_index]
    }

    fn sorted(options: &[String]) -> Vec<&str> {
        let mut v: Vec<&str> = options.iter().map(String::as_str).collect();
        v.sort_unstable();
        v
    }

    #[test]
    fn a_bank_in_the_earlier_format_loads_unchanged() {
        let outcomes = parse_ok(EARLIER_FORMAT);
        assert_eq!(outcomes.len(), 3);

        let python = outcomes[0].as_ref().expect("the Python task loads");
        assert_eq!(python.topic, "Python");
        assert_eq!(python.subtopic.as_deref(), Some("Recursive Functions"));
        assert_eq!(python.difficulty, Difficulty::Medium);
        assert_eq!(python.translation_group_id.as_deref(), Some("3f0b7c1e-2f7a-4b8e-9a51-0c2d4e6f8a10"));
        assert_eq!(python.image_url.as_deref(), Some("https://cdn.example.com/tasks/factorial.png"));
        assert_eq!(
            python.external_link.as_deref(),
            Some("https://docs.python.org/3/tutorial/controlflow.html#defining-functions")
        );
        let languages: Vec<&str> = python.translations.iter().map(|t| t.language.as_str()).collect();
        assert_eq!(languages, ["en", "ru"]);

        let en = &python.translations[0];
        // The fenced block and its indentation survive; only the trailing newline is trimmed.
        assert_eq!(
            en.question,
            "What does this code print?\n\n```python\ndef f(n):\n    # factorial\n    return 1 if n <= 1 else n * f(n - 1)\n\nprint(f(5))\n```"
        );
        assert_eq!(sorted(&en.options), ["120", "24", "60", "RecursionError"]);
        assert_eq!(correct_option(en), "120");
        assert_eq!(en.explanation.as_deref(), Some("f(5) = 5 * 4 * 3 * 2 * 1 = 120."));

        let ru = &python.translations[1];
        assert_eq!(sorted(&ru.options), ["120", "24", "60", "RecursionError"]);
        assert_eq!(correct_option(ru), "120");
        assert_eq!(ru.explanation, None);

        let go = outcomes[1].as_ref().expect("the Go task loads");
        assert_eq!(go.difficulty, Difficulty::Easy);
        assert_eq!((go.subtopic.as_deref(), go.image_url.as_deref(), go.external_link.as_deref()), (None, None, None));
        assert_eq!(go.translation_group_id, None);
        assert_eq!(go.translations[0].explanation, None);
        assert_eq!(correct_option(&go.translations[0]), "0");
        assert_eq!((&python.warnings, &go.warnings), (&BTreeMap::new(), &BTreeMap::new()), "nothing was filled in");

        let swift = outcomes[2].as_ref().expect("the Swift task, which has no difficulty, loads");
        assert_eq!(swift.difficulty, Difficulty::Medium);
        assert_eq!(
            swift.warnings,
            BTreeMap::from([("difficulty".to_string(), "missing; imported as medium".to_string())])
        );
    }

    #[test]
    fn a_missing_correct_answer_is_added_to_the_options() {
        let task = only_task(task_with(json!({
            "language": "en", "question": "Which clause filters groups?", "answers": ["WHERE", "ORDER BY"],
            "correct_answer": "HAVING"
        })))
        .expect("loads");
        let t = &task.translations[0];
        assert_eq!(sorted(&t.options), ["HAVING", "ORDER BY", "WHERE"]);
        assert_eq!(correct_option(t), "HAVING");
    }

    #[test]
    fn a_correct_answer_already_among_the_options_is_not_added_twice() {
        let task = only_task(task_with(json!({
            "language": "en", "question": "Which clause filters groups?", "answers": ["WHERE", " HAVING ", "ORDER BY"],
            "correct_answer": "HAVING"
        })))
        .expect("loads");
        let t = &task.translations[0];
        assert_eq!(sorted(&t.options), ["HAVING", "ORDER BY", "WHERE"]);
        assert_eq!(correct_option(t), "HAVING");
    }

    #[test]
    fn answers_as_a_json_encoded_string_are_read() {
        let task = only_task(task_with(json!({
            "language": "en", "question": "SELECT 1 + 1;", "answers": "[\"11\", \"2\", \"error\"]", "correct_answer": "2"
        })))
        .expect("loads");
        let t = &task.translations[0];
        assert_eq!(sorted(&t.options), ["11", "2", "error"]);
        assert_eq!(correct_option(t), "2");
    }

    #[test]
    fn answers_that_are_not_a_list_of_strings_are_rejected_with_a_clear_reason() {
        for answers in [json!("a, b, c"), json!("{\"a\": 1}"), json!([1, 2]), json!(5)] {
            let reasons = rejection(task_with(
                json!({ "language": "en", "question": "Q?", "answers": answers, "correct_answer": "a" }),
            ));
            let reason = &reasons["translations[0].answers"];
            assert!(reason.starts_with("must be an array of strings or a JSON-encoded array of strings"), "{reason}");
        }
    }

    #[test]
    fn duplicate_options_are_rejected() {
        let reasons = rejection(task_with(json!({
            "language": "en", "question": "Q?", "answers": ["yes", "no", " yes"], "correct_answer": "no"
        })));
        assert_eq!(reasons["translations[0].answers"], "must hold distinct options; repeated: 'yes'");
    }

    #[test]
    fn too_few_or_too_many_options_are_rejected() {
        let one = rejection(task_with(
            json!({ "language": "en", "question": "Q?", "answers": ["a"], "correct_answer": "a" }),
        ));
        assert_eq!(
            one["translations[0].answers"],
            "must hold 2 to 10 distinct options (got 1, counting the correct answer)"
        );
        let ten: Vec<String> = (0..10).map(|n| n.to_string()).collect();
        let eleven =
            rejection(task_with(json!({ "language": "en", "question": "Q?", "answers": ten, "correct_answer": "x" })));
        assert!(eleven["translations[0].answers"].contains("got 11"));
    }

    #[test]
    fn an_unknown_difficulty_is_rejected_at_its_path() {
        let mut task =
            task_with(json!({ "language": "en", "question": "Q?", "answers": ["a", "b"], "correct_answer": "a" }));
        task["difficulty"] = json!("extreme");
        assert_eq!(rejection(task)["difficulty"], "must be easy, medium or hard, not 'extreme'");
    }

    #[test]
    fn a_missing_difficulty_is_medium_and_the_task_says_so() {
        for difficulty in [None, Some(json!(null)), Some(json!("")), Some(json!("  "))] {
            let mut task =
                task_with(json!({ "language": "en", "question": "Q?", "answers": ["a", "b"], "correct_answer": "a" }));
            match &difficulty {
                None => task.as_object_mut().expect("an object").remove("difficulty"),
                Some(value) => task.as_object_mut().expect("an object").insert("difficulty".into(), value.clone()),
            };
            let draft = only_task(task).unwrap_or_else(|r| panic!("{difficulty:?}: rejected: {r:?}"));
            assert_eq!(draft.difficulty, Difficulty::Medium, "{difficulty:?}");
            assert_eq!(
                draft.warnings,
                BTreeMap::from([("difficulty".to_string(), "missing; imported as medium".to_string())]),
                "{difficulty:?}"
            );
        }
    }

    #[test]
    fn a_given_difficulty_leaves_no_warning_and_one_that_is_not_a_string_is_rejected() {
        let mut task =
            task_with(json!({ "language": "en", "question": "Q?", "answers": ["a", "b"], "correct_answer": "a" }));
        task["difficulty"] = json!("medium");
        assert_eq!(only_task(task.clone()).expect("loads").warnings, BTreeMap::new());
        task["difficulty"] = json!(2);
        assert_eq!(rejection(task)["difficulty"], "must be a string, not a number");
    }

    #[test]
    fn difficulty_is_read_case_insensitively_and_trimmed() {
        let mut task =
            task_with(json!({ "language": "EN", "question": "Q?", "answers": ["a", "b"], "correct_answer": "a" }));
        task["difficulty"] = json!(" HARD ");
        let draft = only_task(task).expect("loads");
        assert_eq!(draft.difficulty, Difficulty::Hard);
        assert_eq!(draft.translations[0].language.as_str(), "en");
    }

    #[test]
    fn every_problem_of_a_task_is_reported_at_once() {
        let reasons = rejection(json!({
            "topic": "  ",
            "difficulty": "extreme",
            "image_url": "/static/img.png",
            "translations": [
                { "language": "english", "question": "", "answers": ["a", ""], "correct_answer": "" },
                { "language": "ru", "question": "В?", "answers": ["a", "b"], "correct_answer": "a", "external_link": 3 }
            ]
        }));
        let paths: Vec<&str> = reasons.keys().map(String::as_str).collect();
        assert_eq!(
            paths,
            [
                "difficulty",
                "image_url",
                "topic",
                "translations[0].answers[1]",
                "translations[0].correct_answer",
                "translations[0].language",
                "translations[0].question",
                "translations[1].external_link",
            ]
        );
        assert_eq!(reasons["difficulty"], "must be easy, medium or hard, not 'extreme'");
        assert_eq!(reasons["topic"], "must not be empty");
        assert_eq!(reasons["translations[1].external_link"], "must be a string, not a number");
    }

    #[test]
    fn one_bad_task_leaves_the_good_ones_parsed() {
        let good = |question: &str| {
            json!({ "topic": "Python", "difficulty": "easy",
                    "translations": [{ "language": "en", "question": question, "answers": ["a", "b"], "correct_answer": "a" }] })
        };
        let body = json!({ "tasks": [good("first?"), { "topic": "Python", "difficulty": "brutal", "translations": [] }, 42, good("last?")] });
        let outcomes = parse_ok(&body.to_string());
        assert_eq!(outcomes.len(), 4);
        assert_eq!(outcomes[0].as_ref().map(|t| t.translations[0].question.as_str()), Ok("first?"));
        assert_eq!(outcomes[3].as_ref().map(|t| t.translations[0].question.as_str()), Ok("last?"));

        let bad = outcomes[1].as_ref().expect_err("rejected");
        assert_eq!(bad.index, 1);
        assert_eq!(bad.reasons.keys().collect::<Vec<_>>(), ["difficulty", "translations"]);
        assert_eq!(bad.reasons["translations"], "must hold at least one translation");

        let not_an_object = outcomes[2].as_ref().expect_err("rejected");
        assert_eq!(not_an_object.index, 2);
        assert_eq!(not_an_object.reasons["task"], "must be a JSON object, not a number");
    }

    #[test]
    fn option_order_is_stable_and_the_correct_answer_is_not_always_last() {
        let bank = json!({ "tasks": (0..20).map(|n| json!({
            "topic": "Python", "difficulty": "easy",
            "translations": [{ "language": "en", "question": format!("What is {n} + 1?"),
                               "answers": ["zero", "minus one", "a TypeError"], "correct_answer": (n + 1).to_string() }]
        })).collect::<Vec<_>>() })
        .to_string();
        let first = parse_ok(&bank);
        assert_eq!(first, parse_ok(&bank), "the same file gives the same order");

        let mut landed = [0usize; 4];
        for (n, outcome) in first.iter().enumerate() {
            let t = &outcome.as_ref().expect("loads").translations[0];
            assert_eq!(correct_option(t), (n + 1).to_string());
            landed[t.correct_index] += 1;
        }
        // The appended answer lands in every position across 20 questions, not just the last.
        assert!(landed.iter().all(|&count| count > 0), "positions of the correct answer: {landed:?}");
        assert!(landed[3] < 20);
    }

    #[test]
    fn the_option_order_is_pinned_so_reimports_keep_it() {
        // Pinned so that a change of the shuffle (which would reorder every stored task on re-import and break the
        // statistics of answered options) fails here first.
        let task = only_task(task_with(json!({
            "language": "en", "question": "Which keyword defines a function in Python?",
            "answers": ["func", "function", "lambda"], "correct_answer": "def"
        })))
        .expect("loads");
        let t = &task.translations[0];
        assert_eq!(t.options, ["def", "func", "function", "lambda"]);
        assert_eq!(t.correct_index, 0);
        assert_eq!(md5_hex(""), "d41d8cd98f00b204e9800998ecf8427e");
    }

    #[test]
    fn the_group_key_is_the_trimmed_group_id() {
        let mut task =
            task_with(json!({ "language": "en", "question": "Q?", "answers": ["a", "b"], "correct_answer": "a" }));
        assert_eq!(only_task(task.clone()).expect("loads").group_key(), None);
        task["translation_group_id"] = json!("  grp-42 ");
        assert_eq!(only_task(task).expect("loads").group_key().as_deref(), Some("group:grp-42"));
    }

    #[test]
    fn every_translation_has_the_digest_of_its_stored_question_whatever_its_place() {
        let translations = |order: [usize; 2]| {
            let all = [
                json!({ "language": "EN", "question": "  What is 2 + 2?\n", "answers": ["3", "4"], "correct_answer": "4" }),
                json!({ "language": "ru", "question": "Что такое 2 + 2?", "answers": ["3", "4"], "correct_answer": "4" }),
            ];
            json!({ "topic": "Math", "difficulty": "easy", "translations": order.map(|i| all[i].clone()) })
        };
        let keys = |task: serde_json::Value| {
            let mut keys: Vec<(String, String)> = only_task(task)
                .expect("loads")
                .translations
                .iter()
                .map(|t| (t.language.as_str().to_string(), t.question_digest()))
                .collect();
            keys.sort();
            keys
        };
        // md5 of the trimmed question, computed independently with `printf 'What is 2 + 2?' | md5sum` (and the
        // same for the Russian one): PostgreSQL's md5(question) gives these too, which the backfill of V11 relies on.
        let expected = [
            ("en".to_string(), "0c1410da6636525dfbb07871aa041bbf".to_string()),
            ("ru".to_string(), "6ed6468af602833845b9efdbd6bb6a0e".to_string()),
        ];
        assert_eq!(keys(translations([0, 1])), expected);
        assert_eq!(keys(translations([1, 0])), expected, "the order of the translations changes no key");
    }

    #[test]
    fn a_file_that_is_not_json_is_refused_with_the_parsers_message() {
        match parse_bank(b"{\"tasks\": [") {
            Err(BankError::NotJson(message)) => assert!(message.contains("line 1"), "{message}"),
            other => panic!("expected NotJson, got {other:?}"),
        }
    }

    #[test]
    fn json_that_is_not_a_bank_is_refused() {
        for body in ["[]", "{}", "{\"tasks\": {}}", "{\"tasks\": null}", "\"tasks\""] {
            assert!(matches!(parse_bank(body.as_bytes()), Err(BankError::NotABank(_))), "{body}");
        }
    }

    #[test]
    fn an_empty_bank_is_refused() {
        assert_eq!(parse_bank(b"{\"tasks\": []}"), Err(BankError::Empty));
    }

    #[test]
    fn a_bank_over_the_task_limit_is_refused_and_one_at_the_limit_is_read() {
        let bank = |count: usize| format!("{{\"tasks\": [{}]}}", vec!["{}"; count].join(","));
        assert_eq!(
            parse_bank(bank(MAX_TASKS_PER_IMPORT + 1).as_bytes()),
            Err(BankError::TooManyTasks { count: MAX_TASKS_PER_IMPORT + 1, max: MAX_TASKS_PER_IMPORT })
        );
        let at_limit = parse_bank(bank(MAX_TASKS_PER_IMPORT).as_bytes()).expect("read");
        assert_eq!(at_limit.len(), MAX_TASKS_PER_IMPORT);
        assert!(at_limit.iter().all(Result::is_err));
    }

    #[test]
    fn oversize_strings_are_rejected() {
        let reasons = rejection(json!({
            "topic": "t".repeat(101),
            "subtopic": "s".repeat(101),
            "difficulty": "easy",
            "translation_group_id": "g".repeat(65),
            "image_url": format!("https://example.com/{}", "i".repeat(2000)),
            "translations": [{
                "language": "en",
                "question": "q".repeat(10_001),
                "answers": ["o".repeat(501), "fine"],
                "correct_answer": "c".repeat(501),
                "explanation": "e".repeat(10_001)
            }]
        }));
        assert_eq!(reasons["topic"], "must be at most 100 characters (got 101)");
        for path in [
            "subtopic",
            "translation_group_id",
            "image_url",
            "translations[0].question",
            "translations[0].answers[0]",
            "translations[0].correct_answer",
            "translations[0].explanation",
        ] {
            assert!(reasons[path].starts_with("must be at most"), "{path}: {}", reasons[path]);
        }
    }

    #[test]
    fn limits_count_characters_not_bytes() {
        let mut task =
            task_with(json!({ "language": "ru", "question": "В?", "answers": ["да", "нет"], "correct_answer": "да" }));
        task["topic"] = json!("ж".repeat(100));
        assert_eq!(only_task(task).expect("100 two-byte characters fit").topic.chars().count(), 100);
    }

    #[test]
    fn links_must_be_absolute_http_urls() {
        for url in ["/static/a.png", "ftp://example.com/a", "javascript:alert(1)", "https://exa mple.com", "https:///a"]
        {
            let mut task = task_with(json!({
                "language": "en", "question": "Q?", "answers": ["a", "b"], "correct_answer": "a", "external_link": url
            }));
            task["image_url"] = json!(url);
            let reasons = rejection(task);
            assert!(reasons.contains_key("image_url"), "{url}");
            assert!(reasons.contains_key("translations[0].external_link"), "{url}");
        }
        let mut task =
            task_with(json!({ "language": "en", "question": "Q?", "answers": ["a", "b"], "correct_answer": "a" }));
        task["image_url"] = json!(" HTTP://Example.com:8080/a.png?x=1 ");
        assert_eq!(only_task(task).expect("loads").image_url.as_deref(), Some("HTTP://Example.com:8080/a.png?x=1"));
    }

    #[test]
    fn the_task_link_is_the_first_non_empty_translation_link() {
        let task = json!({ "topic": "Go", "difficulty": "easy", "translations": [
            { "language": "en", "question": "Q?", "answers": ["a", "b"], "correct_answer": "a", "external_link": "" },
            { "language": "de", "question": "F?", "answers": ["a", "b"], "correct_answer": "a", "external_link": "https://go.dev/doc" }
        ] });
        assert_eq!(only_task(task).expect("loads").external_link.as_deref(), Some("https://go.dev/doc"));
    }

    #[test]
    fn translations_must_have_distinct_languages_and_a_bounded_count() {
        let translation = |language: &str| json!({ "language": language, "question": "Q?", "answers": ["a", "b"], "correct_answer": "a" });
        let repeated = rejection(
            json!({ "topic": "Go", "difficulty": "easy", "translations": [translation("en"), translation("EN")] }),
        );
        assert_eq!(repeated["translations[1].language"], "repeats 'en' of an earlier translation");

        let codes: Vec<String> = (0..21u8).map(|n| format!("a{}", char::from(b'a' + n))).collect();
        let many: Vec<_> = codes.iter().map(|code| translation(code)).collect();
        let too_many = rejection(json!({ "topic": "Go", "difficulty": "easy", "translations": many }));
        assert_eq!(too_many["translations"], "must hold at most 20 translations (got 21)");
    }

    #[test]
    fn an_empty_subtopic_or_explanation_counts_as_absent() {
        let mut task = task_with(json!({
            "language": "en", "question": "Q?", "answers": ["a", "b"], "correct_answer": "a", "explanation": "  \n"
        }));
        task["subtopic"] = json!("   ");
        let draft = only_task(task).expect("loads");
        assert_eq!(draft.subtopic, None);
        assert_eq!(draft.translations[0].explanation, None);
    }

    #[test]
    fn a_question_opening_with_an_indented_code_block_keeps_its_indentation() {
        assert_eq!(trim_markdown("\n\n    x = 1\n\nWhat is x?\n"), "    x = 1\n\nWhat is x?");
        assert_eq!(trim_markdown("  \n  What is x?  "), "What is x?");
        assert_eq!(trim_markdown(" \t "), "");
    }

    #[test]
    fn a_file_with_a_byte_order_mark_loads() {
        let mut body = b"\xEF\xBB\xBF".to_vec();
        body.extend_from_slice(EARLIER_FORMAT.as_bytes());
        assert_eq!(parse_bank(&body), parse_bank(EARLIER_FORMAT.as_bytes()));
    }

    #[test]
    fn a_rejection_serializes_for_the_import_report() {
        let rejection =
            TaskRejection { index: 3, reasons: BTreeMap::from([("topic".to_string(), "is required".to_string())]) };
        assert_eq!(
            serde_json::to_value(&rejection).expect("serializes"),
            json!({ "index": 3, "reasons": { "topic": "is required" } })
        );
    }

    #[test]
    fn a_nul_character_in_any_text_rejects_the_task_at_that_path() {
        // PostgreSQL text cannot hold U+0000: each such value is a problem of its task, never a failed import.
        let nul = "a\u{0}b";
        let fields: [(&str, fn(&mut serde_json::Value, &str)); 10] = [
            ("topic", |t, v| t["topic"] = json!(v)),
            ("subtopic", |t, v| t["subtopic"] = json!(v)),
            ("translation_group_id", |t, v| t["translation_group_id"] = json!(v)),
            ("image_url", |t, v| t["image_url"] = json!(format!("https://example.com/{v}"))),
            ("translations[0].question", |t, v| t["translations"][0]["question"] = json!(v)),
            ("translations[0].answers[1]", |t, v| t["translations"][0]["answers"][1] = json!(v)),
            ("translations[0].correct_answer", |t, v| t["translations"][0]["correct_answer"] = json!(v)),
            ("translations[0].explanation", |t, v| t["translations"][0]["explanation"] = json!(v)),
            ("translations[0].external_link", |t, v| {
                t["translations"][0]["external_link"] = json!(format!("https://example.com/{v}"))
            }),
            // The JSON-encoded form of `answers` holds the NUL as an escape inside the string.
            ("translations[0].answers[0]", |t, v| {
                t["translations"][0]["answers"] = json!(serde_json::to_string(&[v, "fine"]).expect("encodes"))
            }),
        ];
        for (path, set) in fields {
            let mut task = task_with(json!({
                "language": "en", "question": "Q?", "answers": ["a", "b"], "correct_answer": "a", "explanation": "E"
            }));
            set(&mut task, nul);
            let reasons = rejection(task);
            assert_eq!(reasons.keys().collect::<Vec<_>>(), [path], "{reasons:?}");
            assert_eq!(reasons[path], "must not contain NUL characters", "{path}");
        }
        // A NUL in a language code or a difficulty is simply not a valid code, and says so at its path.
        let mut task =
            task_with(json!({ "language": "e\u{0}", "question": "Q?", "answers": ["a", "b"], "correct_answer": "a" }));
        task["difficulty"] = json!("easy\u{0}");
        let reasons = rejection(task);
        assert_eq!(reasons.keys().collect::<Vec<_>>(), ["difficulty", "translations[0].language"]);
        assert_eq!(
            reasons["difficulty"], "must be easy, medium or hard, not 'easy\u{FFFD}'",
            "the reason echoes no NUL"
        );
        assert!(reasons.values().all(|reason| !reason.contains('\0')), "{reasons:?}");
    }
}
