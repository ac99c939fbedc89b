//! How often each forbidden call name occurs in a text as a whole dotted name: `os.system(` counts,
//! `myos.system`, `self.os.system` and `os.systems` do not.

use aho_corasick::AhoCorasick;

/// The names of a policy's forbidden calls, ready to be counted in texts.
#[derive(Debug, Clone)]
pub struct CallFinder {
    names: Vec<String>,
    how: How,
}

#[derive(Debug, Clone)]
enum How {
    /// Every name holds a `.` after its first character (the defaults do): an occurrence is found at its first
    /// dot. Dots are found many bytes at a time and most are passed over on the byte before them, which must
    /// end the part before some name's dot; an automaton would take a step at every byte.
    Dotted { dots: Vec<usize>, ends: Box<[bool; 256]> },
    /// One Aho-Corasick pass over every occurrence of every name.
    Any(AhoCorasick),
}

impl CallFinder {
    pub fn new(names: &[String]) -> Result<CallFinder, aho_corasick::BuildError> {
        let dots: Option<Vec<usize>> = names.iter().map(|name| name.find('.').filter(|&dot| dot > 0)).collect();
        let how = match dots {
            Some(dots) => {
                let mut ends = Box::new([false; 256]);
                for (name, dot) in names.iter().zip(&dots) {
                    ends[usize::from(name.as_bytes()[dot - 1])] = true;
                }
                How::Dotted { dots, ends }
            }
            None => How::Any(AhoCorasick::new(names)?),
        };
        Ok(CallFinder { names: names.to_vec(), how })
    }

    /// Occurrences of each name, in the order the names were given.
    pub fn count(&self, text: &str) -> Vec<usize> {
        let bytes = text.as_bytes();
        let mut counts = vec![0; self.names.len()];
        match &self.how {
            How::Dotted { dots, ends } => {
                for at in memchr::memchr_iter(b'.', bytes) {
                    if at == 0 || !ends[usize::from(bytes[at - 1])] {
                        continue;
                    }
                    for (i, (name, dot)) in self.names.iter().zip(dots).enumerate() {
                        let Some(start) = at.checked_sub(*dot) else { continue };
                        if bytes[start..].starts_with(name.as_bytes()) && whole(bytes, start, start + name.len()) {
                            counts[i] += 1;
                        }
                    }
                }
            }
            // An occurrence that overlaps an earlier one of the same name has a character of the name (an
            // identifier character, `.` or `:`) before it, so it is never a whole name and never counted.
            How::Any(finder) => {
                for found in finder.find_overlapping_iter(text) {
                    if whole(bytes, found.start(), found.end()) {
                        counts[found.pattern().as_usize()] += 1;
                    }
                }
            }
        }
        counts
    }
}

/// Whether `bytes[start..end]` stands alone as a dotted name: no identifier character, `.` or `:` before it
/// and no identifier character after it (a byte of a non-ASCII character is neither).
fn whole(bytes: &[u8], start: usize, end: usize) -> bool {
    let identifier = |b: u8| b.is_ascii_alphanumeric() || b == b'_' || b == b'$';
    let before = start.checked_sub(1).map(|at| bytes[at]);
    !before.is_some_and(|b| identifier(b) || b == b'.' || b == b':') && !bytes.get(end).is_some_and(|&b| identifier(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(names: &[&str], text: &str) -> (Vec<usize>, Vec<usize>) {
        let names: Vec<String> = names.iter().map(|name| (*name).to_owned()).collect();
        let finder = CallFinder::new(&names).unwrap();
        let any = CallFinder { names: names.clone(), how: How::Any(AhoCorasick::new(&names).unwrap()) };
        (finder.count(text), any.count(text))
    }

    #[test]
    fn counts_whole_dotted_names_only() {
        let (dotted, any) = counts(&["os.system"], "os.system(x); os.system");
        assert_eq!((dotted, any), (vec![2], vec![2]));
        for miss in ["myos.system(x)", "self.os.system(x)", "os.systems(x)", "x:os.system", "_os.system", "$os.system"]
        {
            assert_eq!(counts(&["os.system"], miss), (vec![0], vec![0]), "{miss}");
        }
        assert_eq!(counts(&["urllib.request"], "(urllib.request.urlopen(u))").0, vec![1]);
    }

    #[test]
    fn finds_from_the_dot_what_the_automaton_finds() {
        let names = ["os.system", "os.sys", "subprocess.run", "a.b.c", "b.c", "é.x", "pathlib.Path.unlink"];
        let text = "os.system os.sys(1) é.x a.b.c.d b.c xb.c\nsubprocess.run\tpathlib.Path.unlink() .os.system é.xy \
                    os..system a.b.c a.b. os.system";
        let (dotted, any) = counts(&names, text);
        assert_eq!(dotted, any);
        assert_eq!(dotted, vec![2, 1, 1, 2, 1, 1, 1]);
        // A name without a dot after its first character: the automaton alone.
        let (with_plain, any) = counts(&["eval", "os.system"], "eval(x) os.system(y) evaluate");
        assert_eq!((with_plain.clone(), any), (vec![1, 1], vec![1, 1]));
        assert!(matches!(CallFinder::new(&["eval".to_owned()]).unwrap().how, How::Any(_)));
        assert!(matches!(CallFinder::new(&[".x".to_owned()]).unwrap().how, How::Any(_)));
    }
}
