//! The shape of the code: no import loops between the modules of any crate of the workspace.
//!
//! Between crates the compiler forbids loops (the platform cannot name a feature); inside a crate it does not, so
//! this test draws each crate's module graph from its sources and fails on any cycle. An edge is a path a module
//! names: `crate::a::b`, `super::…`, `self::…` (with `{…}` groups expanded), resolved to the deepest module it
//! reaches. Comments, re-exports (`pub use`, which name rather than use) and test modules (`#[cfg(test)]`, which
//! may use anything) are not edges; a module naming its own descendants is not one either.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// A module's path inside its crate: `["quiz", "stats"]`; the crate root is empty.
type ModulePath = Vec<String>;

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("tests/ is inside the repository").to_path_buf()
}

/// Every `.rs` file under `src` as the module it defines.
fn module_files(src: &Path) -> BTreeMap<ModulePath, PathBuf> {
    let mut files = BTreeMap::new();
    let mut dirs = vec![src.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display())) {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                dirs.push(path);
                continue;
            }
            if path.extension().is_none_or(|x| x != "rs") {
                continue;
            }
            let relative = path.strip_prefix(src).expect("under src").with_extension("");
            let mut module: ModulePath = relative.iter().map(|p| p.to_string_lossy().into_owned()).collect();
            if matches!(module.last().map(String::as_str), Some("mod" | "lib" | "main")) {
                module.pop();
            }
            files.insert(module, path);
        }
    }
    files
}

/// The code of a file that counts: without comments, re-exports and what follows `#[cfg(test)]`.
fn counted_code(text: &str) -> String {
    let text = text.split("#[cfg(test)]").next().unwrap_or_default();
    let mut code = String::new();
    let mut in_reexport = false;
    for line in text.lines() {
        let line = line.split("//").next().unwrap_or_default();
        let trimmed = line.trim_start();
        if trimmed.starts_with("pub use ") || trimmed.starts_with("pub(crate) use ") {
            in_reexport = true;
        }
        if !in_reexport {
            code.push_str(line);
        }
        code.push('\n');
        if in_reexport && line.contains(';') {
            in_reexport = false;
        }
    }
    code
}

/// Every path starting `crate`, `super` or `self`, with the inline module (`mod x { … }`) it was written in.
fn named_paths(code: &str) -> Vec<(ModulePath, String, Vec<String>)> {
    let is_ident = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let chars: Vec<char> = code.chars().collect();
    let mut found = Vec::new();
    // Inline modules open at a `mod name {` and close at the brace that balances it.
    let mut inline: Vec<(String, usize)> = Vec::new();
    let mut depth = 0usize;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '{' {
            depth += 1;
        } else if c == '}' {
            depth = depth.saturating_sub(1);
            if inline.last().is_some_and(|(_, d)| *d == depth) {
                inline.pop();
            }
        }
        // A word that follows `::` continues a path already read.
        let starts_word =
            is_ident(c) && (i == 0 || !is_ident(chars[i - 1])) && !(i >= 2 && code_at(&chars, i - 2, "::"));
        if !starts_word {
            i += 1;
            continue;
        }
        let word_end = (i..chars.len()).find(|&j| !is_ident(chars[j])).unwrap_or(chars.len());
        let word: String = chars[i..word_end].iter().collect();
        if word == "mod" {
            let rest: String = chars[word_end..chars.len().min(word_end + 80)].iter().collect();
            let name: String = rest.trim_start().chars().take_while(|&c| is_ident(c)).collect();
            let after = rest.trim_start()[name.len()..].trim_start();
            if !name.is_empty() && after.starts_with('{') {
                inline.push((name, depth));
            }
        } else if matches!(word.as_str(), "crate" | "super" | "self") && code_at(&chars, word_end, "::") {
            let inside: ModulePath = inline.iter().map(|(n, _)| n.clone()).collect();
            for segments in expand(&chars[word_end + 2..]) {
                found.push((inside.clone(), word.clone(), segments));
            }
        }
        i = word_end;
    }
    found
}

fn code_at(chars: &[char], at: usize, text: &str) -> bool {
    text.chars().enumerate().all(|(k, c)| chars.get(at + k) == Some(&c))
}

/// The segments after `crate::`: `a::b::C` → `[a, b, C]`; `a::{b, c::D}` → `[a, b]`, `[a, c, D]`.
fn expand(rest: &[char]) -> Vec<Vec<String>> {
    let is_ident = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let mut prefix = Vec::new();
    let mut i = 0;
    loop {
        let end = (i..rest.len()).find(|&j| !is_ident(rest[j])).unwrap_or(rest.len());
        if end > i {
            prefix.push(rest[i..end].iter().collect::<String>());
        }
        // A group: right after the start (`crate::{…}`) or after a segment (`crate::a::{…}`).
        let group_at = if end == i && rest.get(i) == Some(&'{') {
            Some(i + 1)
        } else if code_at(rest, end, "::{") {
            Some(end + 3)
        } else {
            None
        };
        if let Some(open) = group_at {
            let close = rest[open..].iter().position(|&c| c == '}').map_or(rest.len(), |p| open + p);
            let group: String = rest[open..close].iter().collect();
            return group
                .split(',')
                .map(|item| item.split(" as ").next().unwrap_or_default().trim())
                .filter(|item| !item.is_empty())
                .map(|item| prefix.iter().cloned().chain(item.split("::").map(|s| s.trim().to_string())).collect())
                .collect();
        }
        if code_at(rest, end, "::") && end > i {
            i = end + 2;
            continue;
        }
        return vec![prefix];
    }
}

/// The module graph of one crate: each module and the modules it names.
fn module_graph(src: &Path) -> BTreeMap<ModulePath, BTreeSet<ModulePath>> {
    let files = module_files(src);
    let mut graph: BTreeMap<ModulePath, BTreeSet<ModulePath>> = BTreeMap::new();
    for (module, path) in &files {
        let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
        graph.entry(module.clone()).or_default();
        for (inside, start, segments) in named_paths(&counted_code(&text)) {
            let here: ModulePath = module.iter().chain(&inside).cloned().collect();
            let mut full: ModulePath = match start.as_str() {
                "crate" => Vec::new(),
                "self" => here.clone(),
                _ => here[..here.len().saturating_sub(1)].to_vec(),
            };
            let mut segments = segments.into_iter().peekable();
            while segments.next_if(|s| s == "super").is_some() {
                full.pop();
            }
            full.extend(segments);
            // The deepest module the path reaches; the file's own module and its descendants are not edges.
            let Some(target) = (0..=full.len()).rev().map(|n| full[..n].to_vec()).find(|m| files.contains_key(m))
            else {
                continue;
            };
            if target.starts_with(module) {
                continue;
            }
            graph.entry(module.clone()).or_default().insert(target);
        }
    }
    graph
}

/// The cycles of a graph, as its strongly connected components of more than one module (Tarjan's algorithm).
fn cycles(graph: &BTreeMap<ModulePath, BTreeSet<ModulePath>>) -> Vec<Vec<ModulePath>> {
    struct Search<'g> {
        graph: &'g BTreeMap<ModulePath, BTreeSet<ModulePath>>,
        index: BTreeMap<&'g ModulePath, usize>,
        low: BTreeMap<&'g ModulePath, usize>,
        stack: Vec<&'g ModulePath>,
        found: Vec<Vec<ModulePath>>,
    }
    impl<'g> Search<'g> {
        fn visit(&mut self, v: &'g ModulePath) {
            let n = self.index.len();
            self.index.insert(v, n);
            self.low.insert(v, n);
            self.stack.push(v);
            for w in self.graph.get(v).into_iter().flatten() {
                if !self.index.contains_key(w) {
                    self.visit(w);
                    let low = self.low[v].min(self.low[w]);
                    self.low.insert(v, low);
                } else if self.stack.contains(&w) {
                    let low = self.low[v].min(self.index[w]);
                    self.low.insert(v, low);
                }
            }
            if self.low[v] == self.index[v] {
                let mut component = Vec::new();
                while let Some(w) = self.stack.pop() {
                    component.push(w.clone());
                    if w == v {
                        break;
                    }
                }
                if component.len() > 1 {
                    self.found.push(component);
                }
            }
        }
    }
    let mut search =
        Search { graph, index: BTreeMap::new(), low: BTreeMap::new(), stack: Vec::new(), found: Vec::new() };
    for v in graph.keys() {
        if !search.index.contains_key(v) {
            search.visit(v);
        }
    }
    search.found
}

fn shown(module: &ModulePath) -> String {
    if module.is_empty() { "(crate root)".into() } else { module.join("::") }
}

#[test]
fn no_crate_of_the_workspace_has_an_import_loop_between_its_modules() {
    let root = repo_root();
    let crates = ["platform/src", "shared/src", "media/src", "infra/local-cloud/src", "tests/support"];
    let mut loops = Vec::new();
    for src in crates {
        let graph = module_graph(&root.join(src));
        assert!(graph.len() > 1, "{src}: found no modules; has the crate moved?");
        for component in cycles(&graph) {
            let members: BTreeSet<&ModulePath> = component.iter().collect();
            let edges: Vec<String> = component
                .iter()
                .flat_map(|from| {
                    graph[from]
                        .iter()
                        .filter(|to| members.contains(to))
                        .map(move |to| format!("{} → {}", shown(from), shown(to)))
                })
                .collect();
            loops.push(format!("{src}: {}", edges.join(", ")));
        }
    }
    assert!(loops.is_empty(), "import loops:\n  {}", loops.join("\n  "));
}

#[test]
fn the_loop_check_sees_a_loop_through_a_group_import_and_an_inline_module() {
    // `a` names `b` through a group, `b` names `a` from inside an inline module: a loop, found.
    let dir = std::env::temp_dir().join(format!("structure-check-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("a")).unwrap();
    std::fs::write(dir.join("lib.rs"), "pub mod a;\npub mod b;\npub use a::X;\n").unwrap();
    std::fs::write(dir.join("a/mod.rs"), "use crate::{b::Y, a::inner};\npub mod inner;\npub struct X;\n").unwrap();
    std::fs::write(dir.join("a/inner.rs"), "// crate::b::Y in a comment is no edge\npub fn f() {}\n").unwrap();
    std::fs::write(dir.join("b.rs"), "pub struct Y;\nmod nested {\n    fn g() { super::super::a::inner::f() }\n}\n")
        .unwrap();
    let graph = module_graph(&dir);
    let a = vec!["a".to_string()];
    let (b, inner) = (vec!["b".to_string()], vec!["a".to_string(), "inner".to_string()]);
    assert_eq!(graph[&a], BTreeSet::from([b.clone()]), "a's own child is no edge; the comment names nothing");
    assert_eq!(graph[&b], BTreeSet::from([inner.clone()]), "super::super from b::nested is the crate root");
    assert!(cycles(&graph).is_empty(), "a → b → a::inner is no loop");
    std::fs::write(dir.join("a/inner.rs"), "use crate::b::Y;\n").unwrap();
    let found = cycles(&module_graph(&dir));
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(found.len(), 1, "b → a::inner → b is one loop: {found:?}");
    assert_eq!(found[0].iter().collect::<BTreeSet<_>>(), BTreeSet::from([&b, &inner]));
}
