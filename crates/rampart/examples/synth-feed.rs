//! Writes the benchmarks' synthetic feed (100,000 advisories over this machine's real
//! source packages) as an OSV `all.zip`, for timing `rampart scan` end to end:
//!
//! `cargo run --release -p rampart --example synth-feed -- /tmp/synth-all.zip`

#[path = "../benches/synth.rs"]
mod synth;

use std::io::Write;

fn main() -> anyhow::Result<()> {
    let out = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "synth-all.zip".into());
    let count: usize = std::env::args()
        .nth(2)
        .map(|n| n.parse())
        .transpose()?
        .unwrap_or(100_000);
    let mut rng = synth::Rng::new(0x5eed);
    let (release, base) = synth::base();
    let sources = synth::sources(&base);
    let mut zip = zip::ZipWriter::new(std::fs::File::create(&out)?);
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for k in 0..count {
        let a = synth::advisory(&release, &sources, k, &mut rng);
        zip.start_file(format!("{}.json", a.id), opts)?;
        zip.write_all(&serde_json::to_vec(&synth::osv_json(&a))?)?;
    }
    zip.finish()?;
    eprintln!("wrote {count} advisories for {release} to {out}");
    Ok(())
}
