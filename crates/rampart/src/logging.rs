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

use std::io::{self, Write};

use tracing_subscriber::fmt::MakeWriter;

/// A [`MakeWriter`] whose writers keep each event on one line.
#[derive(Clone, Copy, Debug)]
pub(crate) struct OneLine<M>(pub(crate) M);

impl<'a, M: MakeWriter<'a>> MakeWriter<'a> for OneLine<M> {
    type Writer = OneLineWriter<M::Writer>;

    fn make_writer(&'a self) -> Self::Writer {
        OneLineWriter(self.0.make_writer())
    }
}

/// See [`OneLine`]. The formatter hands it one whole event per `write` call.
pub(crate) struct OneLineWriter<W>(W);

impl<W: Write> Write for OneLineWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.write_all(&escape_event(buf))?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}

/// `event` with every control character but a trailing newline, tabs and SGR colour
/// sequences escaped.
pub(crate) fn escape_event(event: &[u8]) -> Vec<u8> {
    let (body, newline) = match event.strip_suffix(b"\n") {
        Some(body) => (body, true),
        None => (event, false),
    };
    let mut out = Vec::with_capacity(event.len() + 8);
    let mut i = 0;
    while i < body.len() {
        let c = body[i];
        if c == 0x1b
            && let Some(len) = sgr_len(&body[i..])
        {
            out.extend_from_slice(&body[i..i + len]);
            i += len;
            continue;
        }
        match c {
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.push(c),
            c if c < 0x20 || c == 0x7f => {
                let _ = write!(out, "\\x{c:02x}");
            }
            c => out.push(c),
        }
        i += 1;
    }
    if newline {
        out.push(b'\n');
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
        assert_eq!(
            String::from_utf8_lossy(&escape_event(input)),
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
    }
}
