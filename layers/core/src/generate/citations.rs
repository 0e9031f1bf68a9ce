//! Citations `[n]` in a generated answer, checked against the passages that were given.

/// The answer with citations to passages that were not given removed, the cited passage
/// numbers (1-based, first citation first, no repeats) and how many citations were dropped.
#[derive(Debug, Clone, PartialEq)]
pub struct Cited {
    pub text: String,
    pub cited: Vec<usize>,
    pub dropped: usize,
}

/// Checks every `[n]` (also `[1, 2]` and `[1][2]`) against `given` passages.
pub fn check(answer: &str, given: usize) -> Cited {
    let mut text = String::with_capacity(answer.len());
    let mut cited = Vec::new();
    let mut dropped = 0;
    let mut rest = answer;
    while let Some(open) = rest.find('[') {
        text.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let Some(close) = after.find(']') else {
            text.push_str(&rest[open..]);
            rest = "";
            break;
        };
        let inside = &after[..close];
        let numbers: Option<Vec<usize>> = inside
            .split(',')
            .map(|n| n.trim().parse::<usize>().ok())
            .collect();
        match numbers {
            Some(numbers) if !numbers.is_empty() => {
                let valid: Vec<usize> = numbers
                    .iter()
                    .copied()
                    .filter(|n| (1..=given).contains(n))
                    .collect();
                dropped += numbers.len() - valid.len();
                for n in &valid {
                    if !cited.contains(n) {
                        cited.push(*n);
                    }
                }
                if !valid.is_empty() {
                    let list: Vec<String> = valid.iter().map(usize::to_string).collect();
                    text.push_str(&format!("[{}]", list.join(", ")));
                }
            }
            // Not a citation ("[sic]", "[Ctrl]"): kept as written.
            _ => text.push_str(&rest[open..open + close + 2]),
        }
        rest = &after[close + 1..];
    }
    text.push_str(rest);
    Cited {
        text: text.replace(" .", ".").trim().to_string(),
        cited,
        dropped,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_valid_citations_and_drops_the_others() {
        let c = check(
            "Open the VPN client [2]. Then sign in [1, 7][2]. Press [Ctrl] [9].",
            3,
        );
        assert_eq!(c.cited, [2, 1]);
        assert_eq!(c.dropped, 2);
        assert_eq!(
            c.text,
            "Open the VPN client [2]. Then sign in [1][2]. Press [Ctrl]."
        );
    }

    #[test]
    fn text_without_citations_is_unchanged() {
        let c = check("Je n'ai pas cette information dans la documentation.", 5);
        assert!(c.cited.is_empty());
        assert_eq!(c.dropped, 0);
        assert_eq!(
            c.text,
            "Je n'ai pas cette information dans la documentation."
        );
        assert_eq!(check("unclosed [1", 1).text, "unclosed [1");
    }
}
