//! Text runs → lines, in content-stream order.
//!
//! Stream order is kept (rather than sorting by position) because it follows the reading order of
//! multi-column layouts in the documents we meet; positions only decide where lines break and
//! where a gap is a space.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use super::budget::{Budget, Exceeded};
use super::content::TextRun;

/// One visual line of text.
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    pub text: String,
    /// Dominant font size (device space).
    pub size: f32,
    /// Most of the line's characters are bold.
    pub bold: bool,
    /// Baseline, device space (y grows upwards).
    pub y: f32,
    /// Vertical gap to the previous line, in units of this line's size (0 for the first).
    pub gap_before: f32,
    /// Not horizontal text: margin banners, vertical writing.
    pub rotated: bool,
}

/// Sizes closer than this count as the same size.
const SAME_SIZE: f32 = 0.25;

/// A font size ordered by `f32::total_cmp`, to index sizes in a `BTreeMap`.
#[derive(Clone, Copy)]
struct SizeKey(f32);

impl PartialEq for SizeKey {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for SizeKey {}

impl PartialOrd for SizeKey {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for SizeKey {
    fn cmp(&self, other: &Self) -> Ordering {
        self.0.total_cmp(&other.0)
    }
}

/// Characters per font size in a line, with the dominant size kept up to date: a line of many
/// runs in different sizes costs O(n log n), not O(n²).
#[derive(Default)]
struct Sizes {
    /// Sizes in first-seen order, with their characters.
    entries: Vec<(f32, usize)>,
    /// Index of the finite entries by size.
    by_size: BTreeMap<SizeKey, usize>,
    /// The entry with most characters (the latest on ties).
    dominant: usize,
}

impl Sizes {
    /// Adds `chars` to the first-seen entry within [`SAME_SIZE`] of `size`, or to a new one.
    fn add(&mut self, size: f32, chars: usize) {
        // Entries are at least SAME_SIZE apart, so only a few lie in this window; it is wider
        // than SAME_SIZE so that rounding at its edges cannot miss one.
        let window = SizeKey(size - 2.0 * SAME_SIZE)..=SizeKey(size + 2.0 * SAME_SIZE);
        let found = if size.is_finite() {
            self.by_size
                .range(window)
                .map(|(_, &i)| i)
                .filter(|&i| (self.entries[i].0 - size).abs() < SAME_SIZE)
                .min()
        } else {
            None
        };
        let i = found.unwrap_or_else(|| {
            self.entries.push((size, 0));
            let i = self.entries.len() - 1;
            if size.is_finite() {
                self.by_size.insert(SizeKey(size), i);
            }
            i
        });
        self.entries[i].1 += chars;
        let best = self.entries.get(self.dominant).map_or(0, |e| e.1);
        if self.entries[i].1 > best || (self.entries[i].1 == best && i > self.dominant) {
            self.dominant = i;
        }
    }

    fn dominant(&self) -> f32 {
        self.entries.get(self.dominant).map_or(0.0, |e| e.0)
    }
}

struct Builder {
    text: String,
    rotated: bool,
    y: f32,
    end_x: f32,
    sizes: Sizes,
    bold_chars: usize,
    chars: usize,
}

impl Builder {
    fn new(run: &TextRun) -> Self {
        let mut b = Builder {
            text: String::new(),
            rotated: run.rotated,
            y: run.y,
            end_x: run.end_x,
            sizes: Sizes::default(),
            bold_chars: 0,
            chars: 0,
        };
        b.push(run);
        b
    }

    fn push(&mut self, run: &TextRun) {
        let n = run.text.chars().filter(|c| !c.is_whitespace()).count();
        self.text.push_str(&run.text);
        self.end_x = run.end_x;
        self.chars += n;
        if run.bold {
            self.bold_chars += n;
        }
        self.sizes.add(run.size, n);
    }

    fn size(&self) -> f32 {
        self.sizes.dominant()
    }

    fn finish(self, prev_y: Option<f32>) -> Line {
        let size = self.size();
        let gap_before = match prev_y {
            Some(py) if size > 0.0 => ((py - self.y) / size).max(0.0),
            _ => 0.0,
        };
        Line {
            text: self.text,
            size,
            bold: self.chars > 0 && self.bold_chars * 2 > self.chars,
            y: self.y,
            gap_before,
            rotated: self.rotated,
        }
    }
}

/// Groups runs into lines. A run continues the current line when it sits on the same baseline
/// and does not jump back to the left; a horizontal gap wider than a fraction of the font size
/// becomes a space.
pub fn lines(runs: &[TextRun], budget: &Budget) -> Result<Vec<Line>, Exceeded> {
    let mut out: Vec<Line> = Vec::new();
    let mut current: Option<Builder> = None;
    let mut prev_y: Option<f32> = None;
    for (i, run) in runs.iter().enumerate() {
        budget.tick(i)?;
        if run.text.trim().is_empty() && current.is_none() {
            continue;
        }
        let size = run.size.max(1.0);
        // Rotated text (margin notes, vertical banners) is kept together as one line, so that a
        // banner repeated on every page is recognised as a running line.
        let continues = current.as_ref().is_some_and(|b| {
            if run.rotated || b.rotated {
                return run.rotated && b.rotated;
            }
            (run.y - b.y).abs() < 0.5 * size.max(b.size()) && run.x > b.end_x - 0.8 * size
        });
        if continues {
            if let Some(b) = current.as_mut() {
                let gap = run.x - b.end_x;
                if !run.rotated
                    && gap > 0.15 * size
                    && !b.text.ends_with(char::is_whitespace)
                    && !run.text.starts_with(char::is_whitespace)
                {
                    b.text.push(' ');
                }
                b.push(run);
            }
        } else {
            if let Some(b) = current.take() {
                let y = b.y;
                out.push(b.finish(prev_y));
                prev_y = Some(y);
            }
            current = Some(Builder::new(run));
        }
    }
    if let Some(b) = current {
        out.push(b.finish(prev_y));
    }
    out.retain(|l| !l.text.trim().is_empty());
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pdf::extract::budget::Limits;

    fn sized(text: &str, x: f32, y: f32, end_x: f32, size: f32) -> TextRun {
        TextRun {
            text: text.into(),
            x,
            y,
            end_x,
            size,
            bold: false,
            rotated: false,
        }
    }

    fn run(text: &str, x: f32, y: f32, end_x: f32) -> TextRun {
        sized(text, x, y, end_x, 10.0)
    }

    fn lines(runs: &[TextRun]) -> Vec<Line> {
        super::lines(runs, &Budget::new(Limits::default())).expect("budget")
    }

    #[test]
    fn gaps_become_spaces_and_baselines_break_lines() {
        let runs = [
            run("Reset", 0.0, 700.0, 27.0),
            run("your", 30.0, 700.0, 47.0),
            run("pass", 50.2, 700.0, 70.0),
            run("word.", 70.0, 700.0, 95.0),
            run("Next line", 0.0, 688.0, 45.0),
            run("New paragraph", 0.0, 660.0, 60.0),
        ];
        let lines = lines(&runs);
        let texts: Vec<&str> = lines.iter().map(|l| l.text.as_str()).collect();
        assert_eq!(
            texts,
            ["Reset your password.", "Next line", "New paragraph"]
        );
        assert!(lines[1].gap_before < 1.5);
        assert!(lines[2].gap_before > 2.0);
    }

    #[test]
    fn dominant_size_is_the_first_seen_close_size_with_most_characters() {
        let runs = [
            sized("ab", 0.0, 700.0, 10.0, 10.0),
            sized("cd", 10.0, 700.0, 20.0, 12.0),
            sized("e", 20.0, 700.0, 25.0, 10.2),
            sized("fgh", 25.0, 700.0, 40.0, 12.1),
            sized("ij", 40.0, 700.0, 50.0, f32::NAN),
        ];
        assert_eq!(lines(&runs)[0].size, 12.0);
        let tie = [
            sized("ab", 0.0, 700.0, 10.0, 10.0),
            sized("cd", 10.0, 700.0, 20.0, 11.0),
        ];
        assert_eq!(lines(&tie)[0].size, 11.0);
    }

    /// 40 000 runs on one baseline, each in its own size: quadratic grouping took seconds.
    #[test]
    fn many_sizes_on_one_line_stay_fast() {
        let runs: Vec<TextRun> = (0..40_000)
            .map(|i| sized("x", i as f32, 700.0, i as f32 + 0.5, 5.0 + i as f32 * 0.3))
            .collect();
        let start = std::time::Instant::now();
        let lines = lines(&runs);
        assert_eq!(lines.len(), 1);
        assert!(
            start.elapsed() < std::time::Duration::from_millis(500),
            "{:?}",
            start.elapsed()
        );
    }
}
