use std::io::Write;

use proptest::prelude::*;

use super::*;

const REPOMD: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<repomd xmlns="http://linux.duke.edu/metadata/repo" xmlns:rpm="http://linux.duke.edu/metadata/rpm">
  <revision>1711111111</revision>
  <data type="primary">
    <checksum type="sha256">aa</checksum>
    <location href="repodata/aa-primary.xml.zst"/>
  </data>
  <data type="primary_db"><location href="repodata/bb-primary.sqlite.bz2"/></data>
  <data type="updateinfo_zck"><location href="repodata/cc-updateinfo.xml.zck"/></data>
  <data type="updateinfo"><location href="repodata/dd-updateinfo.xml.xz"/></data>
  <data type="filelists"><location href="repodata/ee-filelists.xml.gz"/></data>
</repomd>"#;

#[test]
fn repomd_names_primary_and_updateinfo() {
    assert_eq!(
        parse_repomd(REPOMD.as_bytes()).unwrap(),
        RepoMd {
            primary: Some("repodata/aa-primary.xml.zst".into()),
            primary_db: Some("repodata/bb-primary.sqlite.bz2".into()),
            updateinfo: Some("repodata/dd-updateinfo.xml.xz".into()),
        }
    );
    assert!(parse_repomd(b"<repomd><data type=\"primary\">").is_ok());
    let err = parse_repomd(b"<repomd><data type=\"primary\"></repomd>").unwrap_err();
    assert!(err.starts_with("malformed XML"), "{err}");
}

fn package(name: &str, arch: &str, version: &str) -> String {
    format!(
        "<package type=\"rpm\"><name>{name}</name><arch>{arch}</arch>{version}\
         <summary>s</summary><format><rpm:provides><rpm:entry name=\"other\" flags=\"EQ\" epoch=\"0\" ver=\"9\" rel=\"9\"/></rpm:provides>\
         <rpm:sourcerpm>{name}-src.rpm</rpm:sourcerpm></format></package>\n"
    )
}

fn primary(packages: &[String]) -> String {
    format!(
        "<?xml version=\"1.0\"?>\n<metadata xmlns=\"http://linux.duke.edu/metadata/common\" \
         xmlns:rpm=\"http://linux.duke.edu/metadata/rpm\" packages=\"{}\">\n{}</metadata>\n",
        packages.len(),
        packages.concat()
    )
}

fn pkg(name: &str, arch: &str, evr: &str) -> RpmPackage {
    RpmPackage {
        name: name.into(),
        arch: arch.into(),
        evr: evr.into(),
    }
}

fn check_primary(xml: &str, expected: &[RpmPackage], problems: usize) {
    let (got, bad) = parse_primary(xml.as_bytes(), |n| n != "unwanted");
    assert_eq!(got, expected);
    assert_eq!(bad.len(), problems, "{bad:?}");
}

#[test]
fn primary_packages() {
    let xml = primary(&[
        package(
            "bash",
            "x86_64",
            r#"<version epoch="0" ver="5.2.26" rel="3.fc40"/>"#,
        ),
        package(
            "bash",
            "i686",
            r#"<version epoch="0" ver="5.2.26" rel="3.fc40"/>"#,
        ),
        package(
            "tzdata",
            "noarch",
            r#"<version epoch="0" ver="2024a" rel="5.fc40"/>"#,
        ),
        package(
            "perl-Time",
            "noarch",
            r#"<version epoch="1" ver="1.9~rc1" rel="1"/>"#,
        ),
        package(
            "nginx",
            "x86_64",
            r#"<version epoch="2" ver="1.24.0" rel="1.module+el8.9.0+1&amp;2"/>"#,
        ),
        package(
            "unwanted",
            "x86_64",
            r#"<version epoch="0" ver="1" rel="1"/>"#,
        ),
        // The entry inside <format> must not replace the package's version.
        package("nover", "x86_64", ""),
        package("a&lt;b", "x86_64", r#"<version ver="1"></version>"#),
    ]);
    check_primary(
        &xml,
        &[
            pkg("bash", "x86_64", "5.2.26-3.fc40"),
            pkg("bash", "i686", "5.2.26-3.fc40"),
            pkg("tzdata", "noarch", "2024a-5.fc40"),
            pkg("perl-Time", "noarch", "1:1.9~rc1-1"),
            pkg("nginx", "x86_64", "2:1.24.0-1.module+el8.9.0+1&2"),
            pkg("a<b", "x86_64", "1"),
        ],
        1,
    );
}

#[test]
fn malformed_primary_keeps_what_came_before() {
    let good = package("ok", "noarch", r#"<version epoch="0" ver="1" rel="1"/>"#);
    let xml = format!("<metadata>{good}<package><name>x</arch></package></metadata>");
    let (got, bad) = parse_primary(xml.as_bytes(), |_| true);
    assert_eq!(got, [pkg("ok", "noarch", "1-1")]);
    assert_eq!(bad.len(), 1);
    assert!(bad[0].starts_with("malformed XML"), "{bad:?}");
    // Not XML at all: no package, no panic.
    check_primary("\u{0}\u{1}garbage<<<", &[], 1);
    check_primary("", &[], 0);
}

const UPDATEINFO: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<updates>
  <update from="updates@fedoraproject.org" status="stable" type="security" version="2.0">
    <id>FEDORA-2024-1</id>
    <title>openssl security update</title>
    <severity>Important</severity>
    <references><reference href="https://x" id="CVE-2024-1" type="cve" title="t"/></references>
    <pkglist><collection short="F40"><name>Fedora 40</name>
      <package name="openssl" version="3.2.1" release="2.fc40" epoch="1" arch="x86_64" src="x">
        <filename>openssl-3.2.1-2.fc40.x86_64.rpm</filename></package>
      <package name="openssl-libs" version="3.2.1" release="2.fc40" epoch="1" arch="i686"/>
      <package name="unwanted" version="1" release="1" epoch="0" arch="noarch"/>
    </collection></pkglist>
  </update>
  <update type="bugfix"><id>FEDORA-2024-2</id><severity/>
    <pkglist><collection><package name="bash" version="5.2.26" release="4.fc40" epoch="0" arch="x86_64"/>
      <package version="1" arch="x86_64"/></collection></pkglist>
  </update>
  <update type="security"><id>ONLY-UNWANTED</id><pkglist><collection>
    <package name="unwanted" version="1" release="1" epoch="0" arch="noarch"/></collection></pkglist></update>
</updates>"#;

#[test]
fn updateinfo_advisories() {
    let (got, bad) = parse_updateinfo(UPDATEINFO.as_bytes(), |n| n != "unwanted");
    assert_eq!(
        got,
        [
            Advisory {
                id: "FEDORA-2024-1".into(),
                kind: "security".into(),
                severity: Some("Important".into()),
                packages: vec![
                    pkg("openssl", "x86_64", "1:3.2.1-2.fc40"),
                    pkg("openssl-libs", "i686", "1:3.2.1-2.fc40"),
                ],
            },
            Advisory {
                id: "FEDORA-2024-2".into(),
                kind: "bugfix".into(),
                severity: None,
                packages: vec![pkg("bash", "x86_64", "5.2.26-4.fc40")],
            },
        ]
    );
    assert!(got[0].is_security() && !got[1].is_security());
    assert_eq!(bad.len(), 1, "{bad:?}");
    assert!(bad[0].contains("FEDORA-2024-2"), "{bad:?}");

    let cut = &UPDATEINFO[..UPDATEINFO.find("<update type=\"bugfix\">").unwrap() + 30];
    let (got, bad) = parse_updateinfo(cut.as_bytes(), |_| true);
    assert_eq!(got.len(), 1);
    assert_eq!(
        bad.len(),
        0,
        "a truncated file ends without a closing tag: {bad:?}"
    );
}

#[test]
fn evr_formatting_follows_dnf() {
    assert_eq!(evr("0", "1.0", "1"), "1.0-1");
    assert_eq!(evr("", "1.0", "1"), "1.0-1");
    assert_eq!(evr("00", "1.0", ""), "1.0");
    assert_eq!(evr("3", "1.0", "1"), "3:1.0-1");
}

fn read_all(path: &str, bytes: &[u8]) -> Result<String, String> {
    let mut out = String::new();
    decompressed(path, bytes)?
        .read_to_string(&mut out)
        .map_err(|e| e.to_string())?;
    Ok(out)
}

#[test]
fn decompression_by_extension() {
    let text = primary(&[package("a", "noarch", r#"<version ver="1" rel="1"/>"#)]);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(text.as_bytes()).unwrap();
    let gz = gz.finish().unwrap();
    let mut xz = Vec::new();
    lzma_rs::xz_compress(&mut text.as_bytes(), &mut xz).unwrap();
    let zst = ruzstd::encoding::compress_to_vec(
        text.as_bytes(),
        ruzstd::encoding::CompressionLevel::Fastest,
    );
    for (path, bytes) in [
        ("p.xml", text.as_bytes()),
        ("p.xml.gz", &gz[..]),
        ("p.xml.xz", &xz[..]),
        ("p.xml.zst", &zst[..]),
    ] {
        assert_eq!(read_all(path, bytes).unwrap(), text, "{path}");
    }
    assert!(
        read_all("p.sqlite.bz2", b"BZh9")
            .unwrap_err()
            .contains(".bz2")
    );
    assert!(read_all("p.xml.zst", b"not zstd").is_err());
    assert!(read_all("p.xml.xz", b"not xz").is_err());
    // A gzip stream that breaks: an I/O error while reading, which the XML parser
    // turns into a problem.
    let (_, bad) = parse_primary(decompressed("p.gz", &gz[..gz.len() / 2]).unwrap(), |_| true);
    assert_eq!(bad.len(), 1, "{bad:?}");
}

proptest! {
    #[test]
    fn parsers_never_panic_on_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = parse_repomd(&bytes);
        let _ = parse_primary(&bytes[..], |_| true);
        let _ = parse_updateinfo(&bytes[..], |_| true);
        for ext in ["x.gz", "x.xz", "x.zst", "x"] {
            if let Ok(r) = decompressed(ext, &bytes) {
                let _ = parse_primary(r, |_| true);
            }
        }
    }

    #[test]
    fn parsers_never_panic_on_xmlish_text(parts in proptest::collection::vec(
        prop_oneof![
            Just("<package>"), Just("</package>"), Just("<name>"), Just("</name>"),
            Just("<arch>"), Just("</arch>"), Just("<version ver=\"1\" epoch=\"x\"/>"),
            Just("<update type=\"security\">"), Just("</update>"), Just("<id>"), Just("</id>"),
            Just("<package name=\"a\" version=\"1\" arch=\"noarch\"/>"), Just("&amp;"),
            Just("&#0;"), Just("&bogus;"), Just("<![CDATA[x]]>"), Just("a"), Just("<"),
            Just("<data type=\"primary\">"), Just("<location href=\"h\"/>"), Just("</data>"),
        ], 0..40)) {
        let text = parts.concat();
        let _ = parse_repomd(text.as_bytes());
        let _ = parse_primary(text.as_bytes(), |_| true);
        let _ = parse_updateinfo(text.as_bytes(), |_| true);
    }
}
