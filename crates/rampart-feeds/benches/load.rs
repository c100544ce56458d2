//! Load throughput for a large generated feed, the size of a real distribution export:
//! 100,000 OSV records (Debian-style ranges, Ubuntu-style version lists, CVSS vectors,
//! a paragraph of details) as an OSV `all.zip` and as a directory tree, plus the real
//! Alpine secdb files. The budget is "a few seconds" for 100,000 records on 2 cores.

use std::fs;
use std::hint::black_box;
use std::io::Write;
use std::path::Path;
use std::time::Instant;

use criterion::{Criterion, Throughput};
use rampart_feeds::{LoadOptions, load};

const RECORDS: usize = 100_000;

fn record(i: usize) -> String {
    let details = "A flaw was found in the handling of crafted input that could allow a remote \
                   attacker to cause a denial of service or possibly execute arbitrary code. ";
    match i % 3 {
        0 => format!(
            r#"{{"id":"DSA-{i}-1","summary":"pkg{i} - security update","aliases":["CVE-2024-{i}"],
            "published":"2024-01-01T00:00:00Z","modified":"2024-01-02T00:00:00Z","details":"{details}{details}",
            "affected":[{{"package":{{"ecosystem":"Debian:12","name":"pkg{i}"}},
              "ranges":[{{"type":"ECOSYSTEM","events":[{{"introduced":"0"}},{{"fixed":"1.{i}-1+deb12u1"}}]}}]}},
              {{"package":{{"ecosystem":"Debian:11","name":"pkg{i}"}},
              "ranges":[{{"type":"ECOSYSTEM","events":[{{"introduced":"0"}},{{"fixed":"1.{i}-1~deb11u1"}}]}}]}}],
            "references":[{{"type":"ADVISORY","url":"https://example.org/dsa-{i}"}}]}}"#
        ),
        1 => {
            let versions: Vec<String> = (0..40)
                .map(|v| format!("\"5.15.0-{v}.{}\"", v + 10))
                .collect();
            format!(
                r#"{{"schema_version":"1.7.3","id":"UBUNTU-CVE-2024-{i}","details":"{details}","aliases":[],
                "upstream":["CVE-2024-{i}"],"severity":[{{"type":"Ubuntu","score":"medium"}},
                {{"type":"CVSS_V3","score":"CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H"}}],
                "published":"2024-07-04T00:00:00Z","modified":"2024-07-04T00:00:00Z",
                "affected":[{{"package":{{"ecosystem":"Ubuntu:22.04:LTS","name":"linux","purl":"pkg:deb/ubuntu/linux"}},
                  "ranges":[{{"type":"ECOSYSTEM","events":[{{"introduced":"0"}}]}}],"versions":[{}],
                  "ecosystem_specific":{{"binaries":[{{"binary_name":"linux-image","binary_version":"5.15.0-1.1"}}]}}}}]}}"#,
                versions.join(",")
            )
        }
        _ => format!(
            r#"{{"id":"ALSA-2024:{i}","summary":"Important: pkg{i} security update","modified":"2024-03-01T00:00:00Z",
            "severity":[{{"type":"CVSS_V3","score":"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}}],
            "affected":[{{"package":{{"ecosystem":"AlmaLinux:9","name":"pkg{i}"}},
              "ranges":[{{"type":"ECOSYSTEM","events":[{{"introduced":"0"}},{{"fixed":"2:1.{i}-3.el9_4"}}]}}]}}],
            "database_specific":{{"severity":"Important"}}}}"#
        ),
    }
}

fn write_zip(path: &Path) -> u64 {
    let mut zip = zip::ZipWriter::new(fs::File::create(path).unwrap());
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for i in 0..RECORDS {
        zip.start_file(format!("R-{i}.json"), options).unwrap();
        zip.write_all(record(i).as_bytes()).unwrap();
    }
    zip.finish().unwrap();
    fs::metadata(path).unwrap().len()
}

fn write_dir(dir: &Path) {
    for i in 0..RECORDS {
        let sub = dir.join(format!("{}", i % 100));
        if i < 100 {
            fs::create_dir_all(&sub).unwrap();
        }
        fs::write(sub.join(format!("R-{i}.json")), record(i)).unwrap();
    }
}

fn once(label: &str, source: &str, opts: &LoadOptions<'_>) {
    let start = Instant::now();
    let feed = load(source, opts).unwrap();
    let took = start.elapsed();
    assert_eq!(feed.problems, []);
    println!(
        "{label}: {} records -> {} advisories in {:.2?} ({:.0} records/s, {} thread(s))",
        feed.stats.records_read,
        feed.advisories.len(),
        took,
        feed.stats.records_read as f64 / took.as_secs_f64(),
        opts.threads,
    );
}

fn main() {
    let tmp = tempfile::tempdir().unwrap();
    let zip = tmp.path().join("all.zip");
    let size = write_zip(&zip);
    let dir = tmp.path().join("tree");
    write_dir(&dir);
    println!("generated {RECORDS} records: zip {} MiB", size >> 20);
    let secdb = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/testdata/alpine-secdb");
    assert!(
        secdb.is_dir(),
        "shared test data not found at {}",
        secdb.display()
    );

    let zip = zip.to_str().unwrap().to_owned();
    let dir = dir.to_str().unwrap().to_owned();
    let secdb = secdb.to_str().unwrap().to_owned();
    for threads in [1, 2] {
        let opts = LoadOptions {
            threads,
            ..LoadOptions::default()
        };
        once("zip", &zip, &opts);
        once("directory", &dir, &opts);
    }

    let opts = LoadOptions::default();
    let mut c = Criterion::default().sample_size(10).configure_from_args();
    let mut group = c.benchmark_group("load");
    group.throughput(Throughput::Elements(RECORDS as u64));
    group.bench_function("zip_100k", |b| {
        b.iter(|| black_box(load(&zip, &opts).unwrap()))
    });
    group.bench_function("dir_100k", |b| {
        b.iter(|| black_box(load(&dir, &opts).unwrap()))
    });
    group.throughput(Throughput::Elements(1182 + 1204));
    group.bench_function("alpine_secdb_2_files", |b| {
        b.iter(|| black_box(load(&secdb, &opts).unwrap()))
    });
    group.finish();
    c.final_summary();
}
