//! Listening TCP sockets of the running system, from `/proc/net/tcp` and `tcp6` (live
//! root only), with the owning process's name where `/proc/<pid>/fd` is readable.

use std::collections::{BTreeSet, HashMap};
use std::fs;
use std::net::{Ipv4Addr, Ipv6Addr};

use rampart_proto::ListeningSocket;

use super::{Context, Problems, clip};

/// The kernel's `TCP_LISTEN` state, as `/proc/net/tcp` prints it.
const LISTEN: &str = "0A";

pub fn collect(ctx: &Context, problems: &mut Problems<'_>) -> Vec<ListeningSocket> {
    if !ctx.is_live() {
        return Vec::new();
    }
    let mut found = Vec::new();
    for protocol in ["tcp", "tcp6"] {
        let path = format!("/proc/net/{protocol}");
        let Ok(text) = fs::read_to_string(&path) else {
            // tcp6 is absent when IPv6 is disabled; that is not a problem.
            continue;
        };
        let (sockets, bad) = parse_proc_net(&text, protocol);
        for b in bad {
            problems.push(format!("{path} {b}"));
        }
        found.extend(sockets);
    }
    let owners = if found.is_empty() {
        HashMap::new()
    } else {
        socket_owners(found.iter().map(|s| s.inode).collect())
    };
    let unique: BTreeSet<(String, String, u16, Option<String>)> = found
        .into_iter()
        .map(|s| {
            let process = owners.get(&s.inode).cloned();
            (s.protocol, s.address, s.port, process)
        })
        .collect();
    unique
        .into_iter()
        .map(|(protocol, address, port, process)| ListeningSocket {
            protocol,
            address,
            port,
            process,
        })
        .collect()
}

/// One listening socket line of `/proc/net/tcp*`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Socket {
    pub protocol: String,
    pub address: String,
    pub port: u16,
    pub inode: u64,
}

/// Parses `/proc/net/tcp` or `tcp6` text (header line, then `sl local rem st … inode`),
/// keeping only sockets in state LISTEN. Addresses are the kernel's `%08X` prints of
/// network-order words read as native integers, hence decoded with native byte order.
pub fn parse_proc_net(text: &str, protocol: &str) -> (Vec<Socket>, Vec<String>) {
    let mut sockets = Vec::new();
    let mut problems = Vec::new();
    for (i, line) in text.lines().enumerate().skip(1) {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.is_empty() {
            continue;
        }
        if f.len() < 10 {
            problems.push(format!("line {}: too few fields: {:?}", i + 1, clip(line)));
            continue;
        }
        if f[3] != LISTEN {
            continue;
        }
        let parsed = f[1]
            .split_once(':')
            .and_then(|(addr, port)| Some((address(addr)?, u16::from_str_radix(port, 16).ok()?)));
        let (Some((address, port)), Ok(inode)) = (parsed, f[9].parse::<u64>()) else {
            problems.push(format!(
                "line {}: bad address or inode: {:?}",
                i + 1,
                clip(line)
            ));
            continue;
        };
        sockets.push(Socket {
            protocol: protocol.to_owned(),
            address,
            port,
            inode,
        });
    }
    (sockets, problems)
}

/// Decodes an 8 (IPv4) or 32 (IPv6) hex digit address.
fn address(hex: &str) -> Option<String> {
    let word = |s: &str| u32::from_str_radix(s, 16).ok().map(u32::to_ne_bytes);
    match hex.len() {
        8 => Some(Ipv4Addr::from(word(hex)?).to_string()),
        32 if hex.is_ascii() => {
            let mut bytes = [0u8; 16];
            for (i, chunk) in bytes.chunks_mut(4).enumerate() {
                chunk.copy_from_slice(&word(&hex[i * 8..i * 8 + 8])?);
            }
            Some(Ipv6Addr::from(bytes).to_string())
        }
        _ => None,
    }
}

/// Maps socket inodes to the name of a process holding them, by reading the
/// `socket:[inode]` links under `/proc/<pid>/fd`. Best effort: other users' processes
/// are unreadable without root.
fn socket_owners(wanted: BTreeSet<u64>) -> HashMap<u64, String> {
    let mut owners = HashMap::new();
    let Ok(procs) = fs::read_dir("/proc") else {
        return owners;
    };
    for entry in procs.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .filter(|n| n.bytes().all(|b| b.is_ascii_digit()))
        else {
            continue;
        };
        let Ok(fds) = fs::read_dir(format!("/proc/{pid}/fd")) else {
            continue;
        };
        for fd in fds.flatten() {
            let Ok(target) = fs::read_link(fd.path()) else {
                continue;
            };
            let Some(inode) = target
                .to_str()
                .and_then(|t| t.strip_prefix("socket:["))
                .and_then(|t| t.strip_suffix(']'))
                .and_then(|t| t.parse::<u64>().ok())
            else {
                continue;
            };
            if wanted.contains(&inode)
                && !owners.contains_key(&inode)
                && let Ok(comm) = fs::read_to_string(format!("/proc/{pid}/comm"))
            {
                owners.insert(inode, comm.trim().to_owned());
            }
        }
        if owners.len() == wanted.len() {
            break;
        }
    }
    owners
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n";

    #[test]
    #[cfg(target_endian = "little")]
    fn tcp4() {
        let text = format!(
            "{HEADER}   0: 3500007F:0035 00000000:0000 0A 00000000:00000000 00:00000000 00000000   101        0 18183 1 0000000000000000 100 0 0 10 0\n\
             \x20  1: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 20001 1 0000000000000000 100 0 0 10 0\n\
             \x20  2: 0F02000A:0016 0202000A:C350 01 00000000:00000000 02:00000E6D 00000000     0        0 22222 4 0000000000000000 20 4 31 10 -1\n"
        );
        let (s, bad) = parse_proc_net(&text, "tcp");
        assert!(bad.is_empty(), "{bad:?}");
        let got: Vec<(&str, u16, u64)> = s
            .iter()
            .map(|s| (s.address.as_str(), s.port, s.inode))
            .collect();
        assert_eq!(got, [("127.0.0.53", 53, 18183), ("0.0.0.0", 22, 20001)]);
    }

    #[test]
    #[cfg(target_endian = "little")]
    fn tcp6() {
        let text = format!(
            "{HEADER}   0: 00000000000000000000000000000000:0016 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 20003 1 0000000000000000 100 0 0 10 0\n\
             \x20  1: 00000000000000000000000001000000:0277 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 20004 1 0000000000000000 100 0 0 10 0\n\
             \x20  2: B80D0120000000000000000001000000:1F90 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 20005 1 0000000000000000 100 0 0 10 0\n\
             \x20  3: 0000000000000000FFFF00000100007F:1F91 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 20006 1 0000000000000000 100 0 0 10 0\n"
        );
        let (s, bad) = parse_proc_net(&text, "tcp6");
        assert!(bad.is_empty(), "{bad:?}");
        let got: Vec<(&str, u16)> = s.iter().map(|s| (s.address.as_str(), s.port)).collect();
        assert_eq!(
            got,
            [
                ("::", 22),
                ("::1", 631),
                ("2001:db8::1", 8080),
                ("::ffff:127.0.0.1", 8081)
            ]
        );
    }

    #[test]
    fn bad_lines_are_problems() {
        let text = format!("{HEADER}   0: zz:0035 00000000:0000 0A 0 0 0 0 0 1\n   1: short\n\n");
        let (s, bad) = parse_proc_net(&text, "tcp");
        assert!(s.is_empty());
        assert_eq!(bad.len(), 2, "{bad:?}");
    }

    proptest::proptest! {
        #[test]
        fn never_panics(text in "(?s).{0,400}") {
            let _ = parse_proc_net(&text, "tcp");
        }

        #[test]
        fn never_panics_on_line_shapes(addr in "[0-9A-Fa-fé]{0,34}", port in "[0-9A-F]{0,6}", st in "0A|01") {
            let _ = parse_proc_net(&format!("h\n 0: {addr}:{port} 0:0 {st} 0 0 0 0 0 7\n"), "tcp6");
        }
    }
}
