//! Text runs → lines, in content-stream order.
//!
//! Stream order is kept (rather than sorting by position) because it follows the reading order of
//! multi-column layouts in the documents we meet; positions only decide where lines break and
//! where a gap is a space.

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

struct Builder {
    text: String,
    rotated: bool,
    y: f32,
    end_x: f32,
    size_chars: Vec<(f32, usize)>,
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
            size_chars: Vec::new(),
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
        match self
            .size_chars
            .iter_mut()
            .find(|(s, _)| (s - run.size).abs() < 0.25)
        {
            Some(entry) => entry.1 += n,
            None => self.size_chars.push((run.size, n)),
        }
    }

    fn size(&self) -> f32 {
        self.size_chars
            .iter()
            .max_by_key(|(_, n)| *n)
            .map_or(0.0, |(s, _)| *s)
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
pub fn lines(runs: &[TextRun]) -> Vec<Line> {
    let mut out: Vec<Line> = Vec::new();
    let mut current: Option<Builder> = None;
    let mut prev_y: Option<f32> = None;
    for run in runs {
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
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(text: &str, x: f32, y: f32, end_x: f32) -> TextRun {
        TextRun {
            text: text.into(),
            x,
            y,
            end_x,
            size: 10.0,
            bold: false,
            rotated: false,
        }
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
}
