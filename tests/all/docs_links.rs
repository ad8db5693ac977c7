//! The book (`docs/src/`) and the README have no broken internal link: every
//! relative link (and `{{#include}}`) names a file that exists, every `#anchor` a
//! heading of the page it points into (with mdBook's heading ids), and every
//! chapter is in `SUMMARY.md`. `mdbook build` alone only warns about some of these and is
//! silent about anchors, so this is what fails the test command on a broken
//! link.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::support::{Sandbox, repo_root};

/// The id mdBook (and GitHub) gives a heading: lower case, whitespace to `-`,
/// every character but letters, digits, `-` and `_` dropped.
fn heading_id(text: &str) -> String {
    text.chars()
        .filter_map(|c| match c {
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c.to_lowercase().next().unwrap_or(c)),
            c if c.is_whitespace() => Some('-'),
            _ => None,
        })
        .collect()
}

/// The lines of a Markdown text outside fenced code blocks, with their numbers.
fn prose_lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    let mut fenced = false;
    text.lines().enumerate().filter_map(move |(n, line)| {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            return None;
        }
        (!fenced).then_some((n + 1, line))
    })
}

/// A line without its inline code spans (`` `…` ``), which hold no links.
fn without_code(line: &str) -> String {
    line.split('`').step_by(2).collect::<Vec<_>>().join(" ")
}

/// The ids of a page's headings, numbered `-1`, `-2` … when repeated, as mdBook does.
fn anchors(text: &str) -> BTreeSet<String> {
    let mut ids = BTreeSet::new();
    for (_, line) in prose_lines(text) {
        let Some(title) = line.strip_prefix('#').map(|t| t.trim_start_matches('#')) else { continue };
        if !title.starts_with(' ') {
            continue;
        }
        let base = heading_id(&title.trim().replace('`', ""));
        let mut id = base.clone();
        let mut n = 0;
        while ids.contains(&id) {
            n += 1;
            id = format!("{base}-{n}");
        }
        ids.insert(id);
    }
    ids
}

/// Every `[text](target)` link of a page that is not a web or mail address, and
/// every file an mdBook `{{#include PATH}}` pulls in (in code blocks too).
fn relative_links(text: &str) -> Vec<(usize, String)> {
    let mut links: Vec<(usize, String)> = text
        .lines()
        .enumerate()
        .filter_map(|(n, line)| {
            let rest = line.trim().strip_prefix("{{#include ")?.strip_suffix("}}")?;
            Some((n + 1, rest.split(':').next().unwrap_or(rest).trim().to_owned()))
        })
        .collect();
    for (n, line) in prose_lines(text) {
        let line = without_code(line);
        for rest in line.split("](").skip(1) {
            let target = rest.split(')').next().unwrap_or("");
            let target = target.split_whitespace().next().unwrap_or("");
            if !target.contains("://") && !target.starts_with("mailto:") {
                links.push((n, target.to_owned()));
            }
        }
    }
    links
}

/// What is wrong with the relative links of `page`, one line each.
fn broken_links(page: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(page).unwrap_or_else(|e| panic!("{}: {e}", page.display()));
    let dir = page.parent().expect("a page is in a directory");
    let mut broken = Vec::new();
    for (line, target) in relative_links(&text) {
        let (path, anchor) = target.split_once('#').unwrap_or((&target, ""));
        let file: PathBuf = if path.is_empty() { page.to_owned() } else { dir.join(path) };
        let at = format!("{}:{line}: `{target}`", page.display());
        if !file.exists() {
            broken.push(format!("{at}: no such file {}", file.display()));
            continue;
        }
        if anchor.is_empty() {
            continue;
        }
        if file.extension().is_none_or(|e| e != "md") {
            broken.push(format!("{at}: an anchor into a file that is not Markdown"));
            continue;
        }
        let headings = anchors(&std::fs::read_to_string(&file).expect("a Markdown file reads"));
        if !headings.contains(anchor) {
            broken.push(format!("{at}: no heading `#{anchor}` in {} (it has: {headings:?})", file.display()));
        }
    }
    broken
}

fn chapters() -> Vec<PathBuf> {
    let src = repo_root().join("docs/src");
    let mut pages: Vec<_> = std::fs::read_dir(&src)
        .expect("docs/src exists")
        .map(|e| e.expect("a directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    pages.sort();
    pages
}

#[test]
fn every_internal_link_of_the_book_and_the_readme_resolves() {
    let mut pages = chapters();
    pages.push(repo_root().join("README.md"));
    let broken: Vec<String> = pages.iter().flat_map(|p| broken_links(p)).collect();
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

#[test]
fn every_chapter_is_in_the_summary() {
    let summary = std::fs::read_to_string(repo_root().join("docs/src/SUMMARY.md")).expect("SUMMARY.md");
    let listed: BTreeSet<String> = relative_links(&summary).into_iter().map(|(_, t)| t).collect();
    let missing: Vec<String> = chapters()
        .iter()
        .filter_map(|p| p.file_name()?.to_str().map(str::to_owned))
        .filter(|name| name != "SUMMARY.md" && !listed.contains(name))
        .collect();
    assert!(missing.is_empty(), "chapters mdBook would not build (not in SUMMARY.md): {missing:?}");
}

#[test]
fn the_checker_finds_a_missing_file_and_a_missing_anchor() {
    let sb = Sandbox::new();
    sb.write("a.md", "# A\n\n## Two words: `code`\n\n## Two words: `code`\n");
    let page = sb.write(
        "b.md",
        "# B\n\n[ok](a.md#two-words-code) [ok too](a.md#two-words-code-1) [self](#b)\n\
         [gone](c.md) [no anchor](a.md#three) `[in code](d.md)`\n\
         ```yaml\n[in a fence](e.md)\n{{#include a.md}}\n{{#include f.yml}}\n```\n[web](https://example.com/x.md)\n",
    );
    let broken = broken_links(&page);
    assert_eq!(broken.len(), 3, "{broken:#?}");
    assert!(broken[0].contains("`f.yml`: no such file"), "{broken:#?}");
    assert!(broken[1].contains("`c.md`: no such file"), "{broken:#?}");
    assert!(broken[2].contains("no heading `#three`"), "{broken:#?}");
}
