//! Smoke run.
use resyn_core::Environment;
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let t = std::time::Instant::now();
    let sb = resyn_sandbox::Sandbox::probe(Default::default())?;
    println!("{}", sb.enforcement().to_text());
    println!("probe {:?}", t.elapsed());
    let env = sb.load(
        std::env::args()
            .nth(1)
            .unwrap_or("tests/fixtures/good/add.py".into()),
    )?;
    println!("{:?} {:?}", env.meta(), t.elapsed());
    let inst = env.generate(1, 3)?;
    println!("{}", serde_json::to_string_pretty(&inst)?);
    println!("{:?}", env.verify(&inst, &inst.reference));
    println!("{:?}", env.verify(&inst, "<answer>5</answer>"));
    Ok(())
}
