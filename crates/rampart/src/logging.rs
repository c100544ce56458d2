//! The log's last line of defence against forged entries: every event is written as
//! exactly one line. Fields carry text from clients (login names, host names, URLs,
//! error messages that quote them); a value holding a newline could otherwise start a
//! line of its own that reads like a real entry (`INFO … logged in user=admin`), and
//! terminal escape sequences could rewrite what an operator sees.
//!
//! [`OneLine`] wraps the log writer: inside an event, CR, LF and every other control
//! character are written as visible escapes (`\n`, `\x1b`); only the event's final
//! newline stays. Colour codes the formatter itself emits (`ESC [ digits m`) pass
//! unchanged, so an interactive terminal keeps its colours — a value can at most
//! colour its own text. JSON logs are already escaped by the encoder and pass through
//! the same writer unchanged.

use std::fmt::Write as _;
use std::io::{self, Write};

use tracing_subscriber::fmt::MakeWriter;

/// A [`MakeWriter`] whose writers keep each event on one line. `colours`: the
/// formatter writes colour codes (an interactive terminal), which then pass; otherwise
/// every escape is escaped.
#[derive(Clone, Copy, Debug)]
pub(crate) struct OneLine<M> {
    pub(crate) inner: M,
    pub(crate) colours: bool,
}

impl<'a, M: MakeWriter<'a>> MakeWriter<'a> for OneLine<M> {
    type Writer = OneLineWriter<M::Writer>;

    fn make_writer(&'a self) -> Self::Writer {
        OneLineWriter {
            inner: self.inner.make_writer(),
            colours: self.colours,
        }
    }
}

/// See [`OneLine`]. The formatter hands it one whole event per `write` call.
pub(crate) struct OneLineWriter<W> {
    inner: W,
    colours: bool,
}

impl<W: Write> Write for OneLineWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.inner
            .write_all(escape_event(buf, self.colours).as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// `event` with every control character (C0, DEL, C1) and the Unicode line and
/// paragraph separators escaped, but for a trailing newline, tabs and, with `colours`,
/// SGR colour sequences. Bytes that are not UTF-8 become U+FFFD.
pub(crate) fn escape_event(event: &[u8], colours: bool) -> String {
    let text = String::from_utf8_lossy(event);
    let (body, newline) = match text.strip_suffix('\n') {
        Some(body) => (body, true),
        None => (&*text, false),
    };
    let mut out = String::with_capacity(event.len() + 8);
    let mut rest = body;
    while let Some(c) = rest.chars().next() {
        if c == '\x1b'
            && colours
            && let Some(len) = sgr_len(rest.as_bytes())
        {
            out.push_str(&rest[..len]);
            rest = &rest[len..];
            continue;
        }
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push(c),
            c if c.is_control() => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            '\u{2028}' | '\u{2029}' => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
        rest = &rest[c.len_utf8()..];
    }
    if newline {
        out.push('\n');
    }
    out
}

/// The length of a colour sequence (`ESC [ 0-9; m`) at the start of `s`.
fn sgr_len(s: &[u8]) -> Option<usize> {
    let rest = s.strip_prefix(b"\x1b[")?;
    let params = rest
        .iter()
        .take_while(|b| b.is_ascii_digit() || **b == b';')
        .count();
    (rest.get(params) == Some(&b'm') && params <= 16).then_some(2 + params + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(input: &[u8], expected: &[u8]) {
        check_with(input, expected, true);
    }

    fn check_with(input: &[u8], expected: &[u8], colours: bool) {
        assert_eq!(
            escape_event(input, colours),
            String::from_utf8_lossy(expected)
        );
    }

    #[test]
    fn an_event_stays_one_line() {
        check(b"INFO logged in name=a\n", b"INFO logged in name=a\n");
        check(
            b"WARN failed name=x\nINFO logged in user=admin\n",
            b"WARN failed name=x\\nINFO logged in user=admin\n",
        );
        check(b"a\r\nb\n", b"a\\r\\nb\n");
        check(b"nul\0bell\x07del\x7f\n", b"nul\\x00bell\\x07del\\x7f\n");
        check(b"tab\tok\n", b"tab\tok\n");
        check(b"no newline", b"no newline");
    }

    #[test]
    fn colours_pass_and_other_escapes_do_not() {
        check(b"\x1b[32mINFO\x1b[0m x\n", b"\x1b[32mINFO\x1b[0m x\n");
        check(b"\x1b[1;31mred\x1b[m\n", b"\x1b[1;31mred\x1b[m\n");
        // Cursor movement and screen clearing are not colours.
        check(b"a\x1b[2J\x1b[1Ab\n", b"a\\x1b[2J\\x1b[1Ab\n");
        check(b"a\x1b]0;title\x07\n", b"a\\x1b]0;title\\x07\n");
        check(b"trailing \x1b\n", b"trailing \\x1b\n");
        // Without colours (a file, the journal) even colour codes are escaped: a value
        // could hide the rest of its line with `ESC[8m`.
        check_with(b"a\x1b[8mhidden\n", b"a\\x1b[8mhidden\n", false);
    }

    #[test]
    fn unicode_line_breaks_and_c1_controls_are_escaped() {
        check(
            "a\u{85}b\u{2028}c\u{2029}d\u{9b}2J\n".as_bytes(),
            b"a\\x85b\\u{2028}c\\u{2029}d\\x9b2J\n",
        );
        check(
            "caf\u{e9} \u{1f512}\n".as_bytes(),
            "caf\u{e9} \u{1f512}\n".as_bytes(),
        );
    }
}
